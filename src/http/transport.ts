/**
 * One HTTP exchange through got: one pre-built instance per client (`got.extend`: agents, timeouts, headers and
 * hooks merged once), read as a stream so the cap counts decoded bytes. Redirects are followed only on the same
 * origin: got, like every client measured, forwards custom API-key headers to another origin, so that redirect is
 * answered as it came. It settles once, with an answer of any status or a named failure, and never throws; retries,
 * quotas and what a status means are the client's.
 */
import { PassThrough, pipeline, type Readable } from 'node:stream'
import got, { type Got, type NormalizedOptions, type PlainResponse } from 'got'
import type { ClientAgents } from './proxy-agents.js'
import type { ResponseHeaders } from './retry-policy.js'

interface TransportTimeouts {
  /** A new connection must be up within this (TCP, and again for the TLS handshake). */
  readonly connectMs: number
  /** After the request is sent, the answer's headers must come within this. */
  readonly responseMs: number
  /** The whole exchange, redirects and body included. */
  readonly totalMs: number
}

export interface TransportSettings {
  readonly agents: ClientAgents
  readonly timeouts: TransportTimeouts
  readonly maxResponseBytes: number
  /** false only when TC_VERIFY=false: certificate checks off for this client's hosts. */
  readonly rejectUnauthorized: boolean
  /** Sent with every call; a call's own headers are laid over them (got compares names without case). */
  readonly headers: Readonly<Record<string, string>>
}

interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly url: URL
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: string | undefined
  /** The run's deadline (ms since the epoch): the exchange ends with it if that comes before totalMs. */
  readonly deadlineAt?: number | undefined
  /** Aborts the exchange; it then settles as `cancelled`. */
  readonly signal?: AbortSignal | undefined
}

export type TransportResult =
  | { readonly kind: 'answer'; readonly status: number; readonly headers: ResponseHeaders; readonly body: Buffer }
  | { readonly kind: 'timeout'; readonly phase: 'connect' | 'response' | 'total' }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'network'; readonly code: string; readonly message: string }
  | { readonly kind: 'cancelled' }

const MAX_REDIRECTS = 10

/** What one call hands got's hooks: when the whole exchange must be over. */
interface CallContext extends Record<string, unknown> {
  readonly endsAt: number
}

/** A redirect is followed only when it stays on the origin that was called (scheme, host and port). */
const sameOrigin = (response: PlainResponse): boolean => {
  const location = response.headers.location
  if (location === undefined) return false
  try {
    const from = new URL(response.url)
    return new URL(location, from).origin === from.origin
  } catch {
    return false
  }
}

/**
 * got restarts its `request` timeout on every redirect hop; the hook sets what is left of the one end worked out
 * when the call began (the total timeout or the run's deadline, whichever is first), so hops share one budget.
 */
const timeLeftOfCall = (options: NormalizedOptions): void => {
  const { endsAt } = options.context as CallContext
  options.timeout = { ...options.timeout, request: Math.max(1, endsAt - Date.now()) }
}

/** got's timeout events, in the three phases the client reports. */
const phaseOf = (event: unknown): 'connect' | 'response' | 'total' => {
  if (event === 'request') return 'total'
  if (event === 'lookup' || event === 'socket' || event === 'connect' || event === 'secureConnect') return 'connect'
  return 'response'
}

const codeOf = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code !== '' ? code : 'ERR_NETWORK'
}

/** got's own words for a failure, without its "(GET http://...)" tail: the URL is logged on its own, redacted. */
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** A body the caller reads itself (a feed download): its decoded bytes, the cap enforced as they come. */
export type TransportOpened =
  | { readonly kind: 'stream'; readonly status: number; readonly headers: ResponseHeaders; readonly body: Readable }
  | Exclude<TransportResult, { kind: 'answer' }>

/** Raised on a streamed body that grows past the cap. */
class TooLargeError extends Error {
  readonly code = 'ERR_TOO_LARGE'
}

export interface Transport {
  send(req: TransportRequest): Promise<TransportResult>
  /** Resolves once the answer's headers came; a failure before then settles as `send` would. */
  open(req: TransportRequest): Promise<TransportOpened>
}

