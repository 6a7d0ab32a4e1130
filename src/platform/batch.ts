/**
 * ThreatConnect's v2 Batch API: create a job (owner, action, haltOnError and the write types), upload its JSON,
 * poll until Completed, read its errors. The answers are read as the documentation's examples give them (create
 * `201 {"batchId"}`, upload `202 {"status": "Queued"}`, status `{"status": "Created|Queued|Running|Completed",
 * counts}`, errors `404` when there are none) and as tcex reads them (`{"status": "Success", "data": {...}}`
 * envelopes): any 2xx is accepted, as tcex does. At most 25,000 indicators go in one job.
 */
import { SourceError } from '../errors.js'
import type { HttpClient, HttpRequest } from '../http/types.js'
import type { PlatformCredentials } from '../config/platform.js'
import { authHeaders } from './hmac.js'

/** The platform's own limit per job (0x1008 "Indicator Limit Error" past it). */
const BATCH_MAX_INDICATORS = 25_000

export type BatchAction = 'Create' | 'Delete'

/**
 * How a job treats what an indicator already has. attribute: Append (duplicates are not checked), Replace (all of
 * them), Singleton (only those of the types sent), Static (ignore the incoming). tag: Append or Replace.
 */
export interface BatchWriteTypes {
  readonly attribute: 'Append' | 'Replace' | 'Singleton' | 'Static'
  readonly tag: 'Append' | 'Replace'
}

/** One indicator as a batch carries it. */
export interface BatchIndicator {
  readonly summary: string
  readonly type: string
  readonly rating?: number
  readonly confidence?: number
  readonly active?: boolean
  readonly tag?: readonly { readonly name: string }[]
  readonly attribute?: readonly { readonly type: string; readonly value: string }[]
  readonly firstSeen?: string
  readonly lastSeen?: string
}

export interface BatchStatus {
  readonly id: number
  readonly status: string
  readonly successCount: number
  readonly errorCount: number
  readonly unprocessCount: number
}

interface BatchError {
  readonly errorReason: string
  readonly errorSource: string
}

export interface BatchOutcome {
  readonly batchId: number
  readonly action: BatchAction
  readonly indicators: number
  readonly status: BatchStatus
  readonly errors: readonly BatchError[]
}

export interface BatchClientOptions {
  readonly http: HttpClient
  readonly apiPath: string
  readonly credentials: PlatformCredentials
  readonly now?: () => number
  /** Between two polls (ms); tcex starts at 5 s and backs off to 20 s. */
  readonly pollMs?: number
  /** Give up polling after this long (ms). */
  readonly pollTimeoutMs?: number
  readonly sleep?: (ms: number) => Promise<void>
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
const JOB_STATUSES = new Set(['Created', 'Queued', 'Running', 'Completed'])

/** What a body says went wrong, when it says (`{"status": "Invalid", "description"}` or `{"message"}`). */
const problemOf = (body: unknown): string | undefined => {
  if (!isRecord(body)) return undefined
  for (const field of ['description', 'message']) {
    if (typeof body[field] === 'string' && body[field] !== '') return body[field]
  }
  return undefined
}

/** The job id, whether the answer is the documentation's `{"batchId"}` or an envelope's `{"data": {"batchId"}}`. */
const batchIdOf = (body: unknown): number | undefined => {
  const raw = isRecord(body)
    ? (body['batchId'] ?? (isRecord(body['data']) ? body['data']['batchId'] : undefined))
    : undefined
  const id = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : undefined
}

/** A status answer, as the documentation shows it (top level) or inside an envelope's `data.batchStatus`. */
const statusOf = (batchId: number, body: unknown): BatchStatus => {
  const nested =
    isRecord(body) && isRecord(body['data']) && isRecord(body['data']['batchStatus'])
      ? body['data']['batchStatus']
      : undefined
  const s = nested ?? (isRecord(body) ? body : {})
  const status = typeof s['status'] === 'string' && JOB_STATUSES.has(s['status']) ? s['status'] : undefined
  if (status === undefined) {
    throw new SourceError(
      'bad_answer',
      `ThreatConnect answered the status of batch ${batchId} without a job status: ${problemOf(body) ?? 'no message'}`,
    )
  }
  return {
    id: batchId,
    status,
    successCount: count(s['successCount']),
    errorCount: count(s['errorCount']),
    unprocessCount: count(s['unprocessCount']),
  }
}

export const createBatchClient = (options: BatchClientOptions) => {
  const now = options.now ?? Date.now
  const basePath = new URL(options.apiPath).pathname.replace(/\/+$/, '')
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const call = async (
    method: HttpRequest['method'],
    path: string,
    payload: { json?: unknown; body?: string } = {},
    answers: readonly number[] = [],
  ): Promise<{ status: number; body: unknown }> => {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...authHeaders(options.credentials, `${basePath}${path}`, method, now()),
    }
    if (payload.body !== undefined) headers['Content-Type'] = 'application/octet-stream'
    // 400 and 404 carry the platform's own words (a job still running, no errors): read, not failed as HTTP errors.
    const res = await options.http.request({
      method,
      path,
      headers,
      answerStatuses: [400, 404, ...answers],
      ...payload,
    })
    if (res.status >= 200 && res.status <= 299) return { status: res.status, body: res.body }
    if (answers.includes(res.status)) return { status: res.status, body: res.body }
    const said = problemOf(res.body)
    throw new SourceError(
      res.status === 401 || res.status === 403 ? 'auth' : 'http_error',
      `ThreatConnect answered HTTP ${res.status} to ${method} ${path.split('?')[0]}${said === undefined ? '' : `: ${said}`}`,
    )
  }
  const refused = (body: unknown): boolean =>
    isRecord(body) && (body['status'] === 'Error' || body['status'] === 'Invalid')

