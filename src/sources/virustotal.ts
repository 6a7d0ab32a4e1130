/** VirusTotal v3: how many scanning engines flag an IP, domain, URL or file hash, and its community reputation. */
import { Type, type Static } from 'typebox'
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { HttpResponse } from '../http/types.js'
import type { FactValue, Finding, RateLimit, SourceDefinition, Verdict } from './types.js'
import { defineVendorSource } from './vendor-kit.js'
import { answerShape, textOrNull as stringOrNull, Maybe, Strings } from './answer-shape.js'

const ID = 'virustotal'
const TITLE = 'VirusTotal'

/** Engines flagging malicious at or above this: verdict malicious. */
export const VT_MALICIOUS_MIN_ENGINES = 3
/** One malicious engine, or this many suspicious ones: verdict suspicious. */
const VT_SUSPICIOUS_MIN_ENGINES = 1
/**
 * No engine flags it and the community reputation is at least this: verdict benign (a clean scan alone is "unknown").
 */
const VT_BENIGN_MIN_REPUTATION = 1
/** Score = 10 per malicious engine + 5 per suspicious one, so this many malicious engines reach 100. */
const VT_SCORE_FULL_AT_ENGINES = 10
/** Vendor tags kept on a finding (files can carry dozens). */
const VT_MAX_TAGS = 20

/** Public API: 4 requests a minute and 500 a day, both counted. */
const VT_RATE_LIMITS: readonly RateLimit[] = [
  { requests: 4, perMs: 60_000 },
  { requests: 500, perMs: 86_400_000 },
]
const CACHE_TTL_MS = 6 * 3_600_000
const GUI_BASE = 'https://www.virustotal.com/gui'

type VtObjectKind = 'ip_addresses' | 'domains' | 'urls' | 'files'
const GUI_KIND: Record<VtObjectKind, string> = {
  ip_addresses: 'ip-address',
  domains: 'domain',
  urls: 'url',
  files: 'file',
}

/** VirusTotal's URL identifier: the URL as unpadded URL-safe base64. */
export const virustotalUrlId = (url: string): string => Buffer.from(url, 'utf8').toString('base64url')

/** A File indicator may hold "md5 : sha1 : sha256"; VirusTotal takes any one, so ask with the strongest. */
export const strongestHash = (value: string): string =>
  value
    .split(':')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '')
    .reduce((best, h) => (h.length > best.length ? h : best), '')

// IPv6 colons are legal in a path segment; everything else unusual is escaped.
const segment = (s: string): string => encodeURIComponent(s).replace(/%3A/gi, ':')

const objectOf = (indicator: Indicator): { kind: VtObjectKind; id: string } => {
  switch (indicator.type) {
    case 'Address':
      return { kind: 'ip_addresses', id: indicator.value }
    case 'Host':
      return { kind: 'domains', id: indicator.value }
    case 'URL':
      return { kind: 'urls', id: virustotalUrlId(indicator.value) }
    case 'File':
      return { kind: 'files', id: strongestHash(indicator.value) }
    default:
      throw new SourceError('internal', `${TITLE} does not look up ${indicator.type} indicators`)
  }
}

/** The API object an indicator is looked up as, and its path under the base URL. */
export const virustotalObject = (indicator: Indicator): { kind: VtObjectKind; id: string; path: string } => {
  const { kind, id } = objectOf(indicator)
  return { kind, id, path: `/${kind}/${segment(id)}` }
}

const EngineCounts = Type.Object({
  malicious: Maybe(Type.Number()),
  suspicious: Maybe(Type.Number()),
  harmless: Maybe(Type.Number()),
  undetected: Maybe(Type.Number()),
  timeout: Maybe(Type.Number()),
})
/**
 * 200: `{"data":{"type","id","attributes":{...}}}`. The engines' counts are what the verdict is made of: an answer
 * without them is out of shape (bad_answer naming the field), never an "unknown" that looks like an answer. The
 * other attributes are read only when present.
 */
