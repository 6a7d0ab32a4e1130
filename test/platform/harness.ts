/** Shared test set-up: a sandbox on 127.0.0.1 and platform clients built through the real HTTP client. */
import { createServer } from 'node:net'
import { pino } from 'pino'
import { loadServiceConfig } from '../../src/config/env.js'
import { createHttpClientFactory } from '../../src/http/client.js'
import { Metrics } from '../../src/metrics.js'
import { createPlatformClientPool, type PlatformClient, type PlatformClientOptions } from '../../src/platform/client.js'
import type { PlatformCredentials } from '../../src/platform/hmac.js'
import { resolvePlatformSettings } from '../../src/config/platform.js'
import { buildSandbox, type SandboxApp, type SandboxOptions } from '../../tools/tc-sandbox/app.js'

export const ACCESS_ID = 'sandbox-access-id'
export const SECRET_KEY = 'sandbox-secret-key'
export const TOKEN = 'sandbox-token'
export const OWNERS = ['Acme Org', 'Acme Community'] as const

export const HMAC: PlatformCredentials = { kind: 'hmac', accessId: ACCESS_ID, secretKey: SECRET_KEY }

interface Teardown {
  teardown(fn: () => unknown): void
}

export const startSandbox = async (
  t: Teardown,
  options: Partial<SandboxOptions> = {},
): Promise<{ app: SandboxApp; url: string }> => {
  const app = buildSandbox({
    accessId: ACCESS_ID,
    secretKey: SECRET_KEY,
    token: TOKEN,
    owners: [...OWNERS],
    ...options,
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return { app, url }
}

/** A URL on 127.0.0.1 where nothing listens (a port that was free a moment ago). */
export const closedPortUrl = async (): Promise<string> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

const log = pino({ level: 'silent' })

/** A PlatformClient through the real instrumented HttpClient, as the service will build it. */
export const platformClient = (
  t: Teardown,
  apiPath: string,
  options: { credentials?: PlatformCredentials; extra?: Pick<PlatformClientOptions, 'now' | 'pageSize'> } = {},
): PlatformClient => {
  const config = loadServiceConfig({}, [])
  const factory = createHttpClientFactory({ config, log, metrics: new Metrics(), userAgent: 'tc-enrich-test/1.0' })
  const pool = createPlatformClientPool(
    factory,
    { retry: { limit: 1, baseDelayMs: 10, maxDelayMs: 20 } },
    options.extra ?? {},
  )
  t.teardown(() => pool.close())
  const credentials = options.credentials ?? HMAC
  const values =
    credentials.kind === 'hmac'
      ? { apiPath, accessId: credentials.accessId, secretKey: credentials.secretKey }
      : { apiPath, token: credentials.token }
  const { settings } = resolvePlatformSettings(values)
  if (!settings.configured) throw new Error(settings.reason)
  return pool.clientFor(settings)
}
