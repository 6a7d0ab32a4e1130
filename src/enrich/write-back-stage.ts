/**
 * The write-back stage: each enriched indicator's note (and, when asked, rating, confidence, tags, Description)
 * onto the indicator in ThreatConnect. Never throws and never loses the enrichment: every indicator gets a result.
 * Where it writes comes from the service's settings only; a run may pick a configured profile by name.
 */
import type { PlatformClientPool } from '../platform/client.js'
import { platformSettingsFor, type PlatformProfiles } from '../config/platform.js'
import { failedWriteback, skippedWriteback, writeBack, type WritebackResult } from '../platform/writeback.js'
import { mapConcurrent } from '../util/map-concurrent.js'
import type { Locks } from '../state/locks.js'
import { hash } from 'node:crypto'
import type { RunRequest } from './run-request.js'
import type { IndicatorResult } from './types.js'

export interface WriteBackOptions {
  readonly pool: PlatformClientPool
  readonly profiles: PlatformProfiles
  /** The run's deadline: write-back gets no time of its own; what it cannot finish by then is reported as failed. */
  readonly deadline: { readonly signal: AbortSignal; readonly at: number }
  readonly concurrency: number
  /** One note per (ThreatConnect, owner, indicator, digest) even when runs race, here or on another replica. */
  readonly locks: Locks
}

export const writeBackAll = async (
  results: readonly IndicatorResult[],
  run: RunRequest,
  opts: WriteBackOptions,
): Promise<WritebackResult[]> => {
  if (!run.writeNote) return results.map(() => skippedWriteback('write_note is false'))
  // The request schema already refused a profile that is not configured; this is the same check, kept total.
  const settings = platformSettingsFor(opts.profiles, run.profile, run.owner)
  if (settings === undefined)
    return results.map(() => skippedWriteback(`no ThreatConnect profile named '${run.profile ?? ''}'`))
  if (!settings.configured)
    return results.map(() => skippedWriteback(`${settings.reason}; the note is only rendered into the outputs`))
  const signal = opts.deadline.signal
  if (signal.aborted) {
    const why = signal.reason instanceof Error ? signal.reason.message : 'the run was cancelled'
    return results.map(() => failedWriteback(`not written: ${why}`))
  }
  const client = opts.pool.clientFor(settings, { signal, deadlineAt: opts.deadline.at })
  const w = run.writeback
  return mapConcurrent(results, opts.concurrency, (r) => {
    const a = r.assessment
    const name = hash(
      'sha256',
      [settings.apiPath, settings.owner ?? '', r.indicator.type, r.indicator.value, r.digest].join('\u0000'),
      'hex',
    )
    // Inside the lock a racing run finds the note the first one posted, and says "already present".
    return opts.locks
      .withLock(`note:${name}`, signal, () =>
        writeBack(client, {
          indicator: r.indicator,
          owner: settings.owner,
          text: r.note,
          digest: r.digest,
          createIndicator: w.createIndicator,
          rating: w.applyRating ? a.threatRating : undefined,
          confidence: w.applyConfidence && a.verdict !== 'unknown' ? a.confidence : undefined,
          tags: w.applyTags ? a.tags : undefined,
          description: w.applyDescription
            ? `Enrichment verdict: ${a.verdict} (score ${a.score}/100, confidence ${a.confidence}/100)`
            : undefined,
        }),
      )
      .catch((err: unknown) => failedWriteback(`not written: ${err instanceof Error ? err.message : String(err)}`))
  })
}

/** exitCode 1 only when write-back was asked for and failed; the message says for how many and why. */
export const writebackFailure = (writebacks: readonly WritebackResult[]): string | undefined => {
  const failed = writebacks.filter((w) => w.status === 'failed')
  if (failed.length === 0) return undefined
  return `write-back failed for ${failed.length} of ${writebacks.length}: ${failed[0]?.reason ?? ''}`
}