const ObjectAttributes = Type.Object({
  last_analysis_stats: EngineCounts,
  last_analysis_date: Maybe(Type.Number()),
  reputation: Maybe(Type.Number()),
  total_votes: Maybe(Type.Object({ malicious: Maybe(Type.Number()), harmless: Maybe(Type.Number()) })),
  tags: Maybe(Strings()),
  categories: Maybe(Type.Record(Type.String(), Type.String())),
  popular_threat_classification: Maybe(Type.Object({ suggested_threat_label: Maybe(Type.String()) })),
  asn: Maybe(Type.Number()),
  as_owner: Maybe(Type.String()),
  network: Maybe(Type.String()),
  country: Maybe(Type.String()),
  registrar: Maybe(Type.String()),
})
type ObjectAttributes = Static<typeof ObjectAttributes>
const OBJECT_ANSWER = answerShape(
  TITLE,
  Type.Object({ data: Type.Object({ id: Maybe(Type.String()), attributes: ObjectAttributes }) }),
)
/** What VirusTotal sends with a 4xx: `{"error":{"code","message"}}`. */
const ERROR_ANSWER = answerShape(
  TITLE,
  Type.Object({ error: Type.Object({ code: Type.String(), message: Maybe(Type.String()) }) }),
)

const count = (v: number | null | undefined): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0
const numberOrNull = (v: number | null | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null
const epochToIso = (v: number | null | undefined): string | null =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? new Date(v * 1000).toISOString() : null

export interface VtStats {
  readonly malicious: number
  readonly suspicious: number
  readonly harmless: number
  readonly undetected: number
  readonly timeout: number
}

/** Engine counts, missing ones 0; negative or fractional counts are read as the whole engines they can mean. */
export const readVtStats = (s: Static<typeof EngineCounts> | null | undefined): VtStats => ({
  malicious: count(s?.malicious),
  suspicious: count(s?.suspicious),
  harmless: count(s?.harmless),
  undetected: count(s?.undetected),
  timeout: count(s?.timeout),
})

/** Verdict from engine counts and community reputation (see the VT_* thresholds). */
export const virustotalVerdict = (stats: VtStats, reputation: number | null): Verdict => {
  if (stats.malicious >= VT_MALICIOUS_MIN_ENGINES) return 'malicious'
  if (stats.malicious >= 1 || stats.suspicious >= VT_SUSPICIOUS_MIN_ENGINES) return 'suspicious'
  const analysed = stats.harmless + stats.undetected > 0
  if (analysed && reputation !== null && reputation >= VT_BENIGN_MIN_REPUTATION) return 'benign'
  return 'unknown'
}

/** 0-100 from engine counts; null when no engine has analysed it. */
export const virustotalScore = (stats: VtStats): number | null => {
  const engines = stats.malicious + stats.suspicious + stats.harmless + stats.undetected
  if (engines === 0) return null
  const points = (100 / VT_SCORE_FULL_AT_ENGINES) * (stats.malicious + stats.suspicious / 2)
  return Math.min(100, Math.round(points))
}

const guiLink = (kind: VtObjectKind, id: string): string => `${GUI_BASE}/${GUI_KIND[kind]}/${encodeURIComponent(id)}`
const searchLink = (value: string): string => `${GUI_BASE}/search/${encodeURIComponent(value)}`

const vendorError = (body: unknown): { code: string; message: string } | undefined =>
  ERROR_ANSWER.fits(body) ? { code: body.error.code, message: body.error.message ?? '' } : undefined

/** Facts only some object kinds carry (IP network, domain registrar and categories, file threat label). */
const kindFacts = (attributes: ObjectAttributes): Record<string, FactValue> => ({
  asn: numberOrNull(attributes.asn),
  as_owner: stringOrNull(attributes.as_owner),
  network: stringOrNull(attributes.network),
  country: stringOrNull(attributes.country),
  registrar: stringOrNull(attributes.registrar),
  categories: attributes.categories ? [...new Set(Object.values(attributes.categories))] : null,
  threat_label: stringOrNull(attributes.popular_threat_classification?.suggested_threat_label),
})

/** Maps a 200 answer (`{"data":{"type","id","attributes":{...}}}`) to a finding. Throws bad_answer on another shape. */
export const toVirustotalFinding = (indicator: Indicator, answer: unknown): Finding => {
  const error = vendorError(answer)
  if (error !== undefined)
    throw new SourceError(
      'bad_answer',
      `${TITLE} answered 200 without an object (error ${error.code}: ${error.message})`,
    )
  const { data } = OBJECT_ANSWER.read(answer, '200')
  const attributes = data.attributes
  const object = virustotalObject(indicator)
  const stats = readVtStats(attributes.last_analysis_stats)
  const reputation = numberOrNull(attributes.reputation)
  const votes = attributes.total_votes ?? {}
  const verdict = virustotalVerdict(stats, reputation)
  const engines = stats.malicious + stats.suspicious + stats.harmless + stats.undetected
  const link = guiLink(object.kind, stringOrNull(data.id) ?? object.id)
  const tags = [...new Set((attributes.tags ?? []).filter((t) => t !== '').map((t) => t.toLowerCase()))].slice(
    0,
    VT_MAX_TAGS,
  )
  const repText = reputation === null ? '' : `; reputation ${reputation}`
  const summary =
    engines === 0
      ? `known to VirusTotal but not analysed yet${repText}`
      : `${stats.malicious}/${engines} engines flag it malicious, ${stats.suspicious} suspicious${repText}`
  return {
    verdict,
    score: virustotalScore(stats),
    confidence: null,
    tags,
    summary,
    facts: {
      found: true,
      malicious: stats.malicious,
      suspicious: stats.suspicious,
      harmless: stats.harmless,
      undetected: stats.undetected,
      timeout: stats.timeout,
      reputation,
      votes_malicious: numberOrNull(votes.malicious),
      votes_harmless: numberOrNull(votes.harmless),
      last_analysis_date: epochToIso(attributes.last_analysis_date),
      link,
      tags,
      ...kindFacts(attributes),
    },
    raw: answer,
  }
}

/** 404 NotFoundError: VirusTotal has never seen it. An answer: verdict unknown, never benign. */
const toVirustotalNotFound = (indicator: Indicator, answer: unknown): Finding => ({
  verdict: 'unknown',
  score: null,
  confidence: null,
  tags: [],
  summary: 'not in VirusTotal',
  facts: { found: false, link: searchLink(indicator.value) },
  raw: answer,
})

/** Turns the HTTP answer (200, 404 or 400) into a finding or a bad_answer failure. */
export const virustotalAnswer = (indicator: Indicator, res: Pick<HttpResponse, 'status' | 'body'>): Finding => {
  if (res.status === 404) {
    const error = vendorError(res.body)
    // A 404 without VirusTotal's error body is a wrong base URL, not "never seen".
    if (error?.code !== 'NotFoundError') {
      throw new SourceError('bad_answer', `${TITLE} answered 404 without NotFoundError (is the base URL right?)`)
    }
    return toVirustotalNotFound(indicator, res.body)
  }
  if (res.status === 400) {
    const error = vendorError(res.body)
    throw new SourceError(
      'bad_answer',
      `${TITLE} refused the request (400 ${error?.code ?? 'no error code'}: ${error?.message ?? ''})`,
    )
  }
  return toVirustotalFinding(indicator, res.body)
}

export const virustotalSource: SourceDefinition = defineVendorSource({
  id: ID,
  title: TITLE,
  description:
    'How many antivirus engines and URL scanners flag an IP, domain, URL or file hash, and its community reputation.',
  supports: ['Address', 'Host', 'URL', 'File'],
  baseUrl: 'https://www.virustotal.com/api/v3',
  rateLimits: VT_RATE_LIMITS,
  cacheTtlMs: CACHE_TTL_MS,
  key: 'required',
  outputs: [
    { key: 'malicious', type: 'String', note: 'VirusTotal: engines that flag it malicious.' },
    { key: 'suspicious', type: 'String', note: 'VirusTotal: engines that flag it suspicious.' },
    { key: 'reputation', type: 'String', note: 'VirusTotal: community reputation score.' },
    { key: 'link', type: 'String', note: "VirusTotal: the object's page on VirusTotal." },
  ],
  async lookup(client, indicator, ctx) {
    const apiKey = ctx.apiKey
    const res = await client.request({
      method: 'GET',
      path: virustotalObject(indicator).path,
      headers: { 'x-apikey': apiKey },
      answerStatuses: [400, 404],
    })
    return virustotalAnswer(indicator, res)
  },
})
