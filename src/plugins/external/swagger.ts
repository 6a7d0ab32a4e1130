/** @fastify/swagger + swagger-ui: OpenAPI docs generated from the routes' TypeBox schemas, served at /docs. */
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

export default fp(
  async function openApi(app: FastifyInstance, opts: { title: string; version: string; description: string }) {
    await app.register(swagger, {
      openapi: {
        info: { title: opts.title, version: opts.version, description: opts.description },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'RUN_TOKEN, when the service sets one' },
          },
        },
      },
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'openapi' },
)
