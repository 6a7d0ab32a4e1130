/** GET /contract: the app.config.json and layout.json this instance runs with (secrets are never in them). */
import type { FastifyInstance } from 'fastify'

export default async function contractRoute(app: FastifyInstance): Promise<void> {
  const { contract } = app.enrichment
  app.get(
    '/contract',
    { schema: { summary: 'The contract (app.config.json and layouts/layout.json) in force' } },
    async () => ({
      config: contract.config,
      layout: contract.layout,
    }),
  )
}
