// @ts-check
/**
 * An alert plugin: a service that polls something other than ThreatConnect. It asks abuse.ch ThreatFox for the IOCs
 * of the last day (`{"query": "get_iocs", "days": 1}`, header Auth-Key) and raises an alert for each new one of the
 * malware families a rule watches, at or above its confidence. The worker runs it on ALERTS_SCHEDULE and with
 * `npm run alerts`, keeps its checkpoint (the newest first_seen it raised), and delivers what it found.
 *
 * Settings, from the environment: THREATFOX_AUTH_KEY (required; a free abuse.ch key), THREATFOX_API_URL (default
 * https://threatfox-api.abuse.ch/api/v1/). A rule:
 *   { "id": "cobalt", "service": "threatfox", "malware": ["Cobalt Strike"], "minConfidence": 75,
 *     "destinations": { "slackChannels": "#threat-intel" } }
 */
import { Type, defineService, definePlugin } from 'tc-enrich/alerts'

/** ThreatFox's IOC types -> ThreatConnect's indicator types (an ip:port is its IP; the port goes in the reason). */
const TYPES = { 'ip:port': 'Address', domain: 'Host', url: 'URL', md5_hash: 'File', sha1_hash: 'File', sha256_hash: 'File' }

/** "2026-10-03 16:05:06 UTC" -> ISO 8601. */
const isoOf = (seen) => new Date(`${String(seen).replace(' UTC', '').replace(' ', 'T')}Z`).toISOString()

/** ThreatFox's confidence 0-100 -> a Threat Rating. */
const ratingOf = (confidence) => (confidence >= 90 ? 4 : confidence >= 75 ? 3 : 2)

const threatfox = defineService({
  rule: Type.Object({
    malware: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      minItems: 1,
      maxItems: 50,
      description: 'Malware families, as ThreatFox names them (malware_printable or malware, any case).',
    }),
    minConfidence: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Default 75.' })),
  }),
  connect(context) {
    const key = context.env['THREATFOX_AUTH_KEY']
    if (key === undefined || key === '') throw new Error('needs THREATFOX_AUTH_KEY (an abuse.ch Auth-Key)')
    const url = new URL(context.env['THREATFOX_API_URL'] ?? 'https://threatfox-api.abuse.ch/api/v1/')
    return { key, path: url.pathname, client: context.http({ name: 'threatfox_watch', baseUrl: `${url.origin}/` }) }
  },
  async fetch({ rule, connection, checkpoint }) {
    const res = await connection.client.request({
      method: 'POST',
      path: connection.path,
      json: { query: 'get_iocs', days: 1 },
      headers: { 'auth-key': connection.key },
      secrets: [connection.key],
    })
    const body = /** @type {{ query_status?: string, data?: unknown }} */ (res.body)
    if (body?.query_status === 'no_result') return { alerts: [] }
    if (body?.query_status !== 'ok' || !Array.isArray(body.data))
      throw new Error(`ThreatFox answered query_status ${String(body?.query_status)}`)
    const families = new Set(rule.malware.map((m) => m.toLowerCase()))
    const min = rule.minConfidence ?? 75
    const since = checkpoint === undefined ? 0 : Date.parse(checkpoint)
    let newest = checkpoint
    const alerts = []
    for (const ioc of body.data) {
      const type = TYPES[ioc.ioc_type]
      const seen = isoOf(ioc.first_seen)
      const family = [ioc.malware_printable, ioc.malware].some((m) => typeof m === 'string' && families.has(m.toLowerCase()))
      if (type === undefined || !family || ioc.confidence_level < min || Date.parse(seen) <= since) continue
      const [value, port] = ioc.ioc_type === 'ip:port' ? String(ioc.ioc).split(':') : [String(ioc.ioc)]
      alerts.push({
        indicator: { type, value },
        rating: ratingOf(ioc.confidence_level),
        confidence: ioc.confidence_level,
        reason: `ThreatFox: ${ioc.malware_printable} ${ioc.threat_type}${port !== undefined ? ` on port ${port}` : ''}`,
        tags: Array.isArray(ioc.tags) ? ioc.tags : [],
        observedAt: seen,
        link: `https://threatfox.abuse.ch/ioc/${encodeURIComponent(ioc.id)}/`,
        details: { malware: ioc.malware_printable },
      })
      if (newest === undefined || seen > newest) newest = seen
    }
    return { alerts, ...(newest !== undefined ? { checkpoint: newest } : {}) }
  },
})

export default definePlugin({ services: { threatfox } })
