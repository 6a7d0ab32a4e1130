/**
 * One HTTP exchange on node:http(s), through the client's keep-alive (or proxy) agents: per-phase timeouts, a cap
 * on the decoded body, redirects followed only on the same origin, gzip/deflate/br decoded. It settles once, with an
 * answer of any status or a named failure; it never throws. Retries, quotas and status meaning are the client's.
 *
 * Why not got: measured on the vendor path (issue 10), got's per-call pipeline (options merged and validated per
 * call, a duplex stream, a cancelable promise, hooks) cost three to four times the CPU of the exchange it wraps,
 * the largest share of what /run adds over a bare forwarder. Everything this client used of it is here.
 */
import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import zlib from 'node:zlib'
import type { ResponseHeaders } from './retry-policy.js'

export interface ExchangeTimeouts {
  /** A new connection (TCP, and TLS for https) must be up within this. */
  readonly connectMs: number
  /** After the request is sent, the answer's headers must come within this. */
  readonly responseMs: number
  /** The whole exchange, redirects and body included. */
  readonly totalMs: number
}

export interface ExchangeRequest {
  readonly method: string
  readonly url: URL
  readonly headers: http.OutgoingHttpHeaders
  readonly body?: string | undefined
  readonly agents: { readonly http: http.Agent; readonly https: https.Agent }
  readonly timeouts: ExchangeTimeouts
  readonly maxResponseBytes: number
  /** Aborts the exchange; it then settles as `cancelled`. */
  readonly signal?: AbortSignal | undefined
}

export type ExchangeResult =
  | { readonly kind: 'answer'; readonly status: number; readonly headers: ResponseHeaders; readonly body: Buffer }
  | { readonly kind: 'timeout'; readonly phase: 'connect' | 'response' | 'total' }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'network'; readonly code: string; readonly message: string }
  | { readonly kind: 'cancelled' }

export const MAX_REDIRECTS = 10
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

const decoderFor = (encoding: string | undefined): zlib.Unzip | zlib.BrotliDecompress | undefined => {
  switch (encoding?.trim().toLowerCase()) {
    // Unzip reads either wrapping by its header: servers label one as the other often enough.
    case 'gzip':
    case 'x-gzip':
    case 'deflate':
      return zlib.createUnzip()
    case 'br':
      return zlib.createBrotliDecompress()
    default:
      return undefined
  }
}

const withoutBodyHeaders = (headers: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders => {
  const { 'content-type': _type, 'content-length': _length, ...rest } = headers
  return rest
}

const codeOf = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'ERR_NETWORK'
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** Why the exchange stopped early, carried by the error it destroys the request with. */
class Stop extends Error {
  constructor(readonly result: ExchangeResult) {
    super(result.kind)
  }
}

export const exchange = (req: ExchangeRequest): Promise<ExchangeResult> =>
  new Promise<ExchangeResult>((resolve) => {
    const { timeouts, signal } = req
    let settled = false
    let current: http.ClientRequest | undefined
    let phaseTimer: NodeJS.Timeout | undefined
    let redirects = 0

    const settle = (result: ExchangeResult): void => {
      if (settled) return
      settled = true
      clearTimeout(totalTimer)
      clearTimeout(phaseTimer)
      signal?.removeEventListener('abort', onAbort)
      resolve(result)
    }
    /** Ends the exchange with `result` and drops the connection under it (a half-read socket cannot be reused). */
    const stop = (result: ExchangeResult): void => {
      if (settled) return
      const request = current
      settle(result)
      request?.destroy(new Stop(result))
    }
    const onAbort = (): void => stop({ kind: 'cancelled' })
    const totalTimer = setTimeout(() => stop({ kind: 'timeout', phase: 'total' }), timeouts.totalMs)
    if (signal?.aborted) {
      settle({ kind: 'cancelled' })
      return
    }
    signal?.addEventListener('abort', onAbort, { once: true })

    const phase = (ms: number, which: 'connect' | 'response'): void => {
      clearTimeout(phaseTimer)
      phaseTimer = setTimeout(() => stop({ kind: 'timeout', phase: which }), ms)
    }

    const send = (method: string, url: URL, headers: http.OutgoingHttpHeaders, body: string | undefined): void => {
      const agent = url.protocol === 'https:' ? req.agents.https : req.agents.http
      let request: http.ClientRequest
      try {
        request = (url.protocol === 'https:' ? https : http).request(url, { method, headers, agent })
      } catch (err) {
        // Refused before anything was sent (e.g. a header value with a line break): settled now, so no timer is left.
        stop({ kind: 'network', code: codeOf(err), message: messageOf(err) })
        return
      }
      current = request
      let answered = false
      request.on('error', (err) => {
        if (err instanceof Stop) return
        stop({ kind: 'network', code: codeOf(err), message: messageOf(err) })
      })
      request.on('socket', (socket: Socket) => {
        if (!socket.connecting) return
        phase(timeouts.connectMs, 'connect')
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(phaseTimer))
      })
      request.on('finish', () => {
        if (!settled && !answered) phase(timeouts.responseMs, 'response')
      })
      request.on('response', (res) => {
        answered = true
        clearTimeout(phaseTimer)
        if (settled) {
          res.resume()
          return
        }
        const status = res.statusCode ?? 0
        const location = res.headers.location
        if (REDIRECT_STATUSES.has(status) && location !== undefined) {
          let next: URL | undefined
          try {
            next = new URL(location, url)
          } catch {
            next = undefined
          }
          // Another origin would receive the API key headers: that redirect is not followed but answered as it is.
          if (next !== undefined && next.origin === url.origin) {
            res.resume()
            redirects += 1
            if (redirects > MAX_REDIRECTS) {
              stop({ kind: 'network', code: 'ERR_TOO_MANY_REDIRECTS', message: `redirected more than ${MAX_REDIRECTS} times` })
              return
            }
            // Only 303 ("see other") turns the request into a GET without its body; the others repeat it as it was.
            if (status === 303) send('GET', next, withoutBodyHeaders(headers), undefined)
            else send(method, next, headers, body)
            return
          }
        }
        read(res, status)
      })
      request.end(body)
    }

    const read = (res: http.IncomingMessage, status: number): void => {
      const cap = req.maxResponseBytes
      if (Number(res.headers['content-length'] ?? 0) > cap) {
        stop({ kind: 'too_large' })
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      // A 204 or 304 (or any empty body) may still name an encoding: there is nothing to decode.
      const decoder = status === 204 || status === 304 || res.headers['content-length'] === '0' ? undefined : decoderFor(res.headers['content-encoding'])
      // The cap counts decoded bytes: a small compressed answer cannot inflate past it.
      const stream = decoder === undefined ? res : res.pipe(decoder)
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > cap) {
          stop({ kind: 'too_large' })
          decoder?.destroy()
          return
        }
        chunks.push(chunk)
      })
      stream.on('end', () => {
        settle({ kind: 'answer', status, headers: res.headers, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) })
      })
      const broken = (err: Error): void => {
        if (err instanceof Stop) return
        stop({ kind: 'network', code: codeOf(err), message: messageOf(err) })
      }
      res.on('error', broken)
      decoder?.on('error', broken)
      // A connection closed before the whole body came (a truncated download) is not an answer.
      res.on('close', () => {
        if (!res.complete) stop({ kind: 'network', code: 'ECONNRESET', message: 'the connection closed before the whole answer came' })
      })
    }

    send(req.method, req.url, req.headers, req.body)
  })
