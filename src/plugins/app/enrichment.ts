/** Starts the sources on the process's context and makes enrichment's context available as `app.enrichment`. */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Contract } from '../../contract/types.js'
import { startEnrichment, type EnrichmentContext } from '../../enrich/context.js'
import type { SourceDefinition } from '../../sources/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    enrichment: EnrichmentContext
  }
}

export default fp(
  async function enrichment(
    app: FastifyInstance,
    opts: { contract: Contract; sources: readonly SourceDefinition[]; now?: () => Date },
  ) {
    const context = await startEnrichment(app.context, opts.contract, opts.sources, opts.now)
    app.decorate('enrichment', context)
    app.addHook('onClose', async () => context.runtime.close())
  },
  { name: 'enrichment', dependencies: ['process-context'] },
)
