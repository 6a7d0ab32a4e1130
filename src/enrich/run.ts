/**
 * One /run, as one function: the validated body -> normalise -> the run's deadline -> sources -> verdict and note ->
 * write-back -> outputs -> exit status -> whoever listens (the alert service). I/O happens in the sources and
 * write-back; everything between is pure. The route parses, calls this and replies.
 */
import type { Logger } from 'pino'
import type { RunBody } from '../contract/run-body.generated.js'
import type { OutputIndex } from '../contract/outputs.js'
import { AppError, SourceError } from '../errors.js'
import { startDeadline } from '../http/deadline.js'
import { normaliseIndicator } from '../indicators/normalise.js'
import type { Indicator } from '../indicators/types.js'
import { RUN_DURATION_SECONDS, WRITEBACK_DURATION_SECONDS } from '../metrics.js'
import type { WritebackResult } from '../platform/writeback.js'
import type { EnrichmentContext } from './context.js'
import { enrichAll } from './enrich.js'
import { exitStatus, type RunOutcome } from './exit-status.js'
import { buildOutputs, type Outputs } from './outputs.js'
import { readRunRequest, type RunRequest } from './run-request.js'
import type { IndicatorResult } from './types.js'
import { writeBackAll, writebackFailure } from './write-back-stage.js'

/** A run's outcome -> HTTP status: the one place it is decided. 502: the sources or ThreatConnect failed it. */
const RUN_STATUS: Readonly<Record<RunOutcome, 200 | 404 | 502>> = { ok: 200, failed: 502, no_results: 404 }

export interface RunReplyBody {
  readonly exitCode: 0 | 1
  readonly exitMessage: string
  readonly outputs: Outputs
}

export interface RunOptions {
  readonly log: Logger
  /**
   * Tells when the caller goes away (its connection closed before the reply): the run is cancelled then. Gets the
   * function to call and answers the function that stops listening.
   */
  readonly watchCaller?: (gone: () => void) => () => void
  /** The outputs the reply carries: the contract's (default), or the request's selection of them. */
  readonly outputs?: OutputIndex
  /** Hears every run's results before the reply goes (the alert service's verdict rules); its failure is its own. */
  readonly onResults?: (
    results: readonly IndicatorResult[],
    writebacks: readonly WritebackResult[],
    log: Logger,
  ) => Promise<void>
}

/** The request, checked beyond its schema: the profile it names exists, and the batch fits the vendor bound. */
const checkRequest = (run: RunRequest, ctx: EnrichmentContext): void => {
  if (run.profile !== undefined && !ctx.config.platform.named.has(run.profile)) {
    const known = [...ctx.config.platform.named.keys()]
    const configured = known.length > 0 ? known.join(', ') : 'none (only the default one)'
    throw new AppError(
      'UNKNOWN_PROFILE',
      `no ThreatConnect profile is named '${run.profile.slice(0, 40)}'; configured: ${configured}`,
      'tc_profile',
    )
  }
  const vendors = run.sources.filter((id) => ctx.runtime.definition(id)?.kind === 'vendor').length
  const lookups = run.indicators.length * vendors
  if (lookups > ctx.config.maxVendorLookups) {
    const fit = Math.floor(ctx.config.maxVendorLookups / vendors)
    throw new AppError(
      'BATCH_TOO_LARGE',
      `${run.indicators.length} indicators x ${vendors} vendor source${vendors === 1 ? '' : 's'} is ${lookups} vendor lookups; at most ${ctx.config.maxVendorLookups} in one /run (MAX_VENDOR_LOOKUPS): send at most ${fit} indicators per call`,
      'indicator',
    )
  }
}

const normaliseAll = (run: RunRequest): Indicator[] =>
  run.indicators.map((item, i) => {
    const result = normaliseIndicator(item.value, item.type ?? run.requestedType)
    if (!result.ok) throw new AppError('INVALID_INDICATOR', result.reason, run.batch ? `indicator[${i}]` : 'indicator')
    return result.indicator
  })

/** Throws AppError for a request it cannot run (a 4xx); a run's own failures are in the reply (exitCode 1). */
export const runEnrichment = async (
  body: RunBody,
  ctx: EnrichmentContext,
  opts: RunOptions,
): Promise<{ status: 200 | 404 | 502; reply: RunReplyBody }> => {
  const startedAt = performance.now()
  const run = readRunRequest(body, ctx.contract.config)
  checkRequest(run, ctx)
  const indicators = normaliseAll(run)

  // One deadline for the whole run: sources, their retries and waits, and write-back all end with it. Its signal
  // and timer are made only if something reads `signal` (a vendor call, write-back).
  const timeoutMs = ctx.config.runTimeoutMs
  const deadline = startDeadline(
    timeoutMs,
    () => new SourceError('timeout', `the run's deadline of ${timeoutMs} ms passed before it answered`),
  )
  const unwatch = opts.watchCaller?.(() =>
    deadline.abort(new SourceError('cancelled', 'the caller went away before the run answered')),
  )
  try {
    const results = await enrichAll(indicators, ctx.runtime, {
      sources: run.sources,
      forceRefresh: run.forceRefresh,
      params: run.params,
      concurrency: ctx.config.indicatorConcurrency,
      deadline,
      log: opts.log,
      meta: ctx.meta,
      now: ctx.now,
    })
    const writebackStartedAt = performance.now()
    const writebacks = await writeBackAll(results, run, {
      locks: ctx.shared.locks,
      pool: ctx.platform,
      profiles: ctx.config.platform,
      deadline,
      concurrency: ctx.config.indicatorConcurrency,
    })
    if (run.writeNote)
      ctx.metrics.observe(WRITEBACK_DURATION_SECONDS, {}, (performance.now() - writebackStartedAt) / 1000)
    const outputs = buildOutputs(results, run.batch, opts.outputs ?? ctx.outputs, ctx.sourceOutputs, writebacks)
    const exit = exitStatus(results, writebackFailure(writebacks), run)
    // The listeners hear the run before the caller does: once the reply is out, the alert is in the outbox.
    await opts.onResults?.(results, writebacks, opts.log)
    const elapsedMs = performance.now() - startedAt
    ctx.metrics.observe(RUN_DURATION_SECONDS, { outcome: exit.outcome }, elapsedMs / 1000)
    for (const r of results) for (const o of r.outcomes) ctx.history.recordSource(o)
    ctx.history.recordRun(
      results.map((r) => r.assessment.verdict),
      exit.outcome === 'failed',
      elapsedMs,
    )
    return {
      status: RUN_STATUS[exit.outcome],
      reply: { exitCode: exit.exitCode, exitMessage: exit.exitMessage, outputs },
    }
  } finally {
    deadline.clear()
    unwatch?.()
  }
}
