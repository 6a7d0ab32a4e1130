/** GET /metrics: per-source counters in Prometheus text format. */
import type { FastifyInstance } from 'fastify'
import { PROMETHEUS_CONTENT_TYPE } from '../metrics.js'

export default async function metricsRoute(app: FastifyInstance): Promise<void> {
  const { metrics } = app.enrichment
  app.get('/metrics', { schema: { summary: 'Per-source request, failure, retry, throttle and cache counters (Prometheus)' } }, async (_req, reply) =>
    reply.type(PROMETHEUS_CONTENT_TYPE).send(metrics.render()),
  )
}
