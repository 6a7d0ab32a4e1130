/**
 * abuse.ch ThreatFox: is this IP, host, URL or hash a known indicator of compromise, and of which malware?
 * docs/sources/threatfox.md says where the answer's shape comes from and explains the mapping.
 */
import { Type, type Static } from 'typebox'
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { Finding, SourceDefinition } from './types.js'
import { defineVendorSource } from './vendor-kit.js'
import { answerShape, textOrNull as str, Maybe, Strings } from './answer-shape.js'

const ID = 'threatfox'
const TITLE = 'abuse.ch ThreatFox'
const DEFAULT_BASE_URL = 'https://threatfox-api.abuse.ch'
/** abuse.ch publishes no limit for ThreatFox; this is a polite default. */
const DEFAULT_RATE_LIMIT = { requests: 10, perMs: 1000 }
const CACHE_TTL_MS = 60 * 60 * 1000
const PATH = '/api/v1/'

/** A matching IOC with confidence_level at or above this is malicious; any lower match is suspicious. */
export const THREATFOX_MALICIOUS_CONFIDENCE = 75

const IocEntry = Type.Object({
  id: Maybe(Type.Union([Type.String(), Type.Number()])),
  // The matched IOC itself: an entry without it carries nothing to judge (bad_answer naming it).
  ioc: Type.String(),
  threat_type: Maybe(Type.String()),
  malware_printable: Maybe(Type.String()),
  confidence_level: Maybe(Type.Number()),
  first_seen: Maybe(Type.String()),
  last_seen: Maybe(Type.String()),
  tags: Maybe(Strings()),
})
type Entry = Static<typeof IocEntry>
/**
 * search_ioc: `{"query_status": "ok", "data": [IOC, ...]}`; a miss is `"no_result"` with a string in data, and
 * refusals (illegal_search_term, unknown_auth_key, ...) carry their own status.
 */
const SEARCH_ANSWER = answerShape(
  TITLE,
  Type.Object({ query_status: Type.String(), data: Type.Optional(Type.Unknown()) }),
)
const IOC_LIST = answerShape(TITLE, Type.Array(IocEntry))

const distinct = (values: readonly (string | null)[]): string[] => [
  ...new Set(values.filter((v): v is string => v !== null)),
]
const confidenceOf = (e: Entry): number | null => {
  const c = e.confidence_level
  return typeof c === 'number' && c >= 0 && c <= 100 ? c : null
}

/**
 * ThreatFox stores IPs as `ip:port` (IPv6 as `[ip]:port`) and its search can return neighbours
 * (1.2.3.4 finds 1.2.3.45:80), so an Address keeps only entries for exactly that IP.
 */
export const isEntryForAddress = (ip: string, ioc: string): boolean =>
  ioc === ip || ioc.startsWith(`[${ip}]:`) || (!ip.includes(':') && ioc.startsWith(`${ip}:`))

/** The search term ThreatFox needs for an indicator. */
export const threatfoxSearchTerm = (indicator: Indicator): string =>
  indicator.type === 'File' ? indicator.value.toLowerCase() : indicator.value

/** Maps a search_ioc answer. Throws SourceError('bad_answer') for vendor errors (e.g. illegal_search_term). */
export const toThreatfoxFinding = (indicator: Indicator, answer: unknown): Finding => {
  const { query_status: status, data } = SEARCH_ANSWER.read(answer, '200')
  // A miss is "no_result" (singular) with a STRING in data.
  if (status !== 'ok' && status !== 'no_result') {
    const detail = typeof data === 'string' ? `: ${data}` : ''
    throw new SourceError('bad_answer', `ThreatFox answered query_status '${status}'${detail}`)
  }
  const all = status === 'ok' ? IOC_LIST.read(data, "'ok' with data") : []
  const entries =
    indicator.type === 'Address' ? all.filter((e) => isEntryForAddress(indicator.value, e.ioc ?? '')) : all
  if (entries.length === 0) {
    return {
      verdict: 'unknown',
      score: null,
      confidence: null,
      tags: [],
      summary: 'ThreatFox: not listed',
      facts: {
        malware: null,
        threat_type: null,
        confidence: null,
        first_seen: null,
        last_seen: null,
        ioc_count: 0,
        tags: [],
        iocs: [],
        reference: null,
      },
      raw: answer,
    }
  }
  const malware = distinct(entries.map((e) => str(e.malware_printable)))
  const threatTypes = distinct(entries.map((e) => str(e.threat_type)))
  const tags = distinct([...malware, ...entries.flatMap((e) => e.tags ?? [])])
  const confidences = entries.map(confidenceOf).filter((c): c is number => c !== null)
  const confidence = confidences.length ? Math.max(...confidences) : null
  // ThreatFox dates are "YYYY-MM-DD hh:mm:ss UTC": they sort as strings.
  const firstSeen = distinct(entries.map((e) => str(e.first_seen))).sort()[0] ?? null
  const lastSeen =
    distinct(entries.map((e) => str(e.last_seen)))
      .sort()
      .at(-1) ?? null
  const iocs = distinct(entries.map((e) => str(e.ioc)))
  const id = entries[0]?.id
  const malicious = confidence !== null && confidence >= THREATFOX_MALICIOUS_CONFIDENCE
  return {
    verdict: malicious ? 'malicious' : 'suspicious',
    score: confidence,
    confidence,
    tags,
    summary:
      `ThreatFox: ${threatTypes.join(', ') || 'IOC'}${malware.length ? ` of ${malware.join(', ')}` : ''}` +
      ` (${entries.length} IOC${entries.length === 1 ? '' : 's'}${confidence !== null ? `, confidence ${confidence}` : ''})`,
    facts: {
      malware: malware.join(', ') || null,
      threat_type: threatTypes.join(', ') || null,
      confidence,
      first_seen: firstSeen,
      last_seen: lastSeen,
      ioc_count: entries.length,
      tags,
      iocs,
      reference: typeof id === 'string' || typeof id === 'number' ? `https://threatfox.abuse.ch/ioc/${id}/` : null,
    },
    raw: answer,
  }
}

export const threatfoxSource: SourceDefinition = defineVendorSource({
  id: ID,
  title: TITLE,
  description:
    'Whether an IP, host, URL or file hash is a ThreatFox IOC, of which malware and threat type, and how sure the reporter was.',
  supports: ['Address', 'Host', 'URL', 'File'],
  baseUrl: DEFAULT_BASE_URL,
  rateLimits: [DEFAULT_RATE_LIMIT],
  cacheTtlMs: CACHE_TTL_MS,
  key: 'required',
  keyHint: 'free at auth.abuse.ch',
  outputs: [
    { key: 'malware', type: 'String', note: 'ThreatFox: malware family.' },
    { key: 'threat_type', type: 'String', note: 'ThreatFox: threat type (e.g. botnet_cc).' },
    { key: 'confidence', type: 'String', note: 'ThreatFox: ThreatFox confidence level 0-100.' },
    { key: 'reference', type: 'String', note: "ThreatFox: the IOC's page on ThreatFox." },
  ],
  async lookup(client, indicator, ctx) {
    const key = ctx.apiKey
    const res = await client.request({
      method: 'POST',
      path: PATH,
      headers: { 'Auth-Key': key },
      json: { query: 'search_ioc', search_term: threatfoxSearchTerm(indicator) },
    })
    return toThreatfoxFinding(indicator, res.body)
  },
})
