/**
 * POST /run: body (schema derived from the params) -> normalise indicators -> sources -> verdict -> note ->
 * write-back -> outputs -> reply. I/O happens in the sources and write-back; everything between is pure.
 * A failed run (exitCode 1) answers a non-2xx status carrying the same reply, so a playbook's HTTP Client step
 * fails through its own failure handling.
 */
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { AppError, SourceError } from '../errors.js'
import { startDeadline } from '../http/deadline.js'
import { deriveRunBodySchema } from '../contract/request-schema.js'
import { withoutUnsetParams } from '../contract/unset-params.js'
import { enrichAll } from '../enrich/enrich.js'
import { exitStatus, type RunOutcome } from '../enrich/exit-status.js'
import { buildOutputs } from '../enrich/outputs.js'
import { readRunRequest } from '../enrich/run-request.js'
import type { RunBody } from '../contract/run-body.generated.js'
import { writeBackAll, writebackFailure } from '../enrich/write-back.js'
import { normaliseIndicator } from '../indicators/normalise.js'
import type { Indicator } from '../indicators/types.js'
import { makeBearerAuth } from '../plugins/app/run-auth.js'
import { ALERTS_ERRORS_TOTAL, RUN_DURATION_SECONDS, WRITEBACK_DURATION_SECONDS } from '../metrics.js'
import type { VerdictEvent } from '../alerts/services/verdict.js'
import type { IndicatorResult } from '../enrich/types.js'
import type { WritebackResult } from '../platform/writeback.js'
import { ErrorReply } from '../schemas/error.js'
import { deriveRunReplySchema } from '../schemas/run.js'

/** /run results -> the verdict service. An outbox failure is logged and counted; it never fails the run. */
const raiseVerdictAlerts = async (app: FastifyInstance, results: readonly IndicatorResult[], writebacks: readonly WritebackResult[], log: Logger): Promise<void> => {
  const events: VerdictEvent[] = results.map((r, i) => ({
    indicator: { type: r.indicator.type, value: r.indicator.value },
    verdict: r.assessment.verdict,
    score: r.assessment.score,
    rating: r.assessment.threatRating,
    confidence: r.assessment.confidence,
    tags: r.assessment.tags,
    because: r.outcomes.flatMap((o) => (o.status === 'ok' && (o.finding.verdict === 'malicious' || o.finding.verdict === 'suspicious') ? [`${o.source}: ${o.finding.verdict}`] : [])),
    ...(writebacks[i]?.webLink !== undefined ? { link: writebacks[i]?.webLink as string } : {}),
  }))
  try {
    await app.alerts?.observeRun(events)
  } catch (err) {
    app.enrichment.metrics.inc(ALERTS_ERRORS_TOTAL, { operation: 'raise' })
    log.error({ err: (err as Error).message }, 'verdict alerts could not be put in the outbox yet')
  }
}

/** A run's outcome -> HTTP status: the one place it is decided. 502: the sources or ThreatConnect failed it. */
export const RUN_STATUS: Readonly<Record<RunOutcome, 200 | 404 | 502>> = { ok: 200, failed: 502, no_results: 404 }

