/**
 * ThreatConnect v3 REST client for write-back: find/create an indicator, list/create posts (notes), update
 * rating/confidence/tags/Description. Runs over the shared instrumented HttpClient; every request is signed
 * over the exact path+query it sends. Failures reject with SourceError whose message is a reason a playbook
 * author can act on.
 */
import { SourceError } from '../errors.js'
import type { IndicatorType } from '../indicators/types.js'
import type { FileHashes } from '../indicators/file-hash.js'
import { failureKindOfStatus } from '../http/failure-kind.js'
import type { HttpClient, HttpClientFactory, HttpClientSettings, HttpRequest } from '../http/types.js'
import { authHeaders, type PlatformCredentials } from './hmac.js'
import type { PlatformSettings } from '../config/platform.js'
import { keyPrint } from '../state/key-print.js'

interface PlatformAttribute {
  readonly id: number | undefined
  readonly type: string
  readonly value: string
}

export interface PlatformIndicator {
  readonly id: number
  readonly type: string
  readonly summary: string
  readonly ownerName: string | undefined
  readonly rating: number | null
  readonly confidence: number | null
  readonly tags: readonly string[]
  readonly attributes: readonly PlatformAttribute[]
  /** File indicators only: the hashes the platform knows. */
  readonly hashes: readonly string[]
  /** ISO 8601, when the platform says (listings). */
  readonly lastModified?: string
  /** The indicator's page in ThreatConnect. */
  readonly webLink?: string
}

export interface PlatformPost {
  readonly id: number
  readonly text: string
}

export interface IndicatorUpdate {
  /** 0-5 "skulls". */
  readonly rating?: number
  /** 0-100. */
  readonly confidence?: number
  /** Appended (mode "append"); existing tags stay. */
  readonly tags?: readonly string[]
  /** Appended as a Description attribute. */
  readonly description?: string
}

export interface PlatformClient {
  /** The indicator in `owner` (or the API user's organization), or null when there is none. */
  /** `hashes`: a File's every hash (from a summary); the record found may carry any of them. */
  findIndicator(
    type: IndicatorType,
    summary: string,
    owner?: string,
    hashes?: FileHashes,
  ): Promise<PlatformIndicator | null>
  /** Creates it; on the real API (and the sandbox) a POST of an existing indicator updates it instead. */
  createIndicator(type: IndicatorType, summary: string, owner?: string, hashes?: FileHashes): Promise<PlatformIndicator>
  /** Every post on the indicator, following `next` links. */
  listPosts(indicatorId: number): Promise<PlatformPost[]>
  createPost(indicatorId: number, text: string): Promise<PlatformPost>
  updateIndicator(indicatorId: number, update: IndicatorUpdate): Promise<PlatformIndicator>
  /**
   * One page of indicators matching a TQL query, oldest lastModified first (`sorting=lastModified asc`), with their
   * tags; `start` pages on. `more`: there is a next page.
   */
  queryIndicators(
    tql: string,
    options: { readonly owner?: string; readonly start: number; readonly limit: number },
  ): Promise<{ items: PlatformIndicator[]; more: boolean }>
}

export interface PlatformClientOptions {
  /** Client for reads (GET); may retry. */
  readonly http: HttpClient
  /**
   * Client for POST/PUT. Should not retry: a retried POST whose first try did land would post the note twice.
   * Defaults to `http`.
   */
  readonly writeHttp?: HttpClient
  /** The same base URL the HttpClient was built with (normalised tc_api_path); its path part is signed too. */
  readonly apiPath: string
  readonly credentials: PlatformCredentials
  /** Clock for the HMAC Timestamp, ms since epoch. */
  readonly now?: () => number
  /** resultLimit for post listing (the API allows up to 10000). */
  readonly pageSize?: number
  /** Stop following `next` after this many pages (guards against a looping server). */
  readonly maxPages?: number
  readonly signal?: AbortSignal
  /** When the run ends (ms since the epoch): no call or wait goes past it. */
  readonly deadlineAt?: number
}

/** Statuses we turn into specific reasons ourselves instead of letting the HttpClient call them failures. */
const EXPLAINED_STATUSES = [400, 401, 403, 404, 409, 422] as const

const SOURCE_ID = 'threatconnect'

export type PlatformHttpOverrides = Partial<Omit<HttpClientSettings, 'sourceId' | 'baseUrl' | 'proxyScope'>>

/**
 * Settings for the platform's HttpClients: the tc proxy scope and modest timeouts. `reads` retry transient
 * failures; `writes` never do (see PlatformClientOptions.writeHttp).
 */
