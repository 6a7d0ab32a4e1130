/**
 * The stand-in's v2 Batch API, shaped as tcex uses it: POST /api/v2/batch creates a job (checked: version V2, a
 * known owner, action Create or Delete, haltOnError, the write types), POST /api/v2/batch/{id} uploads its JSON
 * (octet-stream), GET /api/v2/batch/{id} reports the status (Running for `pollsUntilDone` polls, then Completed
 * with success/error counts), GET /api/v2/batch/{id}/errors lists `{errorReason, errorSource}`. Create upserts by
 * owner, type and summary (tags and attributes replaced); Delete removes what matches.
 */
import type { FastifyInstance } from 'fastify'
import { isSandboxIndicatorType, SandboxInputError, type SandboxIndicatorType, type SandboxStore } from './store.js'

export const SANDBOX_BATCH_LIMIT = 25_000

export interface SandboxBatchOptions {
  /** Polls that answer Running before Completed (default 1), so a client must poll. */
  readonly pollsUntilDone?: number
  /** Summaries the platform will refuse (an error per item), to test partial failures. */
  readonly refuse?: (summary: string) => boolean
}

export interface SandboxBatchJob {
  readonly id: number
  readonly owner: string
  readonly action: 'Create' | 'Delete'
  readonly settings: Record<string, unknown>
  status: 'Created' | 'Running' | 'Completed'
  polls: number
  uploaded: number
  successCount: number
  errorCount: number
  errors: { errorReason: string; errorSource: string }[]
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const WRITE_TYPES = ['Append', 'Replace', 'Singleton', 'Static']

/** The stand-in's error handler answers its statusCode with the platform's error shape. */
class BatchProblem extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
  }
}

/** The value fields of a v3 indicator for a batch summary. */
const valuesOf = (type: SandboxIndicatorType, summary: string): Record<string, string> => {
  switch (type) {
    case 'Address':
      return { ip: summary }
    case 'Host':
      return { hostName: summary }
    case 'URL':
      return { text: summary }
    case 'EmailAddress':
      return { address: summary }
    case 'ASN':
      return { 'AS Number': summary }
    case 'CIDR':
      return { Block: summary }
    case 'File':
      return { [summary.length === 32 ? 'md5' : summary.length === 40 ? 'sha1' : 'sha256']: summary }
  }
}

