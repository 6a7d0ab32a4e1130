/**
 * GreyNoise Community: whether an IP address is an internet-wide scanner (noise) or a known business service (RIOT).
 */
import { Type } from 'typebox'
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { HttpResponse } from '../http/types.js'
import type { Finding, RateLimit, SourceDefinition, Verdict } from './types.js'
import { defineVendorSource } from './vendor-kit.js'
import { answerShape, textOrNull as stringOrNull, Maybe } from './answer-shape.js'

const ID = 'greynoise'
const TITLE = 'GreyNoise'

/**
 * Verdict mapping (GreyNoise gives a class, no score):
 * classification "malicious" -> malicious (wins over RIOT); "benign" or riot -> benign;
 * noise with any other class -> suspicious (it scans the internet, intent unknown); otherwise unknown.
 */
const GREYNOISE_VERDICT_BY_CLASSIFICATION: Readonly<Record<string, Verdict>> = {
  malicious: 'malicious',
  benign: 'benign',
}
const GREYNOISE_NOISE_VERDICT: Verdict = 'suspicious'

/** Community quotas are small and change; 50 a day is a guess (unconfirmed). */
const GREYNOISE_RATE_LIMIT: RateLimit = { requests: 50, perMs: 86_400_000 }
const CACHE_TTL_MS = 6 * 3_600_000
const GUI_BASE = 'https://viz.greynoise.io/ip'

/** 200: `{"ip","noise","riot","classification","name","link","last_seen","message"}`; the two flags are required. */
const COMMUNITY_ANSWER = answerShape(
  TITLE,
  Type.Object({
    noise: Type.Boolean(),
    riot: Type.Boolean(),
    classification: Maybe(Type.String()),
    name: Maybe(Type.String()),
    link: Maybe(Type.String()),
    last_seen: Maybe(Type.String()),
  }),
)
/** What GreyNoise sends with a 400 or a "not observed" 404: `{"ip"?, "message"}`. */
const MESSAGE = answerShape(TITLE, Type.Object({ ip: Type.Optional(Type.String()), message: Maybe(Type.String()) }))

const messageOf = (body: unknown): string | null => (MESSAGE.fits(body) ? stringOrNull(body.message) : null)

// IPv6 colons are legal in a path segment; everything else unusual is escaped.
export const greynoisePath = (indicator: Indicator): string =>
  `/v3/community/${encodeURIComponent(indicator.value).replace(/%3A/gi, ':')}`

export const greynoiseVerdict = (classification: string | null, noise: boolean, riot: boolean): Verdict => {
  const byClass = classification === null ? undefined : GREYNOISE_VERDICT_BY_CLASSIFICATION[classification]
  if (byClass === 'malicious') return 'malicious'
  if (byClass === 'benign' || riot) return 'benign'
  if (noise) return GREYNOISE_NOISE_VERDICT
  return 'unknown'
}

/** Maps a 200 answer (`{"ip","noise","riot","classification","name","link","last_seen","message"}`). */
export const toGreynoiseFinding = (indicator: Indicator, answer: unknown): Finding => {
  const message = messageOf(answer)
  // A 200 with only a message (e.g. a quota notice) says more than the missing flags do.
  const observed = COMMUNITY_ANSWER.read(answer, message === null ? '200' : `200 (message: ${message})`)
  const { noise, riot } = observed
  const classification = stringOrNull(observed.classification)
  const name = stringOrNull(observed.name)
  const lastSeen = stringOrNull(observed.last_seen)
  const tags = [...(noise ? ['scanner'] : []), ...(riot ? ['business-service'] : [])]
  const what = [
    classification ? `classified ${classification}` : 'not classified',
    noise ? 'scans the internet' : null,
    riot ? 'a known business service' : null,
    lastSeen ? `last seen ${lastSeen}` : null,
  ].filter((x) => x !== null)
  // GreyNoise names actors and services; "unknown" is its placeholder for no name.
  const named = name !== null && name !== 'unknown' ? `${name}: ` : ''
  return {
    verdict: greynoiseVerdict(classification, noise, riot),
    score: null,
    confidence: null,
    tags,
    summary: named + what.join(', '),
    facts: {
      observed: true,
      classification,
      noise,
      riot,
      name,
      last_seen: lastSeen,
      link: stringOrNull(observed.link) ?? `${GUI_BASE}/${encodeURIComponent(indicator.value)}`,
    },
    raw: answer,
  }
}

/** 404 with a JSON body: GreyNoise has not observed the IP. An answer: unknown, never benign. */
const toGreynoiseNotObserved = (indicator: Indicator, answer: unknown): Finding => ({
  verdict: 'unknown',
  score: null,
  confidence: null,
  tags: [],
  summary: 'not observed by GreyNoise',
  facts: {
    observed: false,
    noise: false,
    riot: false,
    link: `${GUI_BASE}/${encodeURIComponent(indicator.value)}`,
  },
  raw: answer,
})

/** Turns the HTTP answer (200, 404 "not observed", or 400 e.g. a non-routable address) into a finding or a failure. */
export const greynoiseAnswer = (indicator: Indicator, res: Pick<HttpResponse, 'status' | 'body'>): Finding => {
  if (res.status === 400) {
    throw new SourceError('bad_answer', `${TITLE} refused the address (400: ${messageOf(res.body) ?? 'no message'})`)
  }
  if (res.status === 404) {
    // GreyNoise's "not observed" 404 carries JSON with the ip; any other 404 means a wrong base URL.
    if (!MESSAGE.fits(res.body) || (res.body.ip === undefined && res.body.message === undefined)) {
      throw new SourceError(
        'bad_answer',
        `${TITLE} answered 404 without its "not observed" body (is the base URL right?)`,
      )
    }
    return toGreynoiseNotObserved(indicator, res.body)
  }
  return toGreynoiseFinding(indicator, res.body)
}

export const greynoiseSource: SourceDefinition = defineVendorSource({
  id: ID,
  title: TITLE,
  description:
    'Whether GreyNoise sees an IP address scanning the internet (noise) or as a known business service (RIOT), and its classification.',
  supports: ['Address'],
  baseUrl: 'https://api.greynoise.io',
  rateLimits: [GREYNOISE_RATE_LIMIT],
  cacheTtlMs: CACHE_TTL_MS,
  key: 'optional',
  // The community API answers without a key, under a smaller quota.
  keyHint: 'using the unauthenticated community API (smaller quota)',
  outputs: [
    { key: 'classification', type: 'String', note: 'GreyNoise: benign, malicious or unknown.' },
    { key: 'noise', type: 'String', note: 'GreyNoise: "true" when seen scanning the internet.' },
    { key: 'riot', type: 'String', note: 'GreyNoise: "true" for a known benign business service (RIOT).' },
    { key: 'name', type: 'String', note: 'GreyNoise: the actor or service name.' },
  ],
  async lookup(client, indicator, ctx) {
    const { apiKey } = ctx
    const res = await client.request({
      method: 'GET',
      path: greynoisePath(indicator),
      headers: apiKey === undefined ? {} : { key: apiKey },
      answerStatuses: [400, 404],
    })
    return greynoiseAnswer(indicator, res)
  },
})
