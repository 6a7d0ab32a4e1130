/** AbuseIPDB v2: how confident its community is that an IP address is abusive, and who runs it. */
import { Type } from 'typebox'
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { HttpResponse } from '../http/types.js'
import type { Finding, RateLimit, SourceDefinition, Verdict } from './types.js'
import { defineVendorSource } from './vendor-kit.js'
import { answerShape, textOrNull as stringOrNull, Maybe } from './answer-shape.js'

const ID = 'abuseipdb'
const TITLE = 'AbuseIPDB'

/** abuseConfidenceScore at or above this: verdict malicious. */
export const ABUSEIPDB_MALICIOUS_MIN_SCORE = 75
/** abuseConfidenceScore at or above this (and below malicious): verdict suspicious. */
const ABUSEIPDB_SUSPICIOUS_MIN_SCORE = 1
/** Reports older than this many days are ignored by the vendor's score (its own window, 1..365). */
export const ABUSEIPDB_MAX_AGE_DAYS = 90

/** Free plan: 1,000 checks a day. */
const ABUSEIPDB_RATE_LIMIT: RateLimit = { requests: 1000, perMs: 86_400_000 }
const CACHE_TTL_MS = 3_600_000
const GUI_BASE = 'https://www.abuseipdb.com/check'

/** GET /check 200: `{"data":{...}}`; only the score is required. */
const CHECK_ANSWER = answerShape(
  TITLE,
  Type.Object({
    data: Type.Object({
      abuseConfidenceScore: Type.Number(),
      isWhitelisted: Maybe(Type.Boolean()),
      isTor: Maybe(Type.Boolean()),
      isPublic: Maybe(Type.Boolean()),
      totalReports: Maybe(Type.Number()),
      numDistinctUsers: Maybe(Type.Number()),
      countryCode: Maybe(Type.String()),
      isp: Maybe(Type.String()),
      domain: Maybe(Type.String()),
      usageType: Maybe(Type.String()),
      lastReportedAt: Maybe(Type.String()),
    }),
  }),
)
/** 422: `{"errors":[{"detail":...}]}`. */
const REFUSAL = answerShape(TITLE, Type.Object({ errors: Type.Array(Type.Object({ detail: Maybe(Type.String()) })) }))

/** The query string of GET /check. */
export const abuseipdbCheckParams = (indicator: Indicator): Record<string, string | number> => ({
  ipAddress: indicator.value,
  maxAgeInDays: ABUSEIPDB_MAX_AGE_DAYS,
})

/** Allow-listed by AbuseIPDB: benign. Otherwise the score decides; score 0 is "unknown", never benign. */
export const abuseipdbVerdict = (score: number, whitelisted: boolean): Verdict => {
  if (whitelisted) return 'benign'
  if (score >= ABUSEIPDB_MALICIOUS_MIN_SCORE) return 'malicious'
  if (score >= ABUSEIPDB_SUSPICIOUS_MIN_SCORE) return 'suspicious'
  return 'unknown'
}

/** Maps a 200 answer (`{"data":{...}}`) to a finding. Throws bad_answer on another shape. */
export const toAbuseipdbFinding = (indicator: Indicator, answer: unknown): Finding => {
  const { data } = CHECK_ANSWER.read(answer, '200')
  const score = Math.max(0, Math.min(100, Math.round(data.abuseConfidenceScore)))
  const whitelisted = data.isWhitelisted === true
  const isTor = data.isTor === true
  const totalReports = data.totalReports ?? 0
  const distinctUsers = data.numDistinctUsers ?? 0
  const country = stringOrNull(data.countryCode)
  const isp = stringOrNull(data.isp)
  const usageType = stringOrNull(data.usageType)
  const tags = [
    ...(isTor ? ['tor'] : []),
    ...(whitelisted ? ['whitelisted'] : []),
    ...(totalReports > 0 ? ['reported'] : []),
    ...(data.isPublic === false ? ['not-public'] : []),
  ]
  const who = [isp, country].filter((x) => x !== null).join(', ')
  const reports =
    totalReports === 0
      ? 'no reports'
      : `${totalReports} report${totalReports === 1 ? '' : 's'} from ${distinctUsers} user${distinctUsers === 1 ? '' : 's'}`
  return {
    verdict: abuseipdbVerdict(score, whitelisted),
    score,
    confidence: null,
    tags,
    summary: `abuse confidence ${score}%, ${reports} in ${ABUSEIPDB_MAX_AGE_DAYS} days${whitelisted ? ', allow-listed' : ''}${who ? ` (${who})` : ''}`,
    facts: {
      score,
      total_reports: totalReports,
      distinct_users: distinctUsers,
      country,
      isp,
      domain: stringOrNull(data.domain),
      usage_type: usageType,
      is_tor: isTor,
      is_whitelisted: whitelisted,
      last_reported_at: stringOrNull(data.lastReportedAt),
      link: `${GUI_BASE}/${encodeURIComponent(indicator.value)}`,
    },
    raw: answer,
  }
}

/** Turns the HTTP answer (200 or 422) into a finding or a bad_answer failure quoting the vendor. */
export const abuseipdbAnswer = (indicator: Indicator, res: Pick<HttpResponse, 'status' | 'body'>): Finding => {
  if (res.status === 422) {
    const errors = REFUSAL.fits(res.body) ? res.body.errors : []
    const detail = errors
      .map((e) => e.detail ?? '')
      .filter((d) => d !== '')
      .join('; ')
    throw new SourceError('bad_answer', `${TITLE} refused the address (422: ${detail || 'no detail'})`)
  }
  return toAbuseipdbFinding(indicator, res.body)
}

export const abuseipdbSource: SourceDefinition = defineVendorSource({
  id: ID,
  title: TITLE,
  description:
    "How confident AbuseIPDB's reporters are that an IP address is abusive (0-100), with its ISP, usage type and Tor status.",
  supports: ['Address'],
  baseUrl: 'https://api.abuseipdb.com/api/v2',
  rateLimits: [ABUSEIPDB_RATE_LIMIT],
  cacheTtlMs: CACHE_TTL_MS,
  key: 'required',
  outputs: [
    { key: 'score', type: 'String', note: 'AbuseIPDB: abuse confidence score 0-100.' },
    { key: 'total_reports', type: 'String', note: 'AbuseIPDB: reports in the last 90 days.' },
    { key: 'usage_type', type: 'String', note: 'AbuseIPDB: usage type (e.g. Data Center/Web Hosting/Transit).' },
    { key: 'is_tor', type: 'String', note: 'AbuseIPDB: "true" for a Tor exit node.' },
    { key: 'link', type: 'String', note: "AbuseIPDB: the address's page on AbuseIPDB." },
  ],
  async lookup(client, indicator, ctx) {
    const apiKey = ctx.apiKey
    const res = await client.request({
      method: 'GET',
      path: '/check',
      searchParams: abuseipdbCheckParams(indicator),
      // Without Accept: application/json AbuseIPDB answers HTML.
      headers: { Key: apiKey, Accept: 'application/json' },
      answerStatuses: [422],
    })
    return abuseipdbAnswer(indicator, res)
  },
})
