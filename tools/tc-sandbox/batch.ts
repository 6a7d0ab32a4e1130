/**
 * The stand-in's v2 Batch API, answering as ThreatConnect's v2 Batch API documentation's examples do
 * (docs/rest_api/v2/batch_api/v2_batch_api.rst in ThreatConnect-Inc/threatconnect-developer-docs; the examples are
 * kept in test/platform/fixtures/v2-batch-docs.json and a test holds these routes to them):
 * - POST /api/v2/batch creates a job (checked: version V2, a known owner, action Create or Delete, haltOnError, the
 *   write types): 201 `{"batchId": "<id>"}`;
 * - POST /api/v2/batch/{id} takes its JSON (octet-stream, up to the platform's size): 202 `{"status": "Queued"}`;
 * - GET /api/v2/batch/{id}: `{"status": "Created|Queued|Running"}`, then `{"status": "Completed", "errorCount",
 *   "successCount", "unprocessCount"}`;
 * - GET /api/v2/batch/{id}/errors: 400 `{"status": "Invalid", "description": "Batch still in Running state"}` before
 *   it completes, 404 when there are none, else the `[{errorReason, errorSource}]` list as a gzip-encoded
 *   octet-stream.
 * Create upserts by owner, type and summary with the job's write types applied as documented (attributes: Append,
 * Replace, Singleton, Static; tags: Append, Replace); Delete removes what matches.
 */
import { gzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import {
  isSandboxIndicatorType,
  SandboxInputError,
  type IndicatorChange,
  type SandboxIndicatorType,
  type SandboxStore,
} from './store.js'

export const SANDBOX_BATCH_LIMIT = 25_000
/** Uploads up to this size are taken (tcex splits its uploads at 75 MB). */
export const SANDBOX_UPLOAD_LIMIT_BYTES = 100 * 1024 * 1024

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
  status: 'Created' | 'Queued' | 'Running' | 'Completed'
  polls: number
  uploaded: number
  /** Size of the upload, bytes. */
  bytes: number
  successCount: number
  errorCount: number
  errors: { errorReason: string; errorSource: string }[]
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const ATTRIBUTE_WRITE_TYPES = {
  Append: 'batch-append',
  Replace: 'replace',
  Singleton: 'singleton',
  Static: 'static',
} as const
const TAG_WRITE_TYPES = { Append: 'append', Replace: 'replace' } as const

/** The stand-in's error handler answers its statusCode with the platform's error shape. */
class BatchProblem extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
  }
}

/** The value fields of a v3 indicator for a batch summary (a File's may be `md5 : sha1 : sha256`). */
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
    case 'File': {
      const byLength: Record<number, string> = { 32: 'md5', 40: 'sha1', 64: 'sha256' }
      return Object.fromEntries(summary.split(':').map((h) => [byLength[h.trim().length] ?? 'sha256', h.trim()]))
    }
  }
}