  return {
    /**
     * Creates the job, uploads `indicators` (at most BATCH_MAX_INDICATORS), polls until Completed, reads the errors.
     * `writeTypes`: what the job does to the attributes and tags an indicator already has.
     */
    async submit(
      owner: string,
      action: BatchAction,
      indicators: readonly BatchIndicator[],
      writeTypes: BatchWriteTypes,
    ): Promise<BatchOutcome> {
      if (indicators.length > BATCH_MAX_INDICATORS)
        throw new Error(`a batch holds at most ${BATCH_MAX_INDICATORS} indicators`)
      const job = {
        version: 'V2',
        owner,
        action,
        // One bad indicator must not stop the other 24,999; its error is read and reported. Strings, as tcex sends.
        haltOnError: 'false',
        attributeWriteType: writeTypes.attribute,
        tagWriteType: writeTypes.tag,
        securityLabelWriteType: 'Append',
        playbookTriggersEnabled: 'false',
      }
      const created = await call('POST', '/api/v2/batch', { json: job })
      const batchId = batchIdOf(created.body)
      if (refused(created.body) || batchId === undefined) {
        throw new SourceError(
          'bad_answer',
          `ThreatConnect did not create the batch job: ${problemOf(created.body) ?? 'no batchId in its answer'}`,
        )
      }
      const uploaded = await call('POST', `/api/v2/batch/${batchId}`, {
        body: JSON.stringify({ indicator: indicators, group: [] }),
      })
      if (refused(uploaded.body)) {
        throw new SourceError(
          'bad_answer',
          `ThreatConnect did not take the upload of batch ${batchId}: ${problemOf(uploaded.body) ?? 'no message'}`,
        )
      }
      const deadline = now() + (options.pollTimeoutMs ?? 3_600_000)
      const poll = async (): Promise<BatchStatus> =>
        statusOf(batchId, (await call('GET', `/api/v2/batch/${batchId}?includeAdditional=true`)).body)
      let current = await poll()
      while (current.status !== 'Completed') {
        if (now() > deadline)
          throw new SourceError('timeout', `batch ${batchId} did not complete in time (last status ${current.status})`)
        await sleep(options.pollMs ?? 5_000)
        current = await poll()
      }
      let errors: BatchError[] = []
      if (current.errorCount > 0 || current.unprocessCount > 0) {
        // 404: no errors after all; the list comes as JSON (octet-stream, gzip-encoded on the wire).
        const listed = await call('GET', `/api/v2/batch/${batchId}/errors`, {}, [404])
        errors = (listed.status === 404 || !Array.isArray(listed.body) ? [] : listed.body).map((e: unknown) => ({
          errorReason: isRecord(e) && typeof e['errorReason'] === 'string' ? e['errorReason'] : 'unknown',
          errorSource: isRecord(e) && typeof e['errorSource'] === 'string' ? e['errorSource'] : '',
        }))
      }
      return { batchId, action, indicators: indicators.length, status: current, errors }
    },
  }
}