export const createTransport = (settings: TransportSettings): Transport => {
  const { connectMs, responseMs, totalMs } = settings.timeouts
  const cap = settings.maxResponseBytes
  const instance: Got = got.extend({
    agent: { http: settings.agents.http, https: settings.agents.https },
    https: { rejectUnauthorized: settings.rejectUnauthorized },
    headers: settings.headers,
    timeout: { connect: connectMs, secureConnect: connectMs, response: responseMs },
    // The client's loop retries: it takes a rate-limit token and a quota call for every attempt.
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: sameOrigin,
    maxRedirects: MAX_REDIRECTS,
    decompress: true,
    hooks: { beforeRequest: [timeLeftOfCall] },
  })

  const send = (req: TransportRequest): Promise<TransportResult> =>
    new Promise<TransportResult>((resolve) => {
      const { signal } = req
      if (signal?.aborted) {
        resolve({ kind: 'cancelled' })
        return
      }
      const endsAt = Math.min(Date.now() + totalMs, req.deadlineAt ?? Infinity)
      let settled = false
      const stream = instance.stream(req.url, {
        method: req.method,
        ...(req.headers === undefined ? {} : { headers: req.headers }),
        ...(req.body === undefined ? {} : { body: req.body }),
        context: { endsAt } satisfies CallContext,
      })
      // A stream whose method may carry a body waits for its end: none is coming.
      if (req.body === undefined && req.method !== 'GET') stream.end()
      const settle = (result: TransportResult): void => {
        if (settled) return
        settled = true
        signal?.removeEventListener('abort', onAbort)
        resolve(result)
        // Anything but a whole answer leaves a half-read connection: it cannot be reused.
        if (result.kind !== 'answer') stream.destroy()
      }
      const onAbort = (): void => settle({ kind: 'cancelled' })
      signal?.addEventListener('abort', onAbort, { once: true })

      let status = 0
      let headers: ResponseHeaders = {}
      const chunks: Buffer[] = []
      let size = 0
      stream.once('response', (res: PlainResponse) => {
        status = res.statusCode
        headers = res.headers
        // A declared length over the cap is refused before a byte is read (encoded or not: decoding only grows it).
        if (Number(res.headers['content-length'] ?? 0) > cap) settle({ kind: 'too_large' })
      })
      stream.on('data', (chunk: Buffer) => {
        // got hands over decoded bytes: a small compressed answer cannot inflate past the cap.
        size += chunk.length
        if (size > cap) settle({ kind: 'too_large' })
        else chunks.push(chunk)
      })
      stream.once('end', () => {
        settle({
          kind: 'answer',
          status,
          headers,
          body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
        })
      })
      stream.once('error', (err: Error) => {
        if (err.name === 'TimeoutError') settle({ kind: 'timeout', phase: phaseOf((err as { event?: unknown }).event) })
        else if (err.name === 'MaxRedirectsError') {
          settle({
            kind: 'network',
            code: 'ERR_TOO_MANY_REDIRECTS',
            message: `redirected more than ${MAX_REDIRECTS} times`,
          })
        } else settle({ kind: 'network', code: codeOf(err), message: messageOf(err) })
      })
    })

  const failureOf = (err: Error): Exclude<TransportResult, { kind: 'answer' }> => {
    if (err.name === 'TimeoutError') return { kind: 'timeout', phase: phaseOf((err as { event?: unknown }).event) }
    if (err.name === 'MaxRedirectsError') {
      return { kind: 'network', code: 'ERR_TOO_MANY_REDIRECTS', message: `redirected more than ${MAX_REDIRECTS} times` }
    }
    return { kind: 'network', code: codeOf(err), message: messageOf(err) }
  }

  const open = (req: TransportRequest): Promise<TransportOpened> =>
    new Promise<TransportOpened>((resolve) => {
      const { signal } = req
      if (signal?.aborted) {
        resolve({ kind: 'cancelled' })
        return
      }
      const endsAt = Math.min(Date.now() + totalMs, req.deadlineAt ?? Infinity)
      const stream = instance.stream(req.url, {
        method: req.method,
        ...(req.headers === undefined ? {} : { headers: req.headers }),
        ...(req.body === undefined ? {} : { body: req.body }),
        context: { endsAt } satisfies CallContext,
      })
      if (req.body === undefined && req.method !== 'GET') stream.end()
      let settled = false
      const body = new PassThrough()
      const settle = (result: TransportOpened): void => {
        if (settled) return
        settled = true
        resolve(result)
        if (result.kind !== 'stream') stream.destroy()
      }
      const onAbort = (): void => {
        if (!settled) settle({ kind: 'cancelled' })
        else body.destroy(new Error('cancelled: the caller went away'))
        stream.destroy()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      body.once('close', () => signal?.removeEventListener('abort', onAbort))
      let size = 0
      stream.once('response', (res: PlainResponse) => {
        if (Number(res.headers['content-length'] ?? 0) > cap) {
          settle({ kind: 'too_large' })
          return
        }
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > cap) stream.destroy(new TooLargeError(`the answer grew past the cap of ${cap} bytes`))
        })
        // A connection cut short fails the body (got's ReadError): the reader sees an error, never a short end.
        pipeline(stream, body, () => undefined)
        settle({ kind: 'stream', status: res.statusCode, headers: res.headers, body })
      })
      stream.once('error', (err: Error) => {
        if (!settled) settle(failureOf(err))
      })
    })

  return { send, open }
}
