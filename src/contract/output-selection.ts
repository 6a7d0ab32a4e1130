/**
 * The outputs a request names (`outputs: ["enrich.results.verdict", "enrich.results.asn.*"]`), as ThreatConnect's
 * tc_playbook_out_variables does for apps: exact names, or a prefix ending in `.*`. The reply then carries only
 * those, and only those are worked out. Selections are kept (a playbook sends the same list every time).
 */
import type { OutputIndex } from './outputs.js'

export type OutputSelection =
  { readonly ok: true; readonly index: OutputIndex } | { readonly ok: false; readonly unknown: readonly string[] }

const MAX_KEPT = 64

export const outputSelector = (index: OutputIndex): ((requested: readonly string[]) => OutputSelection) => {
  const kept = new Map<string, OutputSelection>()
  return (requested) => {
    const key = requested.join('\n')
    const known = kept.get(key)
    if (known !== undefined) return known
    const wanted = new Set<string>()
    const unknown: string[] = []
    for (const pattern of requested) {
      const prefix = pattern.endsWith('.*') ? pattern.slice(0, -1) : undefined
      const matches = [...index.byName.keys()].filter((name) =>
        prefix === undefined ? name === pattern : name.startsWith(prefix),
      )
      if (matches.length === 0) unknown.push(pattern)
      for (const name of matches) wanted.add(name)
    }
    const selection: OutputSelection =
      unknown.length > 0
        ? { ok: false, unknown }
        : {
            ok: true,
            index: {
              byName: new Map([...index.byName].filter(([name]) => wanted.has(name))),
              listDelimiter: index.listDelimiter,
              responseSources: new Set(
                [...index.responseSources].filter((id) => wanted.has(`enrich.response.${id}.json`)),
              ),
            },
          }
    if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value as string)
    kept.set(key, selection)
    return selection
  }
}
