/**
 * Security headers on every reply, as @fastify/helmet sets them. The content security policy is helmet's default
 * minus upgrade-insecure-requests: the service is often reached over plain HTTP inside a network, and that
 * directive would make a browser fetch the /docs page's scripts over HTTPS and fail. Swagger UI loads only its own
 * script and style files (plus inline styles and data: images), which the default policy allows.
 *
 * @fastify/helmet rebuilds helmet's middleware (re-parsing the policy) on every request, about 4% of a /run's
 * CPU in the benchmark. The headers never vary here (no per-route options, no nonces), so they are worked out
 * once, on a throwaway instance with the plugin, and then set from a constant.
 */
import fp from 'fastify-plugin'
import Fastify, { type FastifyInstance } from 'fastify'
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet'

export const HELMET_OPTIONS: FastifyHelmetOptions = {
  global: true,
  contentSecurityPolicy: { useDefaults: true, directives: { 'upgrade-insecure-requests': null } },
}

/** The headers @fastify/helmet adds to a reply with these options (those a plain reply does not have). */
export const helmetHeaders = async (options: FastifyHelmetOptions): Promise<Record<string, string>> => {
  const probe = Fastify({ logger: false })
  await probe.register(helmet, options)
  probe.get('/', async () => 'probe')
  const res = await probe.inject({ method: 'GET', url: '/' })
  await probe.close()
  const plain = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive'])
  return Object.fromEntries(
    Object.entries(res.headers)
      .filter(([name]) => !plain.has(name))
      .map(([name, value]) => [name, String(value)]),
  )
}

export default fp(
  async function securityHeaders(app: FastifyInstance) {
    const headers = await helmetHeaders(HELMET_OPTIONS)
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers)
      done()
    })
  },
  { name: 'security-headers' },
)
