/** Durations as settings and rules write them ("30s", "2m", "4h", "30d", "0", or a bare number of seconds). */
import { UNIT_MS } from './rate-limit.js'

/** The text in ms; throws an Error naming what is wrong (not a duration, or longer than `maxMs`). */
export const parseDuration = (text: string, maxMs: number): number => {
  const m = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(text)
  if (!m) throw new Error(`'${text.slice(0, 40)}' is not a duration like 30s, 2m, 4h or 30d`)
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS]
  if (ms > maxMs) throw new Error(`'${text.slice(0, 40)}' is longer than ${Math.round(maxMs / 86_400_000)} days`)
  return ms
}
