/**
 * abuse.ch ThreatFox, the JSON export (`export/json/recent/`): an object keyed by IOC id, each a list of entries with
 * `ioc_value`, `ioc_type`, `threat_type`, `malware_printable`, `confidence_level`, `is_compromised`, `first_seen_utc`,
 * `last_seen_utc`, `tags`, `reference`; or the API's answer `{"query_status": "ok", "data": [{id, ioc, ...}]}`. Every
 * IOC becomes one item; IOCs that are one indicator (an IP on several ports) are merged by the feed job: every malware
 * family and port kept, the highest confidence. The reporter's confidence is ThreatFox's own 0-100: kept as it is.
 */
import { cleanTags, fieldText as text, FeedRows, parseJson, readAll, tagList, utcTime } from './feed-kit.js'
import type { RequestedType } from '../indicators/types.js'
import type { FeedDefinition } from './types.js'

const TYPE_OF: Readonly<Record<string, RequestedType>> = {
  'ip:port': 'Address',
  domain: 'Host',
  url: 'URL',
  md5_hash: 'File',
  sha1_hash: 'File',
  sha256_hash: 'File',
}

/** Threat Rating by threat type: a live C2 is High; a payload, its delivery or a card skimmer Moderate. */
const THREATFOX_RATING: Readonly<Record<string, number>> = {
  botnet_cc: 4,
  payload: 3,
  payload_delivery: 3,
  cc_skimming: 3,
}
const THREATFOX_DEFAULT_RATING = 2
/** A hacked legitimate site or host: a victim serving malware for now, not the actor's infrastructure. */
export const COMPROMISED_RATING = 2
const COMPROMISED_TAG = 'compromised'

/** The entries of either shape, each with its IOC id; undefined (with why) when the body is neither. */
const entriesOf = (value: unknown): { entries: [string, unknown][] } | { why: string } => {
  if (typeof value !== 'object' || value === null) return { why: 'not the ThreatFox export (a JSON object)' }
  const record = value as Record<string, unknown>
  if (typeof record['query_status'] === 'string') {
    if (record['query_status'] !== 'ok' || !Array.isArray(record['data'])) {
      return { why: `the ThreatFox API answered query_status '${String(record['query_status']).slice(0, 40)}'` }
    }
    return { entries: record['data'].map((e: unknown) => [text((e as Record<string, unknown> | null)?.['id']), e]) }
  }
  if (Array.isArray(value)) return { why: 'not the ThreatFox export (an object keyed by IOC id, not a list)' }
  const keys = Object.keys(record)
  if (keys.some((k) => !/^\d+$/.test(k))) return { why: 'not the ThreatFox export (its keys are IOC ids)' }
  return {
    entries: keys.flatMap((id) =>
      (Array.isArray(record[id]) ? record[id] : [record[id]]).map((e): [string, unknown] => [id, e]),
    ),
  }
}

export const threatfoxFeed: FeedDefinition = {
  id: 'threatfox',
  title: 'abuse.ch ThreatFox',
  description: 'IOCs (C2 addresses, domains, URLs, payload hashes) shared by the ThreatFox community (recent export).',
  defaultUrl: 'https://threatfox.abuse.ch/export/json/recent/',
  minIntervalMs: 5 * 60_000,
  licence: 'abuse.ch terms of use (CC0 for the data); credit "abuse.ch ThreatFox" (https://threatfox.abuse.ch/api/).',
  auth: { env: 'THREATFOX_API_KEY', header: 'Auth-Key' },
  async parse(body, sink) {
    const rows = new FeedRows(sink)
    const json = parseJson(await readAll(body))
    if (!json.ok) return rows.report(json.why)
    const read = entriesOf(json.value)
    if ('why' in read) return rows.report(read.why)
    let n = 0
    for (const [id, entry] of read.entries) {
      n += 1
      if (typeof entry !== 'object' || entry === null || id === '') {
        rows.reject(n, `IOC ${id || '(no id)'}: not an IOC object`)
        continue
      }
      const e = entry as Record<string, unknown>
      const iocType = text(e['ioc_type'])
      const requested = TYPE_OF[iocType]
      if (requested === undefined) {
        rows.reject(n, `IOC ${id}: unknown ioc_type '${iocType.slice(0, 40)}'`)
        continue
      }
      // ip:port -> the address ThreatConnect keys by ("[v6]:port" too); the port is kept in the Source attribute.
      const raw = text(e['ioc_value'] ?? e['ioc'])
      const port = iocType === 'ip:port' ? /:(\d+)$/.exec(raw)?.[1] : undefined
      const value = iocType === 'ip:port' ? raw.replace(/^\[(.*)\]:\d+$/, '$1').replace(/^([^:\]]+):\d+$/, '$1') : raw
      const level = e['confidence_level']
      const confidence = typeof level === 'number' ? Math.max(0, Math.min(100, Math.round(level))) : 50
      const threat = text(e['threat_type'])
      const compromised = e['is_compromised'] === true || e['is_compromised'] === 1 || e['is_compromised'] === '1'
      const rating = THREATFOX_RATING[threat] ?? THREATFOX_DEFAULT_RATING
      const firstSeen = utcTime(e['first_seen_utc'] ?? e['first_seen'])
      const lastSeen = utcTime(e['last_seen_utc'] ?? e['last_seen'])
      const reference = text(e['reference'])
      rows.add(n, value, requested, {
        rating: compromised ? Math.min(rating, COMPROMISED_RATING) : rating,
        confidence,
        tags: cleanTags([
          text(e['malware_printable']),
          threat,
          ...tagList(e['tags']),
          ...(compromised ? [COMPROMISED_TAG] : []),
        ]),
        attributes: [
          {
            type: 'Source',
            value: `abuse.ch ThreatFox IOC ${id}${port === undefined ? '' : ` (${threat || 'seen'} on port ${port})`}`,
          },
          {
            type: 'External Reference',
            value: reference !== '' ? reference : `https://threatfox.abuse.ch/ioc/${encodeURIComponent(id)}/`,
          },
        ],
        ...(firstSeen ? { firstSeen } : {}),
        ...(lastSeen ? { lastSeen } : {}),
      })
    }
    return rows.report(undefined)
  },
}