export default async function runRoute(app: FastifyInstance): Promise<void> {
  const ctx = app.enrichment
  const body = deriveRunBodySchema(ctx.contract.config, ctx.config)
  const replySchema = deriveRunReplySchema(ctx.outputs)
  // The body schema is derived from the params at start-up; RunBody is the static type generated from the same params.
  app.post<{ Body: RunBody }>(
    '/run',
    {
      // "" and "<null>" (an unset playbook variable) mean "not set": dropped before the schema sees them.
      preValidation: (request, _reply, done) => {
        request.body = withoutUnsetParams(request.body) as RunBody
        done()
      },
      onRequest: makeBearerAuth({ token: ctx.config.runToken, setting: 'RUN_TOKEN', failureLimit: ctx.config.authFailureLimit, quota: ctx.shared.quota }),
      schema: {
        summary: 'Enrich one indicator or an array of them',
        description:
          'Answers with the outputs app.config.json declares. Source failures are reported per source; a run that failed as a whole (fail_on_error, fail_on_no_results) answers 502 or 404 with the same reply.',
        body,
        response: { 200: replySchema, 404: replySchema, 502: replySchema, '4xx': ErrorReply, '5xx': ErrorReply },
        ...(ctx.config.runToken ? { security: [{ bearer: [] }] } : {}),
      },
      // The reply is built from declared outputs only; plain JSON.stringify keeps /run fast (no anyOf serialiser).
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (request, reply) => {
      const startedAt = performance.now()
      const run = readRunRequest(request.body, ctx.contract.config)
      if (run.profile !== undefined && !ctx.config.platform.named.has(run.profile)) {
        const known = [...ctx.config.platform.named.keys()]
        throw new AppError('UNKNOWN_PROFILE', `no ThreatConnect profile is named '${run.profile.slice(0, 40)}'; configured: ${known.length > 0 ? known.join(', ') : 'none (only the default one)'}`, 'tc_profile')
      }
      const vendors = run.sources.filter((id) => ctx.runtime.definition(id)?.kind === 'vendor').length
      if (run.indicators.length * vendors > ctx.config.maxVendorLookups) {
        const fit = Math.floor(ctx.config.maxVendorLookups / vendors)
        throw new AppError(
          'BATCH_TOO_LARGE',
          `${run.indicators.length} indicators x ${vendors} vendor source${vendors === 1 ? '' : 's'} is ${run.indicators.length * vendors} vendor lookups; at most ${ctx.config.maxVendorLookups} in one /run (MAX_VENDOR_LOOKUPS): send at most ${fit} indicators per call`,
          'indicator',
        )
      }
      const indicators: Indicator[] = run.indicators.map((item, i) => {
        const result = normaliseIndicator(item.value, item.type ?? run.requestedType)
        if (!result.ok) throw new AppError('INVALID_INDICATOR', result.reason, run.batch ? `indicator[${i}]` : 'indicator')
        return result.indicator
      })

      // One deadline for the whole run: sources, their retries and waits, and write-back all end with it. Its
      // signal and timer are made only if something reads `signal` (a vendor call, write-back).
      const deadline = startDeadline(
        ctx.config.runTimeoutMs,
        () => new SourceError('timeout', `the run's deadline of ${ctx.config.runTimeoutMs} ms passed before it answered`),
      )
      const onClientGone = (): void => {
        if (!reply.raw.writableFinished) deadline.abort(new SourceError('cancelled', 'the caller went away before the run answered'))
      }
      reply.raw.once('close', onClientGone)
      try {
        const results = await enrichAll(indicators, ctx.runtime, {
          sources: run.sources,
          forceRefresh: run.forceRefresh,
          params: run.params,
          concurrency: ctx.config.indicatorConcurrency,
          deadline,
          // The app's logger is pino (buildApp passes a pino instance), so request.log is a pino child.
          log: request.log as unknown as Logger,
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
        if (run.writeNote) ctx.metrics.observe(WRITEBACK_DURATION_SECONDS, {}, (performance.now() - writebackStartedAt) / 1000)
        const outputs = buildOutputs(results, run.batch, ctx.outputs, ctx.sourceOutputs, writebacks)
        const exit = exitStatus(results, writebackFailure(writebacks), run)
        // The verdict service hears the run before the caller does: once the reply is out the alert is in the outbox.
        if (app.alerts?.hasVerdictRules === true) await raiseVerdictAlerts(app, results, writebacks, request.log as unknown as Logger)
        ctx.metrics.observe(RUN_DURATION_SECONDS, { outcome: exit.outcome }, (performance.now() - startedAt) / 1000)
        return reply.code(RUN_STATUS[exit.outcome]).send({ exitCode: exit.exitCode, exitMessage: exit.exitMessage, outputs })
      } finally {
        deadline.clear()
        reply.raw.off('close', onClientGone)
      }
    },
  )

  // Only POST runs: any other method on /run says so (405, with Allow) rather than "no such route".
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url: '/run',
    schema: { hide: true },
    handler: async (request, reply) => {
      void reply.header('allow', 'POST')
      throw new AppError('METHOD_NOT_ALLOWED', `${request.method} /run is not supported; send POST /run with a JSON body`, '')
    },
  })
}
