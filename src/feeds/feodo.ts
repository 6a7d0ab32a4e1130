/**
 * abuse.ch Feodo Tracker, the IP blocklist JSON: botnet C2 servers (Dridex, Emotet, QakBot, ...) seen in the last 30
 * days, `[{ip_address, port, status, hostname, as_number, as_name, country, first_seen, last_online, malware}]`.
 * Rating and confidence follow how long a C2 has been offline (FEODO_BANDS); the list can be empty (as during the 2026
 * takedowns), which is a whole, valid download.
 */
import { cleanTags, daysSince, fieldText as text, FeedRows, parseJson, readAll, utcTime } from './feed-kit.js'
import type { FeedDefinition } from './types.js'

/**
 * By days since `last_online` (a C2 answering now: 0): Critical/Confirmed while online, then High/Probable for a
 * week, Moderate/Possible to 30 days, Low/Doubtful after. A C2 offline since February is no longer rated 4 in July.
 */
export const FEODO_BANDS: readonly {
  readonly upToDays: number
  readonly rating: number
  readonly confidence: number
}[] = [
  { upToDays: 7, rating: 4, confidence: 75 },
  { upToDays: 30, rating: 3, confidence: 50 },
  { upToDays: Infinity, rating: 2, confidence: 30 },
]
export const FEODO_ONLINE = { rating: 5, confidence: 95 } as const

const feodoMapping = (
  status: string,
  lastOnline: string | undefined,
  now: number,
): { rating: number; confidence: number } => {
  if (status === 'online') return FEODO_ONLINE
  const days = daysSince(lastOnline, now) ?? Infinity
  const band =
    FEODO_BANDS.find((b) => days <= b.upToDays) ?? (FEODO_BANDS[FEODO_BANDS.length - 1] as (typeof FEODO_BANDS)[number])
  return { rating: band.rating, confidence: band.confidence }
}

export const feodoFeed: FeedDefinition = {
  id: 'feodo',
  title: 'abuse.ch Feodo Tracker',
  description: 'Botnet command-and-control servers seen in the last 30 days (IP blocklist).',
  defaultUrl: 'https://feodotracker.abuse.ch/downloads/ipblocklist.json',
  minIntervalMs: 5 * 60_000,
  licence:
    'abuse.ch terms of use (CC0 for the data); credit "abuse.ch Feodo Tracker" (https://feodotracker.abuse.ch/).',
  async parse(body, sink, context) {
    const rows = new FeedRows(sink)
    const json = parseJson(await readAll(body))
    if (!json.ok) return rows.report(json.why)
    if (!Array.isArray(json.value)) return rows.report('not the Feodo Tracker blocklist (a JSON array)')
    json.value.forEach((entry: unknown, i) => {
      if (typeof entry !== 'object' || entry === null) return rows.reject(i + 1, 'not an object')
      const e = entry as Record<string, unknown>
      const ip = text(e['ip_address'])
      const port = text(e['port'])
      const hostname = text(e['hostname'])
      const firstSeen = utcTime(e['first_seen'])
      const lastSeen = utcTime(e['last_online'])
      rows.add(i + 1, ip, 'Address', {
        ...feodoMapping(text(e['status']), lastSeen, context.now),
        tags: cleanTags([text(e['malware']), 'botnet_cc']),
        attributes: [
          { type: 'Source', value: `abuse.ch Feodo Tracker${port ? ` (C2 port ${port})` : ''}` },
          { type: 'External Reference', value: `https://feodotracker.abuse.ch/browse/host/${encodeURIComponent(ip)}/` },
          ...(hostname ? [{ type: 'Description', value: `Host name: ${hostname}` }] : []),
        ],
        ...(firstSeen ? { firstSeen } : {}),
        ...(lastSeen ? { lastSeen } : {}),
      })
    })
    return rows.report(undefined)
  },
}
