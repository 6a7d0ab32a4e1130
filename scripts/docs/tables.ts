/**
 * Markdown tables generated from the contract and the settings table, so the docs cannot drift from them.
 * `npm run docs` writes them between the markers in docs/*.md; test/docs/generated-tables.test.ts fails when stale.
 */
import type { SettingRow } from '../../src/config/env.js'
import type { AppConfig } from '../../src/contract/types.js'
import type { Layout } from '../../src/contract/types.js'
import { ERRORS } from '../../src/errors.js'
import type { SourceDefinition } from '../../src/sources/types.js'
import { formatRateLimits } from '../../src/config/rate-limit.js'

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')

export const outputsTable = (config: AppConfig, layout: Layout): string => {
  const display = new Map(layout.outputs.map((o) => [o.name, o.display ?? '']))
  const rows = new Map<string, { types: string[]; note: string }>()
  for (const v of config.playbook.outputVariables) {
    const row = rows.get(v.name) ?? { types: [], note: v.note ?? '' }
    row.types.push(v.type)
    if (v.type === 'String') row.note = v.note ?? row.note
    rows.set(v.name, row)
  }
  return [
    '| Output | Types | Shown when | Meaning |',
    '| --- | --- | --- | --- |',
    ...[...rows].map(([name, r]) => `| \`${name}\` | ${r.types.join(', ')} | ${cell(display.get(name) || 'always')} | ${cell(r.note)} |`),
  ].join('\n')
}

export const paramsTable = (config: AppConfig): string =>
  [
    '| Param | Type | Required | Default | Values | Meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...config.params.map(
      (p) =>
        `| \`${p.name}\` | ${p.type}${p.playbookDataType ? ` (${p.playbookDataType.join(', ')})` : ''}${p.encrypt ? ', secret' : ''} | ${p.required ? 'yes' : 'no'} | ${p.default === undefined ? '' : `\`${String(p.default)}\``} | ${cell((p.validValues ?? []).filter((v) => !v.startsWith('${')).join(', '))} | ${cell(p.note ?? p.label)} |`,
    ),
  ].join('\n')

export const settingsTable = (rows: readonly SettingRow[]): string =>
  [
    '| Variable | Default | Meaning |',
    '| --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| \`${r.env}\` | ${r.default === undefined ? '' : `\`${cell(r.default)}\``} | ${cell(r.description)}${r.secret ? ' Secret: never logged.' : ''}${r.param ? ` Per request: param \`${r.param}\`.` : ''} |`,
    ),
  ].join('\n')

/** Replaces the text between `<!-- name:begin -->` and `<!-- name:end -->`; throws when the markers are missing. */
export const replaceBlock = (doc: string, name: string, content: string): string => {
  const begin = `<!-- ${name}:begin -->`
  const end = `<!-- ${name}:end -->`
  const from = doc.indexOf(begin)
  const to = doc.indexOf(end)
  if (from < 0 || to < from) throw new Error(`markers ${begin} ... ${end} not found`)
  return `${doc.slice(0, from + begin.length)}\n${content}\n${doc.slice(to)}`
}

export const errorsTable = (): string =>
  [
    '| Code | HTTP | What it means, what to do |',
    '| --- | --- | --- |',
    ...Object.entries(ERRORS).map(([code, e]) => `| \`${code}\` | ${e.status} | ${cell(e.help)} |`),
  ].join('\n')

export const sourcesTable = (sources: readonly SourceDefinition[]): string =>
  [
    '| Source | Kind | Indicator types | Key | Default limit | What it answers |',
    '| --- | --- | --- | --- | --- | --- |',
    ...sources.map((src) => {
      const key = src.settings.find((s) => s.key === 'apiKey')
      const doc = src.kind === 'vendor' ? ` ([details](sources/${src.id}.md))` : ''
      return `| \`${src.id}\` | ${src.kind} | ${src.supports.join(', ')} | ${key ? `\`${key.env}\`` : 'none'} | ${src.rateLimits ? formatRateLimits(src.rateLimits) : ''} | ${cell(src.description)}${doc} |`
    }),
  ].join('\n')
