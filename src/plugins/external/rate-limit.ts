/**
 * Per-client rate limit on POST /run (RUN_RATE_LIMIT, keyed by IP address): one runaway playbook loop must not
 * use up the vendors' quotas that every other caller shares. Health, docs and metrics stay unlimited.
 * Over the limit: 429 in the app's error shape (code TOO_MANY_REQUESTS) with Retry-After.
 */
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, RouteOptions, onRequestHookHandler } from 'fastify'
import { AppError } from '../../errors.js'
import { formatRateLimit, type RateLimit } from '../../config/rate-limit.js'

export const RATE_LIMITED_ROUTE = { method: 'POST', url: '/run' } as const

const asList = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks])

const isLimitedRoute = (route: RouteOptions): boolean =>
  route.url === RATE_LIMITED_ROUTE.url && asList(route.method).includes(RATE_LIMITED_ROUTE.method)

export default fp(
  async function runRateLimit(app: FastifyInstance, opts: { limit: RateLimit | undefined }) {
    const { limit } = opts
    if (limit === undefined) return
    await app.register(rateLimit, { global: false })
    const limiter = app.rateLimit({
      max: limit.requests,
      timeWindow: limit.perMs,
      errorResponseBuilder: (_req, ctx) =>
        new AppError('TOO_MANY_REQUESTS', `this client is over the limit of ${formatRateLimit(limit)} calls to /run; retry in ${ctx.after}`, ''),
    })
    // First of the route's onRequest hooks, so the limit also holds for callers that fail the bearer check.
    app.addHook('onRoute', (route) => {
      if (isLimitedRoute(route)) route.onRequest = [limiter as onRequestHookHandler, ...asList(route.onRequest)]
    })
  },
  { name: 'run-rate-limit' },
)
