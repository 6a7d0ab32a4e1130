/**
 * Load shedding (@fastify/under-pressure): while the event loop lags more than MAX_EVENT_LOOP_DELAY_MS, every
 * request, /health included, gets 503 UNAVAILABLE with Retry-After, so callers back off and a load balancer
 * stops sending work, instead of every request slowing down until all of them time out.
 */
import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { performance } from 'node:perf_hooks'
import { AppError } from '../../errors.js'

const PRESSURE_RETRY_AFTER_SECONDS = 10
/** How often the event-loop delay is sampled. */
const PRESSURE_SAMPLE_INTERVAL_MS = 1000

export default fp(
  async function loadShedding(app: FastifyInstance, opts: { maxEventLoopDelayMs: number }) {
    if (opts.maxEventLoopDelayMs <= 0) return
    // Start-up itself (datasets, schema compilation) stalls the loop, and the first samples would count that as
    // overload: ignore pressure until two samples have been taken after the app is ready.
    let judgeFrom = Number.POSITIVE_INFINITY
    app.addHook('onReady', async () => {
      judgeFrom = performance.now() + 2 * PRESSURE_SAMPLE_INTERVAL_MS
    })
    await app.register(underPressure, {
      maxEventLoopDelay: opts.maxEventLoopDelayMs,
      sampleInterval: PRESSURE_SAMPLE_INTERVAL_MS,
      retryAfter: PRESSURE_RETRY_AFTER_SECONDS,
      // Rejecting hands the error to the app's error handler, so the 503 has the app's error shape.
      pressureHandler: async (_req, reply: FastifyReply, _type, value) => {
        if (performance.now() < judgeFrom) return
        reply.header('retry-after', String(PRESSURE_RETRY_AFTER_SECONDS))
        throw new AppError(
          'UNAVAILABLE',
          `the service is overloaded (event loop ${Math.round(Number(value))} ms behind); retry in ${PRESSURE_RETRY_AFTER_SECONDS} s`,
          '',
        )
      },
    })
  },
  { name: 'load-shedding' },
)