/** Adds the routes; every job created goes into `jobs`, for tests to read. */
export const registerBatchRoutes = (
  app: FastifyInstance,
  store: SandboxStore,
  jobs: SandboxBatchJob[],
  options: SandboxBatchOptions = {},
): void => {
  const jobById = (raw: string): SandboxBatchJob => {
    const job = jobs.find((j) => String(j.id) === raw)
    if (job === undefined) throw new BatchProblem(404, `No batch job ${raw}`)
    return job
  }
  app.addContentTypeParser('application/octet-stream', { parseAs: 'string' }, (_req, body, done) => done(null, body))

  app.post('/api/v2/batch', async (req) => {
    const b = req.body
    if (!isRecord(b)) throw new BatchProblem(400, 'The batch job must be a JSON object')
    if (b['version'] !== 'V2') throw new BatchProblem(400, "version must be 'V2'")
    if (b['action'] !== 'Create' && b['action'] !== 'Delete')
      throw new BatchProblem(400, "action must be 'Create' or 'Delete'")
    if (b['haltOnError'] === undefined) throw new BatchProblem(400, 'haltOnError is required')
    if (b['attributeWriteType'] !== undefined && !WRITE_TYPES.includes(String(b['attributeWriteType']))) {
      throw new BatchProblem(400, `attributeWriteType must be one of ${WRITE_TYPES.join(', ')}`)
    }
    const owner = typeof b['owner'] === 'string' ? store.ownerNamed(b['owner']) : undefined
    if (owner === undefined)
      throw new BatchProblem(403, `Owner '${String(b['owner'])}' does not exist or the API user has no access to it`)
    const job: SandboxBatchJob = {
      id: 1000 + jobs.length,
      owner,
      action: b['action'],
      settings: b,
      status: 'Created',
      polls: 0,
      uploaded: 0,
      successCount: 0,
      errorCount: 0,
      errors: [],
    }
    jobs.push(job)
    return { status: 'Success', data: { batchId: job.id } }
  })

  app.post<{ Params: { id: string } }>('/api/v2/batch/:id', async (req) => {
    const job = jobById(req.params.id)
    if (job.status !== 'Created') throw new BatchProblem(400, `batch ${job.id} was uploaded already`)
    if (!String(req.headers['content-type']).startsWith('application/octet-stream'))
      throw new BatchProblem(415, 'upload the batch as application/octet-stream')
    let data: unknown
    try {
      data = JSON.parse(String(req.body))
    } catch {
      throw new BatchProblem(400, 'the batch upload is not valid JSON')
    }
    const indicators = isRecord(data) && Array.isArray(data['indicator']) ? data['indicator'] : []
    job.uploaded = indicators.length
    job.status = 'Running'
    if (indicators.length > SANDBOX_BATCH_LIMIT) {
      job.errors.push({
        errorReason: `0x1008: this batch would exceed the number of allowed indicators (${SANDBOX_BATCH_LIMIT})`,
        errorSource: `${indicators.length} indicators`,
      })
      job.errorCount = indicators.length
      return { status: 'Success' }
    }
    for (const item of indicators) {
      const i = isRecord(item) ? item : {}
      const summary = typeof i['summary'] === 'string' ? i['summary'] : ''
      const type = i['type']
      try {
        if (!isSandboxIndicatorType(type))
          throw new SandboxInputError(`0x1005: unsupported indicator type '${String(type)}'`)
        if (options.refuse?.(summary) === true)
          throw new SandboxInputError('0x1005: Invalid Indicator Error (refused by the test)')
        const rating = i['rating']
        const confidence = i['confidence']
        if (rating !== undefined && !(typeof rating === 'number' && rating >= 0 && rating <= 5))
          throw new SandboxInputError(`0x1005: rating ${String(rating)} is not 0-5`)
        if (
          confidence !== undefined &&
          !(Number.isInteger(confidence) && (confidence as number) >= 0 && (confidence as number) <= 100)
        ) {
          throw new SandboxInputError(`0x1005: confidence ${String(confidence)} is not 0-100`)
        }
        if (job.action === 'Delete') {
          store.deleteMatching(job.owner, type, valuesOf(type, summary))
        } else {
          const tags = Array.isArray(i['tag'])
            ? i['tag'].flatMap((t: unknown) => (isRecord(t) && typeof t['name'] === 'string' ? [t['name']] : []))
            : []
          const attributes = Array.isArray(i['attribute'])
            ? i['attribute'].flatMap((a: unknown) =>
                isRecord(a) && typeof a['type'] === 'string' && typeof a['value'] === 'string'
                  ? [{ type: a['type'], value: a['value'] }]
                  : [],
              )
            : []
          const { indicator } = store.upsertIndicator(job.owner, type, valuesOf(type, summary), {
            ...(typeof rating === 'number' ? { rating } : {}),
            ...(typeof confidence === 'number' ? { confidence } : {}),
            tags: { names: tags, mode: 'replace' },
            attributes: { items: attributes, mode: 'replace' },
          })
          if (typeof i['active'] === 'boolean') indicator.active = i['active']
        }
        job.successCount += 1
      } catch (err) {
        job.errorCount += 1
        job.errors.push({
          errorReason: err instanceof Error ? err.message : String(err),
          errorSource: `${String(type)} ${summary}`,
        })
      }
    }
    return { status: 'Success' }
  })

  app.get<{ Params: { id: string } }>('/api/v2/batch/:id', async (req) => {
    const job = jobById(req.params.id)
    if (job.status === 'Running') {
      job.polls += 1
      if (job.polls >= (options.pollsUntilDone ?? 1)) job.status = 'Completed'
    }
    const polled = job.status === 'Completed' ? 'Completed' : job.status
    return {
      status: 'Success',
      data: {
        batchStatus: {
          id: job.id,
          status: polled,
          errorCount: job.errorCount,
          successCount: job.successCount,
          unprocessCount: job.status === 'Completed' ? 0 : job.uploaded,
        },
      },
    }
  })

  app.get<{ Params: { id: string } }>('/api/v2/batch/:id/errors', async (req) => jobById(req.params.id).errors)
}
