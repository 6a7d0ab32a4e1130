/**
 * abuse.ch ThreatFox: is this IP, host, URL or hash a known indicator of compromise, and of which malware?
 * Facts from /work/shared/reference/sources.md; docs/sources/threatfox.md explains the mapping.
 */
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { Finding, SourceDefinition } from './types.js'
import { defineVendorSource } from './vendor-kit.js'

const ID = 'threatfox'
const TITLE = 'abuse.ch ThreatFox'
const DEFAULT_BASE_URL = 'https://threatfox-api.abuse.ch'
/** abuse.ch publishes no limit for ThreatFox; this is a polite default. */
const DEFAULT_RATE_LIMIT = { requests: 10, perMs: 1000 }
const CACHE_TTL_MS = 60 * 60 * 1000
const PATH = '/api/v1/'

/** A matching IOC with confidence_level at or above this is malicious; any lower match is suspicious. */
export const THREATFOX_MALICIOUS_CONFIDENCE = 75

type Entry = Record<string, unknown>

const isRecord = (v: unknown): v is Entry => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const distinct = (values: readonly (string | null)[]): string[] => [...new Set(values.filter((v): v is string => v !== null))]
const confidenceOf = (e: Entry): number | null => {
  const c = e['confidence_level']
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
  if (!isRecord(answer) || typeof answer['query_status'] !== 'string') {
    throw new SourceError('bad_answer', 'ThreatFox answered without a query_status')
  }
  const status = answer['query_status']
  // A miss is "no_result" (singular) with a STRING in data.
  if (status !== 'ok' && status !== 'no_result') {
    const detail = typeof answer['data'] === 'string' ? `: ${answer['data']}` : ''
    throw new SourceError('bad_answer', `ThreatFox answered query_status '${status}'${detail}`)
  }
  if (status === 'ok' && !Array.isArray(answer['data'])) {
    throw new SourceError('bad_answer', "ThreatFox answered 'ok' without a list of IOCs")
  }
  const all = status === 'ok' ? (answer['data'] as unknown[]).filter(isRecord) : []
  const entries =
    indicator.type === 'Address' ? all.filter((e) => isEntryForAddress(indicator.value, String(e['ioc'] ?? ''))) : all
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
  const malware = distinct(entries.map((e) => str(e['malware_printable'])))
  const threatTypes = distinct(entries.map((e) => str(e['threat_type'])))
  const tags = distinct([...malware, ...entries.flatMap((e) => strings(e['tags']))])
  const confidences = entries.map(confidenceOf).filter((c): c is number => c !== null)
  const confidence = confidences.length ? Math.max(...confidences) : null
  // ThreatFox dates are "YYYY-MM-DD hh:mm:ss UTC": they sort as strings.
  const firstSeen = distinct(entries.map((e) => str(e['first_seen']))).sort()[0] ?? null
  const lastSeen = distinct(entries.map((e) => str(e['last_seen']))).sort().at(-1) ?? null
  const iocs = distinct(entries.map((e) => str(e['ioc'])))
  const id = entries[0]?.['id']
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
  description: 'Whether an IP, host, URL or file hash is a ThreatFox IOC, of which malware and threat type, and how sure the reporter was.',
  supports: ['Address', 'Host', 'URL', 'File'],
  baseUrl: DEFAULT_BASE_URL,
  rateLimit: DEFAULT_RATE_LIMIT,
  cacheTtlMs: CACHE_TTL_MS,
  key: 'required',
  keyHint: 'free at auth.abuse.ch',
  outputs: [
    { key: 'malware', type: 'String', note: 'ThreatFox: malware family.' },
    { key: 'threat_type', type: 'String', note: 'ThreatFox: threat type (e.g. botnet_cc).' },
    { key: 'confidence', type: 'String', note: 'ThreatFox: ThreatFox confidence level 0-100.' },
    { key: 'reference', type: 'String', note: 'ThreatFox: the IOC\'s page on ThreatFox.' },
  ],
  async lookup(client, indicator, ctx) {
    const key = ctx.apiKey
    const res = await client.request({
      method: 'POST',
      path: PATH,
      headers: { 'Auth-Key': key },
      json: { query: 'search_ioc', search_term: threatfoxSearchTerm(indicator) },
      signal: ctx.signal,
    })
    return toThreatfoxFinding(indicator, res.body)
  },
})
