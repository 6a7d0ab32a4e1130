/** Makes the instance's EnrichmentContext available to routes as `app.enrichment`, and closes its sources on close. */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { EnrichmentContext } from '../../enrichment-context.js'

declare module 'fastify' {
  interface FastifyInstance {
    enrichment: EnrichmentContext
  }
}

export default fp(
  async function enrichment(app: FastifyInstance, opts: { context: EnrichmentContext }) {
    app.decorate('enrichment', opts.context)
    app.addHook('onClose', async () => {
      opts.context.platform.close()
      await opts.context.runtime.close()
      await opts.context.shared.close()
    })
  },
  { name: 'enrichment' },
)
