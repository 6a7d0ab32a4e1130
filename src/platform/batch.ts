/**
 * ThreatConnect's v2 Batch API, as tcex drives it: create a job (owner, action, haltOnError and the write types),
 * upload its JSON, poll until Completed, read its errors. At most 25,000 indicators go in one job.
 */
import { SourceError } from '../errors.js'
import type { HttpClient, HttpRequest } from '../http/types.js'
import type { PlatformCredentials } from '../config/platform.js'
import { authHeaders } from './hmac.js'

/** The platform's own limit per job (0x1008 "Indicator Limit Error" past it). */
export const BATCH_MAX_INDICATORS = 25_000

export type BatchAction = 'Create' | 'Delete'

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

export const createBatchClient = (options: BatchClientOptions) => {
  const now = options.now ?? Date.now
  const basePath = new URL(options.apiPath).pathname.replace(/\/+$/, '')
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const call = async (
    method: HttpRequest['method'],
    path: string,
    payload: { json?: unknown; body?: string } = {},
  ): Promise<unknown> => {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...authHeaders(options.credentials, `${basePath}${path}`, method, now()),
    }
    if (payload.body !== undefined) headers['Content-Type'] = 'application/octet-stream'
    const res = await options.http.request({ method, path, headers, ...payload })
    if (res.status < 200 || res.status > 299) {
      throw new SourceError(
        res.status === 401 || res.status === 403 ? 'auth' : 'http_error',
        `ThreatConnect answered HTTP ${res.status} to ${method} ${path}`,
      )
    }
    return res.body
  }
  const success = (body: unknown, what: string): Record<string, unknown> => {
    if (!isRecord(body) || body['status'] !== 'Success') {
      const message = isRecord(body) && typeof body['message'] === 'string' ? body['message'] : 'no message'
      throw new SourceError('bad_answer', `ThreatConnect did not accept ${what}: ${message}`)
    }
    return isRecord(body['data']) ? body['data'] : {}
  }

  const status = async (batchId: number): Promise<BatchStatus> => {
    const data = success(
      await call('GET', `/api/v2/batch/${batchId}?includeAdditional=true`),
      `the status request of batch ${batchId}`,
    )
    const s = isRecord(data['batchStatus']) ? data['batchStatus'] : {}
    return {
      id: batchId,
      status: typeof s['status'] === 'string' ? s['status'] : 'Unknown',
      successCount: count(s['successCount']),
      errorCount: count(s['errorCount']),
      unprocessCount: count(s['unprocessCount']),
    }
  }

  return {
    /**
     * Creates the job, uploads `indicators` (at most BATCH_MAX_INDICATORS), polls until Completed, reads the errors.
     */
    async submit(owner: string, action: BatchAction, indicators: readonly BatchIndicator[]): Promise<BatchOutcome> {
      if (indicators.length > BATCH_MAX_INDICATORS)
        throw new Error(`a batch holds at most ${BATCH_MAX_INDICATORS} indicators`)
      const job = {
        version: 'V2',
        owner,
        action,
        // One bad indicator must not stop the other 24,999; its error is read and reported.
        haltOnError: 'false',
        attributeWriteType: 'Replace',
        tagWriteType: 'Replace',
        securityLabelWriteType: 'Replace',
        playbookTriggersEnabled: 'false',
      }
      const created = success(await call('POST', '/api/v2/batch', { json: job }), 'the batch job')
      const batchId = created['batchId']
      if (typeof batchId !== 'number')
        throw new SourceError('bad_answer', 'ThreatConnect created a batch job without a batchId')
      success(
        await call('POST', `/api/v2/batch/${batchId}`, { body: JSON.stringify({ indicator: indicators, group: [] }) }),
        `the upload of batch ${batchId}`,
      )
      const deadline = now() + (options.pollTimeoutMs ?? 3_600_000)
      let current = await status(batchId)
      while (current.status !== 'Completed') {
        if (now() > deadline)
          throw new SourceError('timeout', `batch ${batchId} did not complete in time (last status ${current.status})`)
        await sleep(options.pollMs ?? 5_000)
        current = await status(batchId)
      }
      let errors: BatchError[] = []
      if (current.errorCount > 0 || current.unprocessCount > 0) {
        const body = await call('GET', `/api/v2/batch/${batchId}/errors`)
        errors = (Array.isArray(body) ? body : []).map((e: unknown) => ({
          errorReason: isRecord(e) && typeof e['errorReason'] === 'string' ? e['errorReason'] : 'unknown',
          errorSource: isRecord(e) && typeof e['errorSource'] === 'string' ? e['errorSource'] : '',
        }))
      }
      return { batchId, action, indicators: indicators.length, status: current, errors }
    },
  }
}
