/**
 * A fake AlienVault OTX API on 127.0.0.1: GET /api/v1/indicators/{section}/{value}/general with the
 * X-OTX-API-KEY check (403 with a wrong key). Unknown values get OTX's usual 200 with pulse count 0.
 */
import { startFakeVendor, type FakeHandler, type FakeVendor } from '../../helpers/fake-vendor.js'

export const OTX_TEST_KEY = 'otx-test-key'
export const OTX_GENERAL_PATH = /^\/api\/v1\/indicators\/(IPv4|IPv6|domain|hostname|url|file)\/([^/]+)\/general$/

export interface FakeOtx {
  readonly vendor: FakeVendor
  readonly url: string
  /** The normal handler, to put after scripted replies (e.g. a 429 first). */
  readonly handler: FakeHandler
}

const nothing = (section: string, value: string): unknown => ({
  indicator: value,
  type: section,
  validation: [],
  pulse_info: { count: 0, pulses: [], references: [], related: {} },
  false_positive: [],
})

/** `known` maps "<section>/<decoded value>" to its answer; `missing` lists the same keys answered with 404. */
export const startFakeOtx = async (
  t: { teardown(fn: () => unknown): void },
  known: Readonly<Record<string, unknown>>,
  missing: readonly string[] = [],
): Promise<FakeOtx> => {
  const vendor = await startFakeVendor(t)
  const handler: FakeHandler = (req) => {
    if (req.headers['x-otx-api-key'] !== OTX_TEST_KEY) {
      return { status: 403, json: { detail: 'Authentication credentials were not provided.' } }
    }
    const m = OTX_GENERAL_PATH.exec(req.path)
    if (!m) return { status: 404, json: { detail: 'Not found.' } }
    const section = m[1] as string
    const value = decodeURIComponent(m[2] as string)
    const key = `${section}/${value}`
    if (missing.includes(key)) return { status: 404, json: { detail: 'Not found.' } }
    return { json: known[key] ?? nothing(section, value) }
  }
  vendor.route('GET', OTX_GENERAL_PATH, handler)
  return { vendor, url: vendor.url, handler }
}
