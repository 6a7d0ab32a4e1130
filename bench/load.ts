/** One autocannon run with precise latencies (autocannon's own histogram is whole milliseconds) and peak RSS. */
import autocannon, { type RequestSpec } from 'autocannon'
import { watchPeakRss } from './processes.js'

export interface LoadResult {
  readonly requests: number
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly non2xx: number
  readonly errors: number
  readonly peakRssMb: number
}

export interface LoadOptions {
  readonly url: string
  readonly pid: number | undefined
  readonly connections: number
  /** Seconds; or give `amount`. */
  readonly durationS?: number
  readonly amount?: number
  readonly request: RequestSpec
}

const percentile = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

export const runLoad = async (opts: LoadOptions): Promise<LoadResult> => {
  const latencies: number[] = []
  let firstAt = 0
  let lastAt = 0
  const peak = opts.pid === undefined ? () => 0 : watchPeakRss(opts.pid)
  const startedAt = performance.now()
  const instance = autocannon({
    url: opts.url,
    connections: opts.connections,
    pipelining: 1,
    timeout: 30,
    ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationS ?? 10 }),
    requests: [opts.request],
  })
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    const now = performance.now()
    // Measured from the start of the first answered request, so autocannon's own start-up is not counted.
    if (firstAt === 0) firstAt = now - responseTime
    lastAt = now
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
  })
  const result = await instance
  const elapsedS = (lastAt > firstAt ? lastAt - firstAt : performance.now() - startedAt) / 1000
  latencies.sort((a, b) => a - b)
  const total = Object.values(result.statusCodeStats).reduce((n, s) => n + Number(s.count), 0)
  return {
    requests: total,
    rps: total / elapsedS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    non2xx: result.non2xx,
    errors: result.errors,
    peakRssMb: peak(),
  }
}
