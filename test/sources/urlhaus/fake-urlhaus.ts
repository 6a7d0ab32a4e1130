/**
 * A fake URLhaus API on 127.0.0.1: the three form-encoded POST endpoints (trailing slashes included), the
 * Auth-Key check (401 without a key, 403 with a wrong one) and "always 200 with query_status" answers.
 */
import { startFakeVendor, type FakeHandler, type FakeVendor } from '../../helpers/fake-vendor.js'

export const URLHAUS_TEST_KEY = 'urlhaus-test-key'

export const URLHAUS_PATHS = { url: '/v1/url/', host: '/v1/host/', payload: '/v1/payload/' } as const

/** Answers the fake knows, by the form value it is asked about; anything else gets no_results. */
export interface UrlhausKnown {
  readonly urls?: Readonly<Record<string, unknown>>
  readonly hosts?: Readonly<Record<string, unknown>>
  /** Keyed by md5 or sha256. */
  readonly payloads?: Readonly<Record<string, unknown>>
}

export interface FakeUrlhaus {
  readonly vendor: FakeVendor
  readonly url: string
  /** The normal handler of each endpoint, to put after scripted replies (e.g. a 429 first). */
  readonly handlers: Readonly<Record<keyof typeof URLHAUS_PATHS, FakeHandler>>
}

const authorised =
  (answer: FakeHandler): FakeHandler =>
  (req) => {
    const key = req.headers['auth-key']
    if (key === undefined)
      return { status: 401, json: { query_status: 'unauthorized', error: 'Auth-Key header missing' } }
    if (key !== URLHAUS_TEST_KEY) return { status: 403, json: { query_status: 'unknown_auth_key' } }
    return answer(req)
  }

const lookup = (known: Readonly<Record<string, unknown>> | undefined, value: string | undefined): unknown =>
  (value !== undefined ? known?.[value] : undefined) ?? { query_status: 'no_results' }

export const startFakeUrlhaus = async (
  t: { teardown(fn: () => unknown): void },
  known: UrlhausKnown,
): Promise<FakeUrlhaus> => {
  const vendor = await startFakeVendor(t)
  const handlers = {
    url: authorised((req) =>
      req.form?.['url'] === undefined
        ? { json: { query_status: 'invalid_url' } }
        : { json: lookup(known.urls, req.form['url']) },
    ),
    host: authorised((req) => ({ json: lookup(known.hosts, req.form?.['host']) })),
    payload: authorised((req) => {
      const hash = req.form?.['md5_hash'] ?? req.form?.['sha256_hash']
      return hash === undefined
        ? { json: { query_status: 'no_hash_provided' } }
        : { json: lookup(known.payloads, hash) }
    }),
  }
  vendor.route('POST', URLHAUS_PATHS.url, handlers.url)
  vendor.route('POST', URLHAUS_PATHS.host, handlers.host)
  vendor.route('POST', URLHAUS_PATHS.payload, handlers.payload)
  return { vendor, url: vendor.url, handlers }
}
