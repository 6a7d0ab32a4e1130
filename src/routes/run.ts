/**
 * POST /run: parse (the body schema is derived from the params; the query string and vendor key headers add to the
 * body, unset inputs dropped first), run the pipeline
 * (src/enrich/run.ts), reply. A failed run (exitCode 1) answers a non-2xx status carrying the same reply, so a
 * playbook's HTTP Client step fails through its own failure handling.
 */
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { Type } from 'typebox'
import { AppError } from '../errors.js'
import { deriveRunBodySchema } from '../contract/request-schema.js'
import { outputSelector } from '../contract/output-selection.js'
import { paramsOfRequest } from '../contract/request-params.js'
import { withoutUnsetParams } from '../contract/unset-params.js'
import type { RunBody } from '../contract/run-body.generated.js'
import { runEnrichment } from '../enrich/run.js'
import { makeBearerAuth } from '../plugins/app/run-auth.js'
import { verdictListener } from '../plugins/app/alerts.js'
import { ErrorReply } from '../schemas/error.js'
import { deriveRunReplySchema } from '../schemas/run.js'

/** Not a param of the contract: which declared outputs the reply carries (tc_playbook_out_variables' role). */
const OutputsField = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
  minItems: 1,
  maxItems: 500,
  description:
    'The outputs the reply carries: exact names, or a prefix ending in `.*` (e.g. `enrich.results.asn.*`). Default: every declared output.',
})

type RunRouteBody = RunBody & { readonly outputs?: readonly string[] }

export default async function runRoute(app: FastifyInstance): Promise<void> {
  const ctx = app.enrichment
  const body = deriveRunBodySchema(ctx.contract.config, ctx.config, { outputs: Type.Optional(OutputsField) })
  const replySchema = deriveRunReplySchema(ctx.outputs)
  const selectOutputs = outputSelector(ctx.outputs)
  const onResults = verdictListener(app)
  const keyParams = ctx.contract.config.params.filter((p) => p.encrypt === true).map((p) => p.name)
  const auth = makeBearerAuth({
    token: ctx.config.runToken,
    setting: 'RUN_TOKEN',
    failureLimit: ctx.config.authFailureLimit,
    quota: ctx.shared.quota,
  })
  app.post<{ Body: RunRouteBody }>(
    '/run',
    {
      // Params from the body, the query string and the key headers as one; "" and "<null>" (an unset playbook
      // variable) mean "not set": dropped before the schema sees them.
      preValidation: (request, _reply, done) => {
        try {
          const params = paramsOfRequest(request.body, request.query, request.headers, keyParams)
          request.body = withoutUnsetParams(params) as RunRouteBody
          done()
        } catch (err) {
          done(err as Error)
        }
      },
      onRequest: auth,
      schema: {
        summary: 'Enrich one indicator or an array of them',
        description:
          'Answers with the outputs app.config.json declares (or those `outputs` names). Source failures are reported per source; a run that failed as a whole (fail_on_error, fail_on_no_results) answers 502 or 404 with the same reply.',
        body,
        response: { 200: replySchema, 404: replySchema, 502: replySchema, '4xx': ErrorReply, '5xx': ErrorReply },
        ...(ctx.config.runToken ? { security: [{ bearer: [] }] } : {}),
      },
      // The reply is built from declared outputs only; plain JSON.stringify keeps /run fast (no anyOf serialiser).
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      let outputs
      if (request.body.outputs !== undefined) {
        const selection = selectOutputs(request.body.outputs)
        if (!selection.ok)
          throw new AppError(
            'INVALID_PARAM',
            `outputs: not outputs of this service: ${selection.unknown.join(', ')}`,
            'outputs',
          )
        outputs = selection.index
      }
      const socket = reply.raw
      const { status, reply: answer } = await runEnrichment(request.body, ctx, {
        // The app's logger is pino (buildApp passes a pino instance), so request.log is a pino child.
        log: request.log as unknown as Logger,
        watchCaller: (gone) => {
          const onClose = (): void => {
            if (!socket.writableFinished) gone()
          }
          socket.once('close', onClose)
          return () => socket.off('close', onClose)
        },
        ...(outputs !== undefined ? { outputs } : {}),
        ...(onResults !== undefined ? { onResults } : {}),
      })
      return reply.code(status).send(answer)
    },
  )

  // Only POST runs: any other method on /run says so (405, with Allow) rather than "no such route".
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url: '/run',
    schema: { hide: true },
    handler: async (request, reply) => {
      void reply.header('allow', 'POST')
      throw new AppError(
        'METHOD_NOT_ALLOWED',
        `${request.method} /run is not supported; send POST /run with a JSON body`,
        '',
      )
    },
  })
}
