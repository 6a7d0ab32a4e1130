/** Builds an instrumented client for tests, with its pino output captured and its metrics at hand. */
import { Writable } from 'node:stream'
import pino from 'pino'
import { loadServiceConfig, type ServiceConfig } from '../../src/config/env.js'
import { createHttpClientFactory } from '../../src/http/client.js'
import type { HttpClient, HttpClientSettings } from '../../src/http/types.js'
import { Metrics } from '../../src/metrics.js'
import type { SourceError } from '../../src/errors.js'

export const USER_AGENT = 'TestEnrich/1.2.3'

/** The service defaults (as with an empty environment), with test overrides. */
export const testConfig = (overrides: Partial<ServiceConfig> = {}): ServiceConfig => ({
  ...loadServiceConfig({}, []),
  ...overrides,
})

export interface ClientUnderTest {
  readonly client: HttpClient
  readonly metrics: Metrics
  /** Everything pino wrote, raw. */
  readonly logText: () => string
  /** Parsed log lines. */
  readonly logLines: () => Record<string, unknown>[]
}

interface Teardownable {
  teardown(fn: () => unknown): void
}

/** Fast defaults for tests: small backoff, short timeouts; override per test. */
export const clientUnderTest = (
  t: Teardownable,
  settings: Partial<HttpClientSettings> & { readonly baseUrl: string },
  config: Partial<ServiceConfig> = {},
  logLevel: 'debug' | 'info' | 'warn' = 'debug',
): ClientUnderTest => {
  const chunks: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'))
      done()
    },
  })
  const log = pino({ level: logLevel }, sink)
  const metrics = new Metrics()
  const client = createHttpClientFactory({
    config: testConfig(config),
    log,
    metrics,
    userAgent: USER_AGENT,
    random: () => 1,
  })({
    sourceId: 'vendor',
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    timeouts: { connectMs: 1000, responseMs: 1000, totalMs: 2000 },
    ...settings,
  })
  t.teardown(() => client.close())
  const logText = (): string => chunks.join('')
  return {
    client,
    metrics,
    logText,
    logLines: () =>
      logText()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}

/** The SourceError a call rejects with (fails the test if it resolves). */
export const failureOf = async (p: Promise<unknown>): Promise<SourceError> => {
  try {
    await p
  } catch (err) {
    return err as SourceError
  }
  throw new Error('expected the call to fail, but it resolved')
}
