/**
 * Opens the process's one context (src/context/process-context.ts) inside the plugin tree and closes it last (it is
 * registered first): `app.context` for the enrichment plugin, the alert worker and the scheduled feed job, so they
 * share one Redis connection, one metrics registry (what /metrics shows) and one logger.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { ServiceConfig } from '../../config/env.js'
import { openProcessContext, type ProcessContext } from '../../context/process-context.js'

declare module 'fastify' {
  interface FastifyInstance {
    context: ProcessContext
  }
}

export default fp(
  async function processContext(app: FastifyInstance, opts: { config: ServiceConfig; userAgent: string }) {
    // buildApp hands Fastify a pino instance: app.log is that pino.
    const context = await openProcessContext({
      config: opts.config,
      log: app.log as unknown as Logger,
      userAgent: opts.userAgent,
      processMetrics: true,
    })
    app.decorate('context', context)
    app.addHook('onClose', async () => context.close())
  },
  { name: 'process-context' },
)
