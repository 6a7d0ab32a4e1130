/**
 * A fake Shodan InternetDB on 127.0.0.1: GET /<ip>, no key. Known addresses get their recorded body, others the
 * 404 {"detail":"No information available"}. `fake.next(...)` queues one-off replies served first.
 */
import { readFileSync } from 'node:fs'
import { startFakeVendor, type FakeReply, type FakeVendor } from '../../helpers/fake-vendor.js'

export const idbBody = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8')) as unknown

export interface FakeInternetdb {
  readonly vendor: FakeVendor
  /** What INTERNETDB_BASE_URL would hold. */
  readonly baseUrl: string
  address(ip: string, body: unknown): void
  next(...replies: FakeReply[]): void
}

export const startFakeInternetdb = async (t: { teardown(fn: () => unknown): void }): Promise<FakeInternetdb> => {
  const vendor = await startFakeVendor(t)
  const addresses = new Map<string, unknown>()
  const queued: FakeReply[] = []
  vendor.route('GET', /^\/[^/]+$/, (req) => {
    const once = queued.shift()
    if (once) return once
    const body = addresses.get(decodeURIComponent(req.path.slice(1)))
    return body === undefined ? { status: 404, json: idbBody('not-found') } : { json: body }
  })
  return {
    vendor,
    baseUrl: vendor.url,
    address: (ip, body) => void addresses.set(ip, body),
    next: (...replies) => void queued.push(...replies),
  }
}