/** The documented write type named in the job, or (absent) the documented default. */
const writeType = <T extends Record<string, string>>(
  job: SandboxBatchJob,
  field: string,
  types: T,
  fallback: keyof T,
): T[keyof T] =>
  types[(typeof job.settings[field] === 'string' ? job.settings[field] : fallback) as keyof T] as T[keyof T]

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
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'string', bodyLimit: SANDBOX_UPLOAD_LIMIT_BYTES },
    (_req, body, done) => done(null, body),
  )

  app.post('/api/v2/batch', async (req, reply) => {
    const b = req.body
    if (!isRecord(b)) throw new BatchProblem(400, 'The batch job must be a JSON object')
    if (b['version'] !== 'V2') throw new BatchProblem(400, "version must be 'V2'")
    if (b['action'] !== 'Create' && b['action'] !== 'Delete')
      throw new BatchProblem(400, "action must be 'Create' or 'Delete'")
    if (b['haltOnError'] === undefined) throw new BatchProblem(400, 'haltOnError is required')
    if (b['attributeWriteType'] === undefined) throw new BatchProblem(400, 'attributeWriteType is required')
    if (!Object.keys(ATTRIBUTE_WRITE_TYPES).includes(String(b['attributeWriteType']))) {
      throw new BatchProblem(400, `attributeWriteType must be one of ${Object.keys(ATTRIBUTE_WRITE_TYPES).join(', ')}`)
    }
    if (b['tagWriteType'] !== undefined && !Object.keys(TAG_WRITE_TYPES).includes(String(b['tagWriteType']))) {
      throw new BatchProblem(400, `tagWriteType must be one of ${Object.keys(TAG_WRITE_TYPES).join(', ')}`)
    }
    const owner = typeof b['owner'] === 'string' ? store.ownerNamed(b['owner']) : undefined
    if (owner === undefined)
      throw new BatchProblem(401, `Owner '${String(b['owner'])}' does not exist or the API user has no access to it`)
    const job: SandboxBatchJob = {
      id: 1000 + jobs.length,
      owner,
      action: b['action'],
      settings: b,
      status: 'Created',
      polls: 0,
      uploaded: 0,
      bytes: 0,
      successCount: 0,
      errorCount: 0,
      errors: [],
    }
    jobs.push(job)
    return reply.code(201).send({ batchId: String(job.id) })
  })

  app.post<{ Params: { id: string } }>('/api/v2/batch/:id', async (req, reply) => {
    const job = jobById(req.params.id)
    if (job.status !== 'Created') throw new BatchProblem(400, `batch ${job.id} was uploaded already`)
    if (!String(req.headers['content-type']).startsWith('application/octet-stream'))
      throw new BatchProblem(415, 'upload the batch as application/octet-stream')
    job.bytes = Buffer.byteLength(String(req.body))
    let data: unknown
    try {
      data = JSON.parse(String(req.body))
    } catch {
      data = undefined
    }
    job.status = 'Queued'
    if (!isRecord(data)) {
      job.errors.push({ errorReason: '0x1003: JsonSyntax Error', errorSource: 'the upload is not a JSON object' })
      job.errorCount = 1
      return reply.code(202).send({ status: 'Queued' })
    }
    const indicators = Array.isArray(data['indicator']) ? data['indicator'] : []
    job.uploaded = indicators.length
    if (indicators.length > SANDBOX_BATCH_LIMIT) {
      job.errors.push({
        errorReason: `0x1008: this batch would exceed the number of allowed indicators (${SANDBOX_BATCH_LIMIT})`,
        errorSource: `${indicators.length} indicators`,
      })
      job.errorCount = indicators.length
      return reply.code(202).send({ status: 'Queued' })
    }
    const attributeMode = writeType(job, 'attributeWriteType', ATTRIBUTE_WRITE_TYPES, 'Replace')
    const tagMode = writeType(job, 'tagWriteType', TAG_WRITE_TYPES, 'Replace')
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
          const change: IndicatorChange = {
            ...(typeof rating === 'number' ? { rating } : {}),
            ...(typeof confidence === 'number' ? { confidence } : {}),
            // An item that carries no tags (a deactivation) leaves them alone, whatever the write type.
            ...(Array.isArray(i['tag']) ? { tags: { names: tags, mode: tagMode } } : {}),
            ...(Array.isArray(i['attribute']) ? { attributes: { items: attributes, mode: attributeMode } } : {}),
          }
          const { indicator } = store.upsertIndicator(job.owner, type, valuesOf(type, summary), change)
          if (typeof i['active'] === 'boolean') indicator.active = i['active']
          if (typeof i['firstSeen'] === 'string') indicator.firstSeen = i['firstSeen']
          if (typeof i['lastSeen'] === 'string') indicator.lastSeen = i['lastSeen']
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
    return reply.code(202).send({ status: 'Queued' })
  })

  app.get<{ Params: { id: string } }>('/api/v2/batch/:id', async (req) => {
    const job = jobById(req.params.id)
    if (job.status === 'Queued' || job.status === 'Running') {
      job.polls += 1
      job.status = job.polls >= (options.pollsUntilDone ?? 1) ? 'Completed' : 'Running'
    }
    if (job.status !== 'Completed') return { status: job.status }
    return {
      status: 'Completed',
      errorCount: job.errorCount,
      successCount: job.successCount,
      unprocessCount: 0,
    }
  })

  app.get<{ Params: { id: string } }>('/api/v2/batch/:id/errors', async (req, reply) => {
    const job = jobById(req.params.id)
    if (job.status !== 'Completed') {
      return reply.code(400).send({ status: 'Invalid', description: `Batch still in ${job.status} state` })
    }
    if (job.errors.length === 0) throw new BatchProblem(404, `batch ${job.id} has no errors`)
    return reply
      .code(200)
      .header('content-type', 'application/octet-stream')
      .header('content-encoding', 'gzip')
      .send(gzipSync(JSON.stringify(job.errors)))
  })
}
