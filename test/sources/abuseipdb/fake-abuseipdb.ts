/**
 * A fake AbuseIPDB v2 on 127.0.0.1: GET /api/v2/check checks the `Key` header and answers JSON only when asked
 * with `Accept: application/json` (the real API answers HTML otherwise). Known addresses get their recorded
 * body, others the "never reported" shape. `fake.next(...)` queues one-off replies served first.
 */
import { readFileSync } from 'node:fs'
import { startFakeVendor, type FakeReply, type FakeVendor } from '../../helpers/fake-vendor.js'

export const API_PREFIX = '/api/v2'
export const GOOD_KEY = 'abuseipdb-test-key-0123456789'

export const abuseBody = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8')) as unknown

export interface FakeAbuseipdb {
  readonly vendor: FakeVendor
  /** What ABUSEIPDB_BASE_URL would hold. */
  readonly baseUrl: string
  /** Serve `body` for GET /check?ipAddress=<ip>. */
  address(ip: string, body: unknown): void
  next(...replies: FakeReply[]): void
}

const neverReported = (ip: string): unknown => {
  const body = abuseBody('check-unknown') as { data: Record<string, unknown> }
  return { data: { ...body.data, ipAddress: ip } }
}

export const startFakeAbuseipdb = async (t: { teardown(fn: () => unknown): void }): Promise<FakeAbuseipdb> => {
  const vendor = await startFakeVendor(t)
  const addresses = new Map<string, unknown>()
  const queued: FakeReply[] = []
  vendor.route('GET', `${API_PREFIX}/check`, (req) => {
    const once = queued.shift()
    if (once) return once
    if (!String(req.headers['accept'] ?? '').includes('application/json')) {
      return { headers: { 'content-type': 'text/html' }, body: '<html><body>AbuseIPDB</body></html>' }
    }
    if (req.headers['key'] !== GOOD_KEY) return { status: 401, json: abuseBody('auth-failed') }
    const ip = req.query['ipAddress'] ?? ''
    return { json: addresses.get(ip) ?? neverReported(ip) }
  })
  return {
    vendor,
    baseUrl: `${vendor.url}${API_PREFIX}`,
    address: (ip, body) => void addresses.set(ip, body),
    next: (...replies) => void queued.push(...replies),
  }
}