export const platformHttpSettings = (
  apiPath: string,
  purpose: 'reads' | 'writes',
  overrides: PlatformHttpOverrides = {},
): HttpClientSettings => ({
  sourceId: SOURCE_ID,
  baseUrl: apiPath,
  proxyScope: 'tc',
  countAs: 'platform',
  timeouts: { connectMs: 5_000, responseMs: 20_000, totalMs: 45_000 },
  ...overrides,
  retry: purpose === 'writes' ? { limit: 0 } : (overrides.retry ?? { limit: 2, baseDelayMs: 300, maxDelayMs: 3_000 }),
})

/**
 * Percent-encodes everything but RFC 3986 unreserved characters. Stricter than encodeURIComponent so that URL
 * parsing on the way out (which escapes `'` in queries) cannot change what was signed.
 */
export const encodeQueryValue = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const query = (pairs: ReadonlyArray<readonly [string, string | number]>): string =>
  pairs.map(([k, v]) => `${k}=${encodeQueryValue(String(v))}`).join('&')

/** A TQL string literal: double quotes, backslash escapes. */
const tqlString = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

const HASH_FIELD_BY_LENGTH: Readonly<Record<number, 'md5' | 'sha1' | 'sha256'>> = {
  32: 'md5',
  40: 'sha1',
  64: 'sha256',
}
/** TQL names File hashes value1/value2/value3 (md5, sha1, sha256). */
const HASH_TQL_FIELD = { md5: 'value1', sha1: 'value2', sha256: 'value3' } as const

const hashField = (hash: string): 'md5' | 'sha1' | 'sha256' => {
  const field = /^[0-9a-f]+$/i.test(hash) ? HASH_FIELD_BY_LENGTH[hash.length] : undefined
  if (field === undefined) throw new SourceError('internal', `'${hash}' is not an MD5, SHA-1 or SHA-256 hash`)
  return field
}

/** The platform's spelling of a value: ASNs are "ASN<number>" there. */
export const platformSummary = (type: IndicatorType, value: string): string => {
  if (type === 'ASN') {
    const m = /^(?:ASN?)?\s*(\d+)$/i.exec(value.trim())
    return m ? `ASN${m[1]}` : value
  }
  return value
}

/** The md5, sha1 and sha256 of a File (the hashes the platform keeps), from its summary or its one value. */
const platformHashes = (summary: string, hashes: FileHashes | undefined): ['md5' | 'sha1' | 'sha256', string][] =>
  hashes === undefined
    ? [[hashField(summary), summary]]
    : (['md5', 'sha1', 'sha256'] as const).flatMap((kind) =>
        hashes[kind] === undefined ? [] : [[kind, hashes[kind] as string] as ['md5' | 'sha1' | 'sha256', string]],
      )

/** The TQL that selects exactly this indicator (a File by any of its hashes). */
export const indicatorTql = (type: IndicatorType, summary: string, owner?: string, hashes?: FileHashes): string => {
  const parts = [`typeName EQ ${tqlString(type)}`]
  if (type === 'File') {
    const each = platformHashes(summary, hashes).map(([kind, hash]) => `${HASH_TQL_FIELD[kind]} EQ ${tqlString(hash)}`)
    parts.push(each.length === 1 ? (each[0] as string) : `(${each.join(' OR ')})`)
  } else parts.push(`summary EQ ${tqlString(platformSummary(type, summary))}`)
  if (owner !== undefined) parts.push(`ownerName EQ ${tqlString(owner)}`)
  return parts.join(' AND ')
}

