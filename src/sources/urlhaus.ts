/**
 * abuse.ch URLhaus: is this URL, host or payload hash known for spreading malware?
 * docs/sources/urlhaus.md says where the answer's shape comes from and explains the mapping.
 */
import { Type, type TSchema, type Static } from 'typebox'
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import { hashesOf, hashKindOf, strongestOf, type HashKind } from '../indicators/file-hash.js'
import type { FactValue, Finding, SourceDefinition } from './types.js'
import { defineVendorSource } from './vendor-kit.js'
import { answerShape, textOrNull as str, Maybe, Strings, type AnswerShape } from './answer-shape.js'

const ID = 'urlhaus'
const TITLE = 'abuse.ch URLhaus'
const DEFAULT_BASE_URL = 'https://urlhaus-api.abuse.ch'
/** abuse.ch publishes no limit for URLhaus; this is a polite default. */
const DEFAULT_RATE_LIMIT = { requests: 10, perMs: 1000 }
const CACHE_TTL_MS = 60 * 60 * 1000

/** A listed URL (or a host with a URL) still serving malware. */
export const URLHAUS_SCORE_ONLINE = 100
/** Listed, but every URL is offline now: it was malicious, it may not be any more. */
export const URLHAUS_SCORE_OFFLINE = 60
/** A payload hash URLhaus holds is a malware sample, whether or not the URLs that spread it are still up. */
export const URLHAUS_SCORE_PAYLOAD = 100

/** Statuses used in the `status` fact beyond URLhaus's own online/offline/unknown. */
const URLHAUS_STATUS_NOT_LISTED = 'not_listed'
const URLHAUS_STATUS_NOT_SEARCHABLE = 'not_searchable'

/** URLhaus paths: the trailing slashes are required. */
const PATHS = { url: '/v1/url/', host: '/v1/host/', payload: '/v1/payload/' } as const

/** The only hash kinds the payload endpoint accepts. */
const SEARCHABLE_HASHES: readonly HashKind[] = ['md5', 'sha256']

/** A listed URL's fields, as /v1/url/ answers them and as /v1/host/ and /v1/payload/ list them. */
const listedUrlFields = {
  url_status: Maybe(Type.String()),
  threat: Maybe(Type.String()),
  tags: Maybe(Strings()),
}
const ListedUrl = Type.Object(listedUrlFields)
/** URLhaus sends counts as strings ("10"). */
const Count = Maybe(Type.Union([Type.Number(), Type.String()]))
const STATUS = answerShape(TITLE, Type.Object({ query_status: Type.String() }))
// Each answer of a listed entry must carry what its verdict is made of (the URL's status, the host's or payload's
// list of URLs); without it the answer is out of shape, not a quiet "unknown".
const URL_ANSWER = answerShape(
  TITLE,
  Type.Object({
    ...listedUrlFields,
    url_status: Type.String(),
    urlhaus_reference: Maybe(Type.String()),
    date_added: Maybe(Type.String()),
    payloads: Maybe(Type.Array(Type.Object({ signature: Maybe(Type.String()) }))),
  }),
)
const HOST_ANSWER = answerShape(
  TITLE,
  Type.Object({
    urls: Type.Array(ListedUrl),
    url_count: Count,
    urlhaus_reference: Maybe(Type.String()),
    firstseen: Maybe(Type.String()),
  }),
)
const PAYLOAD_ANSWER = answerShape(
  TITLE,
  Type.Object({
    urls: Type.Array(ListedUrl),
    url_count: Count,
    signature: Maybe(Type.String()),
    file_type: Maybe(Type.String()),
    sha256_hash: Maybe(Type.String()),
    firstseen: Maybe(Type.String()),
  }),
)

const count = (v: number | string | null | undefined): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN
  return Number.isFinite(n) ? n : null
}
const distinct = (values: readonly (string | null)[]): string[] => [
  ...new Set(values.filter((v): v is string => v !== null)),
]

