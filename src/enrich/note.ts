/**
 * The Markdown note written on the indicator. Pure: time and app identity come in as arguments.
 * The digest covers what was found (not when), so a retried run with the same findings yields the same digest.
 */
import { hash } from 'node:crypto'
import type { Indicator } from '../indicators/types.js'
import type { Assessment, SourceOutcome } from './types.js'

export interface NoteMeta {
  readonly appName: string
  readonly appVersion: string
  readonly at: Date
}

const NEEDS_ESCAPE = /[\n|]/

/** One table cell: on one line, pipes escaped. Most texts need neither, and are only trimmed. */
const cell = (text: string): string =>
  (NEEDS_ESCAPE.test(text) ? text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|') : text).trim()

const outcomeText = (o: SourceOutcome): string => {
  if (o.status !== 'ok') return o.reason
  const f = o.finding
  const verdict = f.verdict === 'unknown' ? '' : `**${f.verdict}**${f.score === null ? '' : ` (${f.score})`}: `
  return `${verdict}${f.summary}${o.cached ? ` _(cached ${Math.round(o.ageMs / 1000)} s ago)_` : ''}`
}

export const findingsDigest = (
  indicator: Indicator,
  assessment: Assessment,
  outcomes: readonly SourceOutcome[],
): string => {
  const material = JSON.stringify({
    i: [indicator.type, indicator.value],
    a: [assessment.verdict, assessment.score, assessment.threatRating, assessment.confidence],
    o: outcomes.map((o) =>
      o.status === 'ok'
        ? [o.source, o.status, o.finding.verdict, o.finding.score, o.finding.summary]
        : [o.source, o.status, o.kind],
    ),
  })
  // One-shot hash: no Hash object per indicator (each is a native object the collector has to finalise).
  return hash('sha256', material, 'hex').slice(0, 12)
}

export const renderNote = (
  indicator: Indicator,
  assessment: Assessment,
  outcomes: readonly SourceOutcome[],
  digest: string,
  meta: NoteMeta,
): string => {
  const a = assessment
  const lines = [
    `### Enrichment of \`${cell(indicator.value)}\` (${indicator.type})`,
    '',
    `**Verdict: ${a.verdict}** · score ${a.score}/100 · threat rating ${a.threatRating}/5 · confidence ${a.confidence}/100`,
    '',
    '| Source | Status | Result |',
    '| --- | --- | --- |',
    ...outcomes.map((o) => `| ${o.source} | ${o.status} | ${cell(outcomeText(o))} |`),
  ]
  if (a.tags.length > 0) lines.push('', `Tags: ${a.tags.map(cell).join(', ')}`)
  // The digest stays outside the italics: write-back finds earlier notes by the whole token `digest: <hex>`.
  lines.push('', `_${meta.appName} ${meta.appVersion} · ${meta.at.toISOString()}_ · digest: ${digest}`)
  return lines.join('\n')
}