/** POST /api/v3/indicators body: `type` plus the type's own value field (a File's every hash). */
export const indicatorCreateBody = (
  type: IndicatorType,
  summary: string,
  hashes?: FileHashes,
): Record<string, string> => {
  switch (type) {
    case 'Address':
      return { type, ip: summary }
    case 'Host':
      return { type, hostName: summary }
    case 'URL':
      return { type, text: summary }
    case 'EmailAddress':
      return { type, address: summary }
    case 'File':
      return { type, ...Object.fromEntries(platformHashes(summary, hashes)) }
    case 'ASN':
      return { type, 'AS Number': platformSummary(type, summary) }
    case 'CIDR':
      return { type, Block: summary }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const numberOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

const dataList = (v: unknown): unknown[] => (isRecord(v) && Array.isArray(v['data']) ? v['data'] : [])

const badAnswer = (what: string): SourceError =>
  new SourceError('bad_answer', `ThreatConnect sent an unexpected answer: ${what}`)

const parseIndicator = (v: unknown): PlatformIndicator => {
  if (!isRecord(v) || typeof v['id'] !== 'number') throw badAnswer('an indicator without an id')
  const hashes = (['md5', 'sha1', 'sha256'] as const).flatMap((k) => (typeof v[k] === 'string' ? [v[k] as string] : []))
  return {
    id: v['id'],
    type: typeof v['type'] === 'string' ? v['type'] : '',
    summary: typeof v['summary'] === 'string' ? v['summary'] : '',
    ownerName: typeof v['ownerName'] === 'string' ? v['ownerName'] : undefined,
    rating: numberOrNull(v['rating']),
    confidence: numberOrNull(v['confidence']),
    tags: dataList(v['tags']).flatMap((t) => (isRecord(t) && typeof t['name'] === 'string' ? [t['name']] : [])),
    attributes: dataList(v['attributes']).flatMap((a) =>
      isRecord(a) && typeof a['type'] === 'string' && typeof a['value'] === 'string'
        ? [{ id: typeof a['id'] === 'number' ? a['id'] : undefined, type: a['type'], value: a['value'] }]
        : [],
    ),
    hashes,
    ...(typeof v['lastModified'] === 'string' ? { lastModified: v['lastModified'] } : {}),
    ...(typeof v['webLink'] === 'string' ? { webLink: v['webLink'] } : {}),
  }
}

const parsePost = (v: unknown): PlatformPost => {
  if (!isRecord(v) || typeof v['id'] !== 'number') throw badAnswer('a post without an id')
  return { id: v['id'], text: typeof v['text'] === 'string' ? v['text'] : '' }
}

/** Does the platform's record really describe this indicator? Guards against a filter the server ignored. */
const sameIndicator = (
  found: PlatformIndicator,
  type: IndicatorType,
  summary: string,
  hashes: FileHashes | undefined,
): boolean => {
  if (found.type !== '' && found.type !== type) return false
  const wanted = platformSummary(type, summary).toLowerCase()
  if (found.summary.toLowerCase() === wanted) return true
  if (type !== 'File') return false
  const mine = new Set(platformHashes(summary, hashes).map(([, hash]) => hash.toLowerCase()))
  return found.hashes.some((h) => mine.has(h.toLowerCase()))
}

const errorMessage = (body: unknown): string => {
  if (isRecord(body) && typeof body['message'] === 'string' && body['message'] !== '') return body['message']
  return 'no message'
}

/** A reason for a 4xx the platform answered, in words a playbook author can act on. */
const platformStatusError = (status: number, method: string, path: string, body: unknown): SourceError => {
  const where = `${method} ${path.split('?')[0]}`
  const kind = failureKindOfStatus(status)
  if (status === 401) return new SourceError(kind, 'ThreatConnect rejected the credentials (HTTP 401)')
  if (status === 403)
    return new SourceError(kind, `ThreatConnect refused access (HTTP 403) for ${where}: ${errorMessage(body)}`)
  if (status === 404) return new SourceError(kind, `ThreatConnect has no ${where} (HTTP 404): ${errorMessage(body)}`)
  return new SourceError(kind, `ThreatConnect rejected ${where} (HTTP ${status}): ${errorMessage(body)}`)
}

export const createPlatformClient = (options: PlatformClientOptions): PlatformClient => {
  const { http, credentials } = options
  const writeHttp = options.writeHttp ?? http
  const now = options.now ?? Date.now
  const pageSize = options.pageSize ?? 1000
  const maxPages = options.maxPages ?? 100
  // The server verifies the signature over the full request path, including any path the base URL carries.
  const basePath = new URL(options.apiPath).pathname.replace(/\/+$/, '')
  // The platform counts calls per API user: a 429 pauses that user's calls, here and on every replica.
  const quotaKey = keyPrint(credentials.kind === 'hmac' ? credentials.accessId : credentials.token)

  const call = async (method: HttpRequest['method'], pathWithQuery: string, json?: unknown): Promise<unknown> => {
    const signedPath = `${basePath}${pathWithQuery}`
    const req: HttpRequest = {
      method,
      path: pathWithQuery,
      headers: { Accept: 'application/json', ...authHeaders(credentials, signedPath, method, now()) },
      answerStatuses: EXPLAINED_STATUSES,
      ...(json === undefined ? {} : { json }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.deadlineAt === undefined ? {} : { deadlineAt: options.deadlineAt }),
      quotaKey,
    }
    const res = await (method === 'GET' ? http : writeHttp).request(req)
    if (res.status < 200 || res.status > 299) throw platformStatusError(res.status, method, pathWithQuery, res.body)
    if (isRecord(res.body) && res.body['status'] === 'Error') {
      throw new SourceError(
        'http_error',
        `ThreatConnect reported an error for ${method} ${pathWithQuery.split('?')[0]}: ${errorMessage(res.body)}`,
      )
    }
    return res.body
  }

  const single = (body: unknown): unknown => {
    if (!isRecord(body) || !isRecord(body['data'])) throw badAnswer('no "data" object')
    return body['data']
  }

  const list = (body: unknown): { items: unknown[]; next: string | undefined } => {
    if (!isRecord(body) || !Array.isArray(body['data'])) throw badAnswer('no "data" list')
    return {
      items: body['data'],
      next: typeof body['next'] === 'string' && body['next'] !== '' ? body['next'] : undefined,
    }
  }

  /** `next` is an absolute URL on the platform's public host; keep only the path below our base and the query. */
  const nextPath = (next: string): string => {
    const url = new URL(next, options.apiPath)
    const path =
      basePath !== '' && url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : url.pathname
    return `${path}${url.search}`
  }

  const ownerQuery = (owner: string | undefined): string => (owner === undefined ? '' : `&${query([['owner', owner]])}`)
  const withFields = 'fields=tags&fields=attributes'

  return {
    async findIndicator(type, summary, owner, hashes) {
      const path = `/api/v3/indicators?${query([['tql', indicatorTql(type, summary, owner, hashes)]])}&${withFields}&resultLimit=10${ownerQuery(owner)}`
      const { items } = list(await call('GET', path))
      const found = items.map(parseIndicator).find((i) => sameIndicator(i, type, summary, hashes))
      return found ?? null
    },

    async createIndicator(type, summary, owner, hashes) {
      const path = `/api/v3/indicators?${withFields}${ownerQuery(owner)}`
      return parseIndicator(single(await call('POST', path, indicatorCreateBody(type, summary, hashes))))
    },

    async listPosts(indicatorId) {
      const posts: PlatformPost[] = []
      const seen = new Set<string>()
      let path: string | undefined = `/api/v3/posts?${query([
        ['objectId', indicatorId],
        ['objectType', 'Indicator'],
        ['resultStart', 0],
        ['resultLimit', pageSize],
      ])}`
      for (let page = 0; path !== undefined && page < maxPages; page++) {
        seen.add(path)
        const { items, next } = list(await call('GET', path))
        posts.push(...items.map(parsePost))
        const following: string | undefined = next === undefined || items.length === 0 ? undefined : nextPath(next)
        path = following !== undefined && !seen.has(following) ? following : undefined
      }
      return posts
    },

    async createPost(indicatorId, text) {
      return parsePost(
        single(await call('POST', '/api/v3/posts', { objectId: indicatorId, objectType: 'Indicator', text })),
      )
    },

    async queryIndicators(tql, { owner, start, limit }) {
      const path = `/api/v3/indicators?${query([
        ['tql', tql],
        ['sorting', 'lastModified asc'],
        ['resultStart', start],
        ['resultLimit', limit],
      ])}&fields=tags${ownerQuery(owner)}`
      const { items, next } = list(await call('GET', path))
      return { items: items.map(parseIndicator), more: next !== undefined && items.length > 0 }
    },

    async updateIndicator(indicatorId, update) {
      const body: Record<string, unknown> = {}
      if (update.rating !== undefined) body['rating'] = update.rating
      if (update.confidence !== undefined) body['confidence'] = update.confidence
      if (update.tags !== undefined && update.tags.length > 0) {
        body['tags'] = { data: update.tags.map((name) => ({ name })), mode: 'append' }
      }
      if (update.description !== undefined) {
        body['attributes'] = { data: [{ type: 'Description', value: update.description }], mode: 'append' }
      }
      const path = `/api/v3/indicators/${encodeURIComponent(String(indicatorId))}?${withFields}`
      return parseIndicator(single(await call('PUT', path, body)))
    },
  }
}

/**
 * The platform HttpClients (reads, writes) per API base URL for the lifetime of an app instance, so breaker and
 * rate state are shared per ThreatConnect instance; builds a PlatformClient per request's settings.
 */
export interface PlatformClientPool {
  clientFor(
    settings: Extract<PlatformSettings, { configured: true }>,
    extra?: Pick<PlatformClientOptions, 'signal' | 'deadlineAt' | 'now'>,
  ): PlatformClient
  close(): void
}

export const createPlatformClientPool = (
  factory: HttpClientFactory,
  httpOverrides: PlatformHttpOverrides = {},
  clientDefaults: Pick<PlatformClientOptions, 'pageSize' | 'maxPages' | 'now'> = {},
): PlatformClientPool => {
  const clients = new Map<string, { reads: HttpClient; writes: HttpClient }>()
  return {
    clientFor(settings, extra = {}) {
      let pair = clients.get(settings.apiPath)
      if (pair === undefined) {
        pair = {
          reads: factory(platformHttpSettings(settings.apiPath, 'reads', httpOverrides)),
          writes: factory(platformHttpSettings(settings.apiPath, 'writes', httpOverrides)),
        }
        clients.set(settings.apiPath, pair)
      }
      return createPlatformClient({
        ...clientDefaults,
        ...extra,
        http: pair.reads,
        writeHttp: pair.writes,
        apiPath: settings.apiPath,
        credentials: settings.credentials,
      })
    },
    close() {
      for (const pair of clients.values()) {
        pair.reads.close()
        pair.writes.close()
      }
      clients.clear()
    },
  }
}
