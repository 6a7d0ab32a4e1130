/**
 * A fake ThreatFox API on 127.0.0.1: POST /api/v1/ with a JSON query, the Auth-Key check (401 without or with a
 * wrong key) and ThreatFox's odd miss ("no_result" with a STRING in data).
 */
import { startFakeVendor, type FakeHandler, type FakeVendor } from '../../helpers/fake-vendor.js'

export const THREATFOX_TEST_KEY = 'threatfox-test-key'
export const THREATFOX_PATH = '/api/v1/'

export interface FakeThreatfox {
  readonly vendor: FakeVendor
  readonly url: string
  /** The normal handler, to put after scripted replies (e.g. a 429 first). */
  readonly handler: FakeHandler
}

const NO_RESULT = { query_status: 'no_result', data: 'Your search did not yield any results' }

/**
 * `known` maps a search term to its answer. Like ThreatFox, a bare IP also finds entries stored as `ip:port`
 * (and neighbours sharing the prefix), so a term is answered by the first known key it prefixes.
 */
export const startFakeThreatfox = async (
  t: { teardown(fn: () => unknown): void },
  known: Readonly<Record<string, unknown>>,
): Promise<FakeThreatfox> => {
  const vendor = await startFakeVendor(t)
  const handler: FakeHandler = (req) => {
    if (req.headers['auth-key'] !== THREATFOX_TEST_KEY) {
      return { status: 401, json: { query_status: 'unknown_auth_key' } }
    }
    const query = req.json as { query?: unknown; search_term?: unknown } | undefined
    if (query?.query !== 'search_ioc') return { json: { query_status: 'unknown_query' } }
    const term = query.search_term
    if (typeof term !== 'string' || term.length < 3) {
      return { json: { query_status: 'illegal_search_term', data: 'Your search term is not valid' } }
    }
    const hit = Object.keys(known).find((k) => k.startsWith(term))
    return { json: hit === undefined ? NO_RESULT : known[hit] }
  }
  vendor.route('POST', THREATFOX_PATH, handler)
  return { vendor, url: vendor.url, handler }
}
