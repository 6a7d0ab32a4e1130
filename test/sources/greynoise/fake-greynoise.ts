/**
 * A fake GreyNoise Community API on 127.0.0.1: GET /v3/community/<ip>. Without a `key` header it answers (the
 * unauthenticated community tier); with a wrong one, 401. Known addresses get their recorded body, others the
 * 404 "not observed" JSON. `fake.next(...)` queues one-off replies served first.
 */
import { readFileSync } from 'node:fs'
import { startFakeVendor, type FakeReply, type FakeVendor } from '../../helpers/fake-vendor.js'

export const GOOD_KEY = 'greynoise-test-key-0123456789'
const COMMUNITY_PREFIX = '/v3/community/'

export const gnBody = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8')) as unknown

export interface FakeGreynoise {
  readonly vendor: FakeVendor
  /** What GREYNOISE_BASE_URL would hold. */
  readonly baseUrl: string
  address(ip: string, body: unknown): void
  next(...replies: FakeReply[]): void
}

export const startFakeGreynoise = async (t: { teardown(fn: () => unknown): void }): Promise<FakeGreynoise> => {
  const vendor = await startFakeVendor(t)
  const addresses = new Map<string, unknown>()
  const queued: FakeReply[] = []
  vendor.route('GET', /^\/v3\/community\/[^/]+$/, (req) => {
    const once = queued.shift()
    if (once) return once
    const key = req.headers['key']
    if (key !== undefined && key !== GOOD_KEY) return { status: 401, json: gnBody('auth-failed') }
    const ip = decodeURIComponent(req.path.slice(COMMUNITY_PREFIX.length))
    const body = addresses.get(ip)
    if (body !== undefined) return { json: body }
    const notObserved = gnBody('not-observed') as Record<string, unknown>
    return { status: 404, json: { ...notObserved, ip } }
  })
  return {
    vendor,
    baseUrl: vendor.url,
    address: (ip, body) => void addresses.set(ip, body),
    next: (...replies) => void queued.push(...replies),
  }
}
