/** Shodan InternetDB: an IP address's open ports, known CVEs, hostnames and Shodan tags. Free, no key. */
import { Type } from 'typebox'
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { HttpResponse } from '../http/types.js'
import type { Finding, RateLimit, SourceDefinition } from './types.js'
import { defineVendorSource } from './vendor-kit.js'
import { answerShape, Maybe } from './answer-shape.js'

const ID = 'internetdb'
const TITLE = 'Shodan InternetDB'

/** No published limit; bursts got hour-long bans, so stay at one call a second. */
const INTERNETDB_RATE_LIMIT: RateLimit = { requests: 1, perMs: 1000 }
/** Most ports / CVEs named in the one-line summary (facts keep them all). */
const INTERNETDB_SUMMARY_ITEMS = 5
// Shodan refreshes InternetDB about weekly.
const CACHE_TTL_MS = 12 * 3_600_000

// Ports come as numbers, everything else as strings; either is read as text.
const Items = Type.Array(Type.Union([Type.String(), Type.Number()]))
/** 200: `{"cpes","hostnames","ip","ports","tags","vulns"}`; the ports list is required. */
const HOST_ANSWER = answerShape(
  TITLE,
  Type.Object({ ports: Items, vulns: Maybe(Items), hostnames: Maybe(Items), tags: Maybe(Items), cpes: Maybe(Items) }),
)
/** 404 "no information" (and InternetDB's other refusals): `{"detail": "..."}`. */
const DETAIL = answerShape(TITLE, Type.Object({ detail: Type.String() }))

const strings = (items: readonly (string | number)[] | null | undefined): string[] => (items ?? []).map(String)

// IPv6 colons are legal in a path segment; everything else unusual is escaped.
export const internetdbPath = (indicator: Indicator): string =>
  `/${encodeURIComponent(indicator.value).replace(/%3A/gi, ':')}`

const listText = (label: string, items: readonly string[]): string | null => {
  if (items.length === 0) return null
  const shown = items.slice(0, INTERNETDB_SUMMARY_ITEMS).join(', ')
  return `${label} ${shown}${items.length > INTERNETDB_SUMMARY_ITEMS ? ` (+${items.length - INTERNETDB_SUMMARY_ITEMS} more)` : ''}`
}

/**
 * Maps a 200 answer (`{"cpes","hostnames","ip","ports","tags","vulns"}`). InternetDB gives context, not a judgement:
 * the verdict is always unknown and the score null; tags say what was seen ("vulns", "open-ports", Shodan's own).
 */
export const toInternetdbFinding = (indicator: Indicator, answer: unknown): Finding => {
  const host = HOST_ANSWER.read(answer, DETAIL.fits(answer) ? `200 (detail: ${answer.detail})` : '200')
  const ports = strings(host.ports)
  const vulns = strings(host.vulns)
  const hostnames = strings(host.hostnames)
  const vendorTags = strings(host.tags)
  const cpes = strings(host.cpes)
  const tags = [
    ...new Set([
      ...(ports.length > 0 ? ['open-ports'] : []),
      ...(vulns.length > 0 ? ['vulns'] : []),
      ...vendorTags.map((t) => t.toLowerCase()),
    ]),
  ]
  const parts = [
    listText('ports', ports),
    listText('CVEs', vulns),
    listText('hostnames', hostnames),
    listText('tags', vendorTags),
  ].filter((x) => x !== null)
  return {
    verdict: 'unknown',
    score: null,
    confidence: null,
    tags,
    summary: parts.length === 0 ? 'known to Shodan, nothing listed' : parts.join('; '),
    facts: { found: true, ports, vulns, hostnames, tags: vendorTags, cpes },
    raw: answer,
  }
}

/** 404 {"detail":"No information available"}: Shodan knows nothing about it. An answer, not a failure. */
const toInternetdbNotFound = (_indicator: Indicator, answer: unknown): Finding => ({
  verdict: 'unknown',
  score: null,
  confidence: null,
  tags: [],
  summary: 'no information in Shodan InternetDB',
  facts: { found: false },
  raw: answer,
})

export const internetdbAnswer = (indicator: Indicator, res: Pick<HttpResponse, 'status' | 'body'>): Finding => {
  if (res.status === 404) {
    // The "no information" 404 carries {"detail":...}; any other 404 means a wrong base URL.
    if (!DETAIL.fits(res.body)) {
      throw new SourceError(
        'bad_answer',
        `${TITLE} answered 404 without its "No information available" body (is the base URL right?)`,
      )
    }
    return toInternetdbNotFound(indicator, res.body)
  }
  return toInternetdbFinding(indicator, res.body)
}

export const internetdbSource: SourceDefinition = defineVendorSource({
  id: ID,
  title: TITLE,
  description:
    "An IP address's open ports, known CVEs, hostnames and tags as last seen by Shodan (context only, no verdict).",
  supports: ['Address'],
  baseUrl: 'https://internetdb.shodan.io',
  rateLimits: [INTERNETDB_RATE_LIMIT],
  cacheTtlMs: CACHE_TTL_MS,
  key: 'none',
  outputs: [
    { key: 'ports', type: 'StringArray', note: 'InternetDB: open ports.' },
    { key: 'vulns', type: 'StringArray', note: 'InternetDB: CVEs.' },
    { key: 'hostnames', type: 'StringArray', note: 'InternetDB: hostnames.' },
  ],
  async lookup(client, indicator) {
    const res = await client.request({
      method: 'GET',
      path: internetdbPath(indicator),
      answerStatuses: [404],
    })
    return internetdbAnswer(indicator, res)
  },
})