/**
 * The listed entry, typed, or undefined for "no_results". A query_status other than ok/no_results, or a body out of
 * URLhaus's shape, is a bad answer.
 */
const listedOrMiss = <T extends TSchema>(answer: unknown, shape: AnswerShape<T>): Static<T> | undefined => {
  const status = STATUS.read(answer, '200').query_status
  if (status === 'no_results') return undefined
  if (status !== 'ok') throw new SourceError('bad_answer', `URLhaus answered query_status '${status}'`)
  return shape.read(answer, "'ok'")
}

const notListed = (answer: unknown, what: string): Finding => ({
  verdict: 'unknown',
  score: null,
  confidence: null,
  tags: [],
  summary: `URLhaus: ${what} not listed`,
  facts: {
    status: URLHAUS_STATUS_NOT_LISTED,
    threat: null,
    url_count: 0,
    reference: null,
    tags: [],
    first_seen: null,
    signature: null,
  },
  raw: answer,
})

/** Maps a /v1/url/ answer. Throws SourceError('bad_answer') on a vendor error status. */
export const toUrlhausUrlFinding = (indicator: Indicator, answer: unknown): Finding => {
  const a = listedOrMiss(answer, URL_ANSWER)
  if (a === undefined) return notListed(answer, 'URL')
  const urlStatus = str(a.url_status) ?? 'unknown'
  const online = urlStatus === 'online'
  const tags = distinct(a.tags ?? [])
  const threat = str(a.threat)
  const signature = distinct((a.payloads ?? []).map((p) => str(p.signature))).join(', ') || null
  const facts: Record<string, FactValue> = {
    status: urlStatus,
    threat,
    url_count: 1,
    reference: str(a.urlhaus_reference),
    tags,
    first_seen: str(a.date_added),
    signature,
  }
  return {
    verdict: online ? 'malicious' : 'suspicious',
    score: online ? URLHAUS_SCORE_ONLINE : URLHAUS_SCORE_OFFLINE,
    confidence: null,
    tags,
    summary: `URLhaus: ${urlStatus} ${threat ?? 'malware'} URL${signature ? ` (${signature})` : ''}${tags.length ? `, tags ${tags.join(', ')}` : ''}`,
    facts,
    raw: answer,
  }
}

/** Maps a /v1/host/ answer: malicious when any listed URL on the host is online, suspicious when all are offline. */
export const toUrlhausHostFinding = (indicator: Indicator, answer: unknown): Finding => {
  const a = listedOrMiss(answer, HOST_ANSWER)
  if (a === undefined) return notListed(answer, 'host')
  const urls = a.urls ?? []
  const onlineCount = urls.filter((u) => u.url_status === 'online').length
  const urlCount = count(a.url_count) ?? urls.length
  const tags = distinct(urls.flatMap((u) => u.tags ?? []))
  const threat = distinct(urls.map((u) => str(u.threat))).join(', ') || null
  const online = onlineCount > 0
  return {
    verdict: online ? 'malicious' : 'suspicious',
    score: online ? URLHAUS_SCORE_ONLINE : URLHAUS_SCORE_OFFLINE,
    confidence: null,
    tags,
    summary: `URLhaus: ${urlCount} malware URL${urlCount === 1 ? '' : 's'} on this host, ${onlineCount} online${threat ? ` (${threat})` : ''}`,
    facts: {
      status: online ? 'online' : 'offline',
      threat,
      url_count: urlCount,
      reference: str(a.urlhaus_reference),
      tags,
      first_seen: str(a.firstseen),
      signature: null,
    },
    raw: answer,
  }
}

