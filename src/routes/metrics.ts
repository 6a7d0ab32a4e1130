/** GET /metrics: the app's metrics (sources, platform, latencies, process) in Prometheus text format. */
import type { FastifyInstance } from 'fastify'
import { PROMETHEUS_CONTENT_TYPE } from '../metrics.js'

export default async function metricsRoute(app: FastifyInstance): Promise<void> {
  const { metrics } = app.enrichment
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Source and platform counters, /run, source and write-back latencies, process metrics (Prometheus)',
      },
    },
    async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(await metrics.render()),
  )
}
