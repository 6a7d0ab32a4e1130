/**
 * A fake VirusTotal v3 on 127.0.0.1: checks `x-apikey`, answers objects it was given (by path) with their
 * recorded bodies, and 404 NotFoundError for the rest. `fake.next(...)` queues one-off replies (429, 500, ...)
 * served before the normal behaviour.
 */
import { readFileSync } from 'node:fs'
import { startFakeVendor, type FakeReply, type FakeVendor } from '../../helpers/fake-vendor.js'

export const API_PREFIX = '/api/v3'
export const GOOD_KEY = 'vt-test-key-0123456789'

export const vtBody = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8')) as unknown

export interface FakeVirustotal {
  readonly vendor: FakeVendor
  /** What VIRUSTOTAL_BASE_URL would hold. */
  readonly baseUrl: string
  /** Serve `body` (200) for an object path like "/ip_addresses/1.2.3.4" (under /api/v3). */
  object(path: string, body: unknown): void
  next(...replies: FakeReply[]): void
}

export const startFakeVirustotal = async (t: { teardown(fn: () => unknown): void }): Promise<FakeVirustotal> => {
  const vendor = await startFakeVendor(t)
  const objects = new Map<string, unknown>()
  const queued: FakeReply[] = []
  vendor.route('GET', /^\/api\/v3\//, (req) => {
    const once = queued.shift()
    if (once) return once
    if (req.headers['x-apikey'] !== GOOD_KEY) return { status: 401, json: vtBody('wrong-key') }
    const body = objects.get(req.path.slice(API_PREFIX.length))
    return body === undefined ? { status: 404, json: vtBody('not-found') } : { json: body }
  })
  return {
    vendor,
    baseUrl: `${vendor.url}${API_PREFIX}`,
    object: (path, body) => void objects.set(path, body),
    next: (...replies) => void queued.push(...replies),
  }
}
