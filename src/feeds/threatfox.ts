/**
 * abuse.ch ThreatFox, the JSON export: an object keyed by IOC id, each a list of entries with `ioc_value` (or `ioc`),
 * `ioc_type`, `threat_type`, `malware_printable`, `confidence_level`, `first_seen_utc`, `last_seen_utc`, `tags`,
 * `reference`. The reporter's confidence is ThreatFox's own 0-100: kept as the confidence.
 */
import { fieldText as text, FeedRows, parseJson, tagList, utcTime } from './feed-kit.js'
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

/** Threat Rating by ThreatFox's threat type: a live C2 is High, a payload or its delivery Moderate. */
const THREATFOX_RATING: Readonly<Record<string, number>> = { botnet_cc: 4, payload: 3, payload_delivery: 3 }
const THREATFOX_DEFAULT_RATING = 2

export const threatfoxFeed: FeedDefinition = {
  id: 'threatfox',
  title: 'abuse.ch ThreatFox',
  description: 'IOCs (C2 addresses, domains, URLs, payload hashes) shared by the ThreatFox community (recent export).',
  defaultUrl: 'https://threatfox.abuse.ch/export/json/recent/',
  minIntervalMs: 5 * 60_000,
  licence: 'abuse.ch terms of use (CC0 for the data); credit "abuse.ch ThreatFox" (https://threatfox.abuse.ch/api/).',
  auth: { env: 'THREATFOX_API_KEY', header: 'Auth-Key' },
  parse(body, sink) {
    const rows = new FeedRows(sink)
    const json = parseJson(body)
    if (!json.ok) return rows.result(json.why)
    if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
      return rows.result('not the ThreatFox export (an object keyed by IOC id)')
    }
    let n = 0
    for (const [id, entries] of Object.entries(json.value as Record<string, unknown>)) {
      for (const entry of Array.isArray(entries) ? entries : [entries]) {
        n += 1
        if (typeof entry !== 'object' || entry === null) {
          rows.reject(n, `IOC ${id}: not an object`)
          continue
        }
        const e = entry as Record<string, unknown>
        const iocType = text(e['ioc_type'])
        const requested = TYPE_OF[iocType]
        if (requested === undefined) {
          rows.reject(n, `IOC ${id}: unknown ioc_type '${iocType.slice(0, 40)}'`)
          continue
        }
        // ip:port -> the address ThreatConnect keys by ("[v6]:port" too).
        const raw = text(e['ioc_value'] ?? e['ioc'])
        const value = iocType === 'ip:port' ? raw.replace(/^\[(.*)\]:\d+$/, '$1').replace(/^([^:\]]+):\d+$/, '$1') : raw
        const confidence =
          typeof e['confidence_level'] === 'number' ? Math.max(0, Math.min(100, Math.round(e['confidence_level']))) : 50
        const threat = text(e['threat_type'])
        const malware = text(e['malware_printable'])
        const firstSeen = utcTime(e['first_seen_utc'] ?? e['first_seen'])
        const lastSeen = utcTime(e['last_seen_utc'] ?? e['last_seen'])
        const reference = text(e['reference'])
        rows.add(n, value, requested, {
          rating: THREATFOX_RATING[threat] ?? THREATFOX_DEFAULT_RATING,
          confidence,
          tags: tagList([malware, threat, ...tagList(e['tags'])]),
          attributes: [
            { type: 'Source', value: `abuse.ch ThreatFox IOC ${id}` },
            {
              type: 'External Reference',
              value: reference !== '' ? reference : `https://threatfox.abuse.ch/ioc/${encodeURIComponent(id)}/`,
            },
          ],
          ...(firstSeen ? { firstSeen } : {}),
          ...(lastSeen ? { lastSeen } : {}),
        })
      }
    }
    return rows.result(undefined)
  },
}