/** Maps a /v1/payload/ answer: a payload URLhaus holds is a malware sample, so malicious. */
export const toUrlhausPayloadFinding = (indicator: Indicator, answer: unknown): Finding => {
  const a = listedOrMiss(answer, PAYLOAD_ANSWER)
  if (a === undefined) return notListed(answer, 'payload')
  const urls = a.urls ?? []
  const onlineCount = urls.filter((u) => u.url_status === 'online').length
  const urlCount = count(a.url_count) ?? urls.length
  const signature = str(a.signature)
  const fileType = str(a.file_type)
  const sha256 = str(a.sha256_hash)
  const tags = distinct([signature, ...urls.flatMap((u) => u.tags ?? [])])
  return {
    verdict: 'malicious',
    score: URLHAUS_SCORE_PAYLOAD,
    confidence: null,
    tags,
    summary: `URLhaus: malware payload${signature ? ` ${signature}` : ''}${fileType ? ` (${fileType})` : ''} spread by ${urlCount} URL${urlCount === 1 ? '' : 's'}, ${onlineCount} online`,
    facts: {
      status: onlineCount > 0 ? 'online' : 'offline',
      threat: 'malware_download',
      url_count: urlCount,
      // The payload answer has no reference of its own; URLhaus's browse page finds it by hash.
      reference: `https://urlhaus.abuse.ch/browse.php?search=${encodeURIComponent(sha256 ?? indicator.value)}`,
      tags,
      first_seen: str(a.firstseen),
      signature,
    },
    raw: answer,
  }
}

/** sha1 and sha512: the payload endpoint cannot search them, so URLhaus has no opinion (never "benign"). */
export const urlhausUnsearchableHashFinding = (indicator: Indicator, kind: string): Finding => ({
  verdict: 'unknown',
  score: null,
  confidence: null,
  tags: [],
  summary: `URLhaus: cannot search a ${kind} hash (only md5 and sha256)`,
  facts: {
    status: URLHAUS_STATUS_NOT_SEARCHABLE,
    threat: null,
    url_count: null,
    reference: null,
    tags: [],
    first_seen: null,
    signature: null,
    note: `URLhaus searches payloads by md5 or sha256 only; a ${kind} hash cannot be looked up`,
  },
  raw: null,
})

export const urlhausSource: SourceDefinition = defineVendorSource({
  id: ID,
  title: TITLE,
  description:
    'Whether a URL, host or payload hash (md5/sha256) is listed by URLhaus as spreading malware, and if it is still online.',
  supports: ['URL', 'Host', 'File'],
  baseUrl: DEFAULT_BASE_URL,
  rateLimits: [DEFAULT_RATE_LIMIT],
  cacheTtlMs: CACHE_TTL_MS,
  key: 'required',
  keyHint: 'free at auth.abuse.ch',
  outputs: [
    { key: 'status', type: 'String', note: 'URLhaus: query status, e.g. ok, no_results, not_searchable.' },
    { key: 'threat', type: 'String', note: 'URLhaus: threat (e.g. malware_download).' },
    { key: 'reference', type: 'String', note: "URLhaus: the entry's page on URLhaus." },
  ],
  async lookup(client, indicator, ctx) {
    const post = async (path: string, form: Record<string, string>, key: string): Promise<unknown> =>
      (await client.request({ method: 'POST', path, form, headers: { 'Auth-Key': key } })).body
    const key = ctx.apiKey
    switch (indicator.type) {
      case 'URL':
        return toUrlhausUrlFinding(indicator, await post(PATHS.url, { url: indicator.value }, key))
      case 'Host':
        return toUrlhausHostFinding(indicator, await post(PATHS.host, { host: indicator.value }, key))
      case 'File': {
        // A File summary may hold an md5 beside a sha1: the strongest hash URLhaus takes is asked.
        const searchable = strongestOf(hashesOf(indicator.value, indicator.hashes), SEARCHABLE_HASHES)
        if (searchable === undefined)
          return urlhausUnsearchableHashFinding(indicator, hashKindOf(indicator.value) ?? 'unrecognised')
        const answer = await post(PATHS.payload, { [`${searchable.kind}_hash`]: searchable.hash }, key)
        return toUrlhausPayloadFinding(indicator, answer)
      }
      default:
        throw new SourceError('internal', `URLhaus cannot look up ${indicator.type} indicators`)
    }
  },
})
