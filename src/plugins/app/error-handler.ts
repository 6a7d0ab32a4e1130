/**
 * One place turns every error into `{ error: { code, message, field, requestId } }` with the status of its code.
 * Fastify's own errors (body too large, bad JSON, wrong content type...) get stable codes too; a 5xx never
 * shows internals: the caller gets the request id, the log gets the error.
 */
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, httpStatusOf, type ErrorCode } from '../../errors.js'
import { genericValidationError, validationToAppError } from './validation-errors.js'

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
}

const FASTIFY_MESSAGES: Partial<Record<ErrorCode, (req: FastifyRequest, limit: number) => string>> = {
  INVALID_JSON: () => 'the body is not valid JSON',
  PAYLOAD_TOO_LARGE: (_req, limit) => `the body is larger than the limit of ${limit} bytes`,
  UNSUPPORTED_MEDIA_TYPE: (req) =>
    `content type '${req.headers['content-type'] ?? ''}' is not accepted; send application/json`,
}

const toAppError = (
  error: FastifyError | AppError | Error,
  request: FastifyRequest,
  app: FastifyInstance,
): AppError => {
  if (error instanceof AppError) return error
  const fe = error as FastifyError
  if (fe.validation && request.routeOptions.url !== '/run') return genericValidationError(fe.validation)
  if (fe.validation && fe.validationContext === 'body') {
    const ctx = app.enrichment
    return validationToAppError(fe.validation, request.body, ctx.contract.config, ctx.config)
  }
  if (fe.validation) return new AppError('INVALID_PARAM', fe.message, fe.validationContext ?? '')
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined
  if (mapped)
    return new AppError(mapped, FASTIFY_MESSAGES[mapped]?.(request, app.initialConfig.bodyLimit ?? 0) ?? fe.message, '')
  if (fe.statusCode === 400 && fe instanceof SyntaxError)
    return new AppError('INVALID_JSON', 'the body is not valid JSON', '')
  if (fe.statusCode === 429) return new AppError('TOO_MANY_REQUESTS', fe.message, '')
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('INVALID_PARAM', fe.message, '')
  }
  return new AppError('INTERNAL', 'internal error; the service log has the details under this request id', '', {
    cause: error,
  })
}

const send = (reply: FastifyReply, err: AppError): FastifyReply =>
  reply
    .code(httpStatusOf(err.code))
    .type('application/json; charset=utf-8')
    .send({
      error: { code: err.code, message: err.message, field: err.field ?? '', requestId: String(reply.request.id) },
    })

export default fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const appError = toAppError(error, request, app)
      if (appError.code === 'INTERNAL') request.log.error({ err: error }, 'unhandled error')
      else request.log.info({ code: appError.code, field: appError.field }, appError.message)
      return send(reply, appError)
    })
    app.setNotFoundHandler((request, reply) =>
      send(reply, new AppError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, '')),
    )
  },
  { name: 'error-handler', dependencies: ['enrichment'] },
)
