/**
 * Progress on a long feed run: over a terminal, one line redrawn in place (rows read, batches uploaded, how much of
 * the download came and the time left); otherwise a log line at least every 10 seconds, so a run that takes minutes
 * is never silent. Time comes from an injectable clock.
 */
import { systemClock, type Clock, type ClockTimer } from '../util/clock.js'

interface ProgressFigures {
  rows: number
  batches: number
  bytes: number
  expectedBytes: number | undefined
}

export interface ProgressOptions {
  readonly feed: string
  /** Redraw one line in place (a terminal), or log lines. */
  readonly tty: boolean
  /** Where the redrawn line goes (stderr, say). */
  readonly write: (text: string) => void
  readonly log: (line: string) => void
  readonly clock?: Clock
  readonly everyMs?: number
}

export interface Progress {
  readonly figures: ProgressFigures
  /** Figures changed: a terminal's line is redrawn (at most every 250 ms). */
  tick(): void
  stop(): void
}

const thousands = (n: number): string => n.toLocaleString('en-US')

export const startProgress = (options: ProgressOptions): Progress => {
  const clock = options.clock ?? systemClock
  const everyMs = options.everyMs ?? 10_000
  const startedAt = clock.now()
  const figures: ProgressFigures = { rows: 0, batches: 0, bytes: 0, expectedBytes: undefined }
  let drawnAt = -Infinity
  let timer: ClockTimer | undefined
  const line = (): string => {
    const elapsed = clock.now() - startedAt
    const share =
      figures.expectedBytes !== undefined && figures.expectedBytes > 0
        ? Math.min(1, figures.bytes / figures.expectedBytes)
        : undefined
    const eta =
      share !== undefined && share > 0 && share < 1
        ? `, about ${Math.ceil((elapsed / share - elapsed) / 1000)} s left`
        : ''
    const done =
      share === undefined
        ? `${thousands(Math.round(figures.bytes / 1024))} KiB read`
        : `${Math.round(share * 100)}% of the download`
    return `${options.feed}: ${thousands(figures.rows)} rows read, ${figures.batches} batches uploaded, ${done}${eta}`
  }
  const schedule = (): void => {
    timer = clock.setTimeout(() => {
      options.log(line())
      schedule()
    }, everyMs)
    timer.unref?.()
  }
  if (!options.tty) schedule()
  return {
    figures,
    tick() {
      if (!options.tty) return
      const now = clock.now()
      if (now - drawnAt < 250) return
      drawnAt = now
      options.write(`\r${line()}\u001b[K`)
    },
    stop() {
      if (timer !== undefined) clock.clearTimeout(timer)
      if (options.tty && drawnAt > -Infinity) options.write(`\r${line()}\u001b[K\n`)
    },
  }
}
