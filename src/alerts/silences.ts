/**
 * Silences, as Alertmanager has them: a matcher (a rule, an indicator, or both) and an end time; while one holds, the
 * alerts it matches are recorded as `silenced` rather than sent, and once it ends an alert raised again is news.
 * Kept with the outbox (shared by replicas on Redis). Pure matching here; the worker stores them.
 */
import type { Alert } from './api.js'

export interface Silence {
  readonly id: string
  /** The rule id it mutes; undefined: any rule. */
  readonly rule?: string
  /** The indicator value it mutes, case-insensitive; `*.example.com` also mutes example.com's subdomains. */
  readonly indicator?: string
  /** ms since epoch. */
  readonly endsAt: number
  readonly createdAt: number
  /** Why (and who): required, as a silence nobody can explain is a silence nobody lifts. */
  readonly comment: string
}

/** The longest a silence may run: a forgotten one should not mute a rule for good. */
export const MAX_SILENCE_MS = 90 * 86_400_000

const indicatorMatches = (pattern: string, value: string): boolean => {
  const p = pattern.toLowerCase()
  const v = value.toLowerCase()
  if (p.startsWith('*.')) return v === p.slice(2) || v.endsWith(p.slice(1))
  return v === p
}

const silenceMatches = (s: Silence, alert: Pick<Alert, 'rule' | 'indicator'>, now: number): boolean =>
  s.endsAt > now &&
  (s.rule === undefined || s.rule === alert.rule) &&
  (s.indicator === undefined || indicatorMatches(s.indicator, alert.indicator.value))

/** The silence that holds an alert now (the one ending last), if any. */
export const silenceFor = (
  silences: readonly Silence[],
  alert: Pick<Alert, 'rule' | 'indicator'>,
  now: number,
): Silence | undefined => silences.filter((s) => silenceMatches(s, alert, now)).sort((a, b) => b.endsAt - a.endsAt)[0]
