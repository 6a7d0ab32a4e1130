/**
 * Per-caller rate limit on POST /run (RUN_RATE_LIMIT): one runaway playbook loop must not use up the vendors'
 * quotas that every other caller shares. A caller is its bearer token when it sends one (by fingerprint), else its
 * address (the forwarded one only from a TRUST_PROXY load balancer). With Redis the count is shared by every
 * replica; should Redis not answer, the call is let through rather than refused. Health, docs and metrics stay
 * unlimited. Over the limit: 429 in the app's error shape (code TOO_MANY_REQUESTS) with Retry-After.
 */
import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest, RouteOptions, onRequestHookHandler } from 'fastify'
import type { Redis } from 'ioredis'
import { AppError } from '../../errors.js'
import { formatRateLimit, type RateLimit } from '../../config/rate-limit.js'

const RATE_LIMITED_ROUTE = { method: 'POST', url: '/run' } as const

const BEARER = /^Bearer\s+(\S+)\s*$/i

/** The bearer token's fingerprint when the call carries one (never the token), else the client's address. */
const callerOf = (request: FastifyRequest): string => {
  const token = BEARER.exec(request.headers.authorization ?? '')?.[1]
  return token === undefined
    ? `ip:${request.ip}`
    : `token:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`
}

const asList = <T>(hooks: T | T[] | undefined): T[] =>
  hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]

const isLimitedRoute = (route: RouteOptions): boolean =>
  route.url === RATE_LIMITED_ROUTE.url && asList(route.method).includes(RATE_LIMITED_ROUTE.method)

export default fp(
  async function runRateLimit(
    app: FastifyInstance,
    opts: { limit: RateLimit | undefined; redis?: Redis | undefined; prefix?: string },
  ) {
    const { limit } = opts
    if (limit === undefined) return
    await app.register(rateLimit, {
      global: false,
      ...(opts.redis ? { redis: opts.redis, nameSpace: `${opts.prefix ?? ''}run-limit:`, skipOnError: true } : {}),
    })
    const limiter = app.rateLimit({
      max: limit.requests,
      timeWindow: limit.perMs,
      keyGenerator: callerOf,
      errorResponseBuilder: (_req, ctx) =>
        new AppError(
          'TOO_MANY_REQUESTS',
          `this client is over the limit of ${formatRateLimit(limit)} calls to /run; retry in ${ctx.after}`,
          '',
        ),
    })
    // First of the route's onRequest hooks, so the limit also holds for callers that fail the bearer check.
    app.addHook('onRoute', (route) => {
      if (isLimitedRoute(route)) route.onRequest = [limiter as onRequestHookHandler, ...asList(route.onRequest)]
    })
  },
  { name: 'run-rate-limit' },
)
