/**
 * AlienVault OTX: in how many community pulses does this indicator appear, and is it allow-listed?
 * docs/sources/otx.md says where the answer's shape comes from and explains the mapping.
 */
import { getDomain } from 'tldts'
import { Type } from 'typebox'
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { Finding, SourceDefinition } from './types.js'
import { defineVendorSource } from './vendor-kit.js'
import { answerShape, textOrNull as str, Maybe, Strings } from './answer-shape.js'

const ID = 'otx'
const TITLE = 'AlienVault OTX'
const DEFAULT_BASE_URL = 'https://otx.alienvault.com'
/** OTX publishes no numbers for its limit; this is a polite default. */
const DEFAULT_RATE_LIMIT = { requests: 10, perMs: 1000 }
const CACHE_TTL_MS = 60 * 60 * 1000

/** In this many pulses or more: malicious. In fewer (but some): suspicious. */
export const OTX_MALICIOUS_PULSE_COUNT = 3
/** Score per pulse, capped at 100: 3 pulses reach 75, the usual "malicious" line. */
const OTX_SCORE_PER_PULSE = 25
/** Longest list published in the tags / pulse_names / malware_families facts (raw keeps everything). */
export const OTX_MAX_LISTED = 50

export type OtxSection = 'IPv4' | 'IPv6' | 'domain' | 'hostname' | 'url' | 'file'

/** A Host that IS its registrable domain (public suffix list) is a 'domain', anything below it a 'hostname'. */
export const otxSectionOf = (indicator: Indicator): OtxSection => {
  switch (indicator.type) {
    case 'Address':
      return indicator.value.includes(':') ? 'IPv6' : 'IPv4'
    case 'Host':
      return getDomain(indicator.value) === indicator.value.toLowerCase() ? 'domain' : 'hostname'
    case 'URL':
      return 'url'
    case 'File':
      return 'file'
    default:
      throw new SourceError('internal', `OTX cannot look up ${indicator.type} indicators`)
  }
}

const valueFor = (indicator: Indicator): string =>
  indicator.type === 'File' ? indicator.value.toLowerCase() : indicator.value

/** The /general path for an indicator; the value is percent-encoded (URLs contain '/', '?', '#'). */
export const otxPathOf = (indicator: Indicator): string =>
  `/api/v1/indicators/${otxSectionOf(indicator)}/${encodeURIComponent(valueFor(indicator))}/general`

const UI_SECTION: Readonly<Record<OtxSection, string>> = {
  IPv4: 'ip',
  IPv6: 'ip',
  domain: 'domain',
  hostname: 'hostname',
  url: 'url',
  file: 'file',
}

/** /general 200: pulse_info.count is required; pulses, validation and reputation are read when present. */
const GENERAL_ANSWER = answerShape(
  TITLE,
  Type.Object({
    pulse_info: Type.Object({
      count: Type.Number(),
      pulses: Maybe(
        Type.Array(
          Type.Object({
            name: Maybe(Type.String()),
            tags: Maybe(Strings()),
            malware_families: Maybe(Type.Array(Type.Object({ display_name: Maybe(Type.String()) }))),
          }),
        ),
      ),
    }),
    validation: Maybe(
      Type.Array(
        Type.Object({ name: Maybe(Type.String()), message: Maybe(Type.String()), source: Maybe(Type.String()) }),
      ),
    ),
    reputation: Maybe(Type.Number()),
  }),
)

const distinct = (values: readonly (string | null)[]): string[] => [
  ...new Set(values.filter((v): v is string => v !== null)),
]
const capped = (values: readonly string[]): string[] => values.slice(0, OTX_MAX_LISTED)

export const otxScoreOf = (pulseCount: number): number => Math.min(100, pulseCount * OTX_SCORE_PER_PULSE)

/**
 * Maps a /general answer (status 200, or 404 meaning "OTX does not know it").
 * Allow-listed (non-empty validation) wins over pulses: OTX itself says the indicator is known-good.
 */
export const toOtxFinding = (indicator: Indicator, answer: unknown, status = 200): Finding => {
  const reference = `https://otx.alienvault.com/indicator/${UI_SECTION[otxSectionOf(indicator)]}/${encodeURIComponent(valueFor(indicator))}`
  if (status === 404) {
    return {
      verdict: 'unknown',
      score: null,
      confidence: null,
      tags: [],
      summary: 'OTX: not known',
      facts: {
        pulse_count: 0,
        reputation: null,
        malware_families: [],
        pulse_names: [],
        tags: [],
        validation: [],
        reference,
      },
      raw: answer,
    }
  }
  const general = GENERAL_ANSWER.read(answer, String(status))
  const pulseCount = general.pulse_info.count
  const pulses = general.pulse_info.pulses ?? []
  const pulseNames = capped(distinct(pulses.map((p) => str(p.name))))
  const families = capped(distinct(pulses.flatMap((p) => (p.malware_families ?? []).map((f) => str(f.display_name)))))
  const tags = capped(distinct(pulses.flatMap((p) => p.tags ?? [])))
  const validation = distinct((general.validation ?? []).map((v) => str(v.name) ?? str(v.message) ?? str(v.source)))
  const reputation = general.reputation ?? null
  const facts = {
    pulse_count: pulseCount,
    reputation,
    malware_families: families,
    pulse_names: pulseNames,
    tags,
    validation,
    reference,
  }
  const inPulses = `in ${pulseCount} pulse${pulseCount === 1 ? '' : 's'}${families.length ? ` (${families.join(', ')})` : ''}`
  if (validation.length > 0) {
    return {
      verdict: 'benign',
      score: 0,
      confidence: null,
      tags,
      summary: `OTX: allow-listed (${validation.join('; ')}), ${inPulses}`,
      facts,
      raw: answer,
    }
  }
  if (pulseCount === 0) {
    return { verdict: 'unknown', score: null, confidence: null, tags, summary: 'OTX: in no pulses', facts, raw: answer }
  }
  return {
    verdict: pulseCount >= OTX_MALICIOUS_PULSE_COUNT ? 'malicious' : 'suspicious',
    score: otxScoreOf(pulseCount),
    confidence: null,
    tags,
    summary: `OTX: ${inPulses}`,
    facts,
    raw: answer,
  }
}

export const otxSource: SourceDefinition = defineVendorSource({
  id: ID,
  title: TITLE,
  description:
    'How many OTX community pulses name an IP, host, URL or file hash, with their malware families, or whether OTX allow-lists it.',
  supports: ['Address', 'Host', 'URL', 'File'],
  baseUrl: DEFAULT_BASE_URL,
  rateLimits: [DEFAULT_RATE_LIMIT],
  cacheTtlMs: CACHE_TTL_MS,
  key: 'required',
  keyHint: 'free with an otx.alienvault.com account',
  outputs: [
    { key: 'pulse_count', type: 'String', note: 'OTX: pulses that mention it.' },
    { key: 'reputation', type: 'String', note: 'OTX: OTX reputation.' },
    { key: 'malware_families', type: 'StringArray', note: 'OTX: malware families in those pulses.' },
    { key: 'reference', type: 'String', note: "OTX: the indicator's page on OTX." },
  ],
  async lookup(client, indicator, ctx) {
    const key = ctx.apiKey
    const res = await client.request({
      method: 'GET',
      path: otxPathOf(indicator),
      headers: { 'X-OTX-API-KEY': key },
      answerStatuses: [404],
    })
    return toOtxFinding(indicator, res.body, res.status)
  },
})
