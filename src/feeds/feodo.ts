/**
 * abuse.ch Feodo Tracker, the IP blocklist JSON: botnet C2 servers (Dridex, Emotet, QakBot, ...) seen in the last 30
 * days, `[{ip_address, port, status, as_number, as_name, country, first_seen, last_online, malware}]`.
 */
import { fieldText as text, FeedRows, parseJson, tagList, utcTime } from './feed-kit.js'
import type { FeedDefinition } from './types.js'

/** A C2 answering now is Critical and Confirmed; one offline but listed in the last 30 days, High and Probable. */
export const FEODO_MAPPING = {
  online: { rating: 5, confidence: 95 },
  offline: { rating: 4, confidence: 75 },
} as const

export const feodoFeed: FeedDefinition = {
  id: 'feodo',
  title: 'abuse.ch Feodo Tracker',
  description: 'Botnet command-and-control servers seen in the last 30 days (IP blocklist).',
  defaultUrl: 'https://feodotracker.abuse.ch/downloads/ipblocklist.json',
  minIntervalMs: 5 * 60_000,
  licence:
    'abuse.ch terms of use (CC0 for the data); credit "abuse.ch Feodo Tracker" (https://feodotracker.abuse.ch/).',
  parse(body, sink) {
    const rows = new FeedRows(sink)
    const json = parseJson(body)
    if (!json.ok) return rows.result(json.why)
    if (!Array.isArray(json.value)) return rows.result('not the Feodo Tracker blocklist (a JSON array)')
    json.value.forEach((entry: unknown, i) => {
      if (typeof entry !== 'object' || entry === null) return rows.reject(i + 1, 'not an object')
      const e = entry as Record<string, unknown>
      const status = text(e['status'])
      const malware = text(e['malware'])
      const firstSeen = utcTime(e['first_seen'])
      const lastSeen = utcTime(e['last_online'])
      const port = text(e['port'])
      rows.add(i + 1, text(e['ip_address']), 'Address', {
        ...(status === 'online' ? FEODO_MAPPING.online : FEODO_MAPPING.offline),
        tags: tagList([malware, 'botnet_cc']),
        attributes: [
          { type: 'Source', value: `abuse.ch Feodo Tracker${port ? ` (C2 port ${port})` : ''}` },
          {
            type: 'External Reference',
            value: `https://feodotracker.abuse.ch/browse/host/${encodeURIComponent(text(e['ip_address']))}/`,
          },
        ],
        ...(firstSeen ? { firstSeen } : {}),
        ...(lastSeen ? { lastSeen } : {}),
      })
    })
    return rows.result(undefined)
  },
}
