/** Starts an isolated service instance for a test (fastify.inject, no port), closed at teardown. */
import type { Test } from 'tap'
import { pino } from 'pino'
import { Writable } from 'node:stream'
import { buildApp, type BuildAppOptions } from '../../src/app.js'
import { loadServiceConfig } from '../../src/config/env.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'
import { TEST_SNAPSHOT_DIR } from './snapshot-dir.js'

export interface TestApp {
  readonly app: Awaited<ReturnType<typeof buildApp>>
  /** Every log line the instance wrote, parsed. */
  readonly logs: Record<string, unknown>[]
}

export const startApp = async (
  t: Test,
  env: Record<string, string> = {},
  options: Omit<BuildAppOptions, 'config'> = {},
): Promise<TestApp> => {
  const sources = options.sources ?? SOURCE_DEFINITIONS
  // Load shedding is off unless a test turns it on (test/hardening/plugins.test.ts): on a busy CI machine the
  // event loop of a test process can lag for reasons that have nothing to do with the test.
  const config = loadServiceConfig(
    { LOG_LEVEL: 'info', MAX_EVENT_LOOP_DELAY_MS: '0', ASN_SNAPSHOT_DIR: TEST_SNAPSHOT_DIR, ...env },
    sources,
  )
  const logs: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  const app = await buildApp({ config, logger: pino({ level: config.logLevel }, sink), ...options, sources })
  t.teardown(() => app.close())
  return { app, logs }
}
