/**
 * GET /status: the page a SOC engineer looks at; GET /status.json: the figures it draws (and a test or a script
 * reads). Both answer only to a loopback name or PUBLIC_URL's host (DNS rebinding). The figures are shown to clients
 * on this machine; from elsewhere only with STATUS_TOKEN (failed tokens limited per address, as /run's). The page and
 * its files hold no data and need no token: the page asks for it once when /status.json says so.
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { isLoopbackHost } from '../config/env.js'
import { AppError } from '../errors.js'
import { makeHostCheck } from '../plugins/app/host-check.js'
import { makeBearerAuth } from '../plugins/app/run-auth.js'
import { ErrorReply } from '../schemas/error.js'
import { StatusReply } from '../schemas/status.js'
import { collectStatus, makePersistenceWarning } from './status-data.js'
import { STATUS_CSS, STATUS_HTML, STATUS_JS } from './status-page.js'

/** uPlot's files, read once from the package (the service serves them itself: no CDN). */
const uplotFile = (name: string): string =>
  readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${name}`), 'utf8')

export default async function statusRoutes(app: FastifyInstance): Promise<void> {
  const { config, shared } = app.enrichment
  const startedAt = Date.now()
  const persistenceWarning = makePersistenceWarning(shared.store)
  const checkHost = makeHostCheck(config.publicUrl)
  const bearer = makeBearerAuth({
    token: config.statusToken,
    setting: 'STATUS_TOKEN',
    failureLimit: config.authFailureLimit,
    quota: shared.quota,
  })
  const assets = new Map<string, { type: string; body: string }>([
    ['status.js', { type: 'text/javascript; charset=utf-8', body: STATUS_JS }],
    ['status.css', { type: 'text/css; charset=utf-8', body: STATUS_CSS }],
    ['uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: uplotFile('uPlot.iife.min.js') }],
    ['uPlot.min.css', { type: 'text/css; charset=utf-8', body: uplotFile('uPlot.min.css') }],
  ])

  const hostOnly = async (request: FastifyRequest): Promise<void> => checkHost(request)
  /** Loopback clients see it without a token unless STATUS_TOKEN is set; anyone else needs the token. */
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    checkHost(request)
    if (config.statusToken === undefined) {
      if (isLoopbackHost(request.ip)) return
      throw new AppError(
        'STATUS_LOCKED',
        'the status is shown off this machine only with a token: set STATUS_TOKEN on the service and send it',
        'authorization',
      )
    }
    for (const check of bearer) await check.call(app, request, reply)
  }

  app.get('/status', { schema: { hide: true }, onRequest: hostOnly }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(STATUS_HTML),
  )
  app.get<{ Params: { file: string } }>(
    '/status/assets/:file',
    { schema: { hide: true }, onRequest: hostOnly },
    async (request, reply) => {
      const asset = assets.get(request.params.file)
      if (asset === undefined) throw new AppError('NOT_FOUND', `no status page file '${request.params.file}'`, 'file')
      return reply.type(asset.type).header('cache-control', 'max-age=300').send(asset.body)
    },
  )
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/status.json',
    {
      onRequest: guard,
      schema: {
        summary: 'The status page figures: sources, runs, feeds, alerts, the shared store, warnings',
        security: [{ bearer: [] }],
        response: { 200: StatusReply, 401: ErrorReply, 403: ErrorReply, 421: ErrorReply, 429: ErrorReply },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'no-store')
      return collectStatus(app, startedAt, persistenceWarning)
    },
  )
}
