/**
 * A small scripted HTTP server on 127.0.0.1 (port 0) standing in for a vendor API in tests.
 *
 *   const vendor = await startFakeVendor(t)            // closed in t.teardown
 *   vendor.route('GET', '/api/v2/check', { status: 503 }, { json: { data: {} } })  // 503 first, then 200 forever
 *   vendor.route('POST', '/v1/host/', (req) => ({ json: { echo: req.form } }))
 *   ... point the code under test at vendor.url ...
 *   t.equal(vendor.requestsTo('/api/v2/check').length, 2)
 *
 * Every request is recorded (method, path, query, headers, body, arrival time) before it is answered, including
 * ones answered by hanging or resetting. Replies can delay, hang, reset the connection, drip the body slowly, send
 * a large filler body or any raw (e.g. malformed) body.
 */
import http from 'node:http'
import https from 'node:https'
import { performance } from 'node:perf_hooks'
import type { AddressInfo, Socket } from 'node:net'

export interface RecordedRequest {
  readonly method: string
  /** Path without the query string, e.g. "/api/v2/check". */
  readonly path: string
  /** Path and query exactly as received, e.g. "/api/v2/check?ipAddress=1.2.3.4". */
  readonly url: string
  /** Query parameters (the last value wins when a name repeats). */
  readonly query: Readonly<Record<string, string>>
  /** Lower-cased header names, as Node parses them. */
  readonly headers: http.IncomingHttpHeaders
  /** Raw body text ('' when none, or until the body has been read). */
  readonly body: string
  /** The body parsed as JSON when it is JSON, else undefined. */
  readonly json: unknown
  /** The body parsed as a form when it is application/x-www-form-urlencoded, else undefined. */
  readonly form: Readonly<Record<string, string>> | undefined
  /** When the request head arrived, in ms since the epoch with sub-millisecond precision. */
  readonly arrivedAt: number
}

export interface FakeReply {
  /** Default 200. */
  readonly status?: number
  readonly headers?: Readonly<Record<string, string | number | string[]>>
  /** Sent as JSON with Content-Type application/json (unless headers say otherwise). */
  readonly json?: unknown
  /** Sent as is, e.g. a malformed JSON text. */
  readonly body?: string | Buffer
  /** Sends this many filler bytes ('x') as the body, e.g. to exceed a size cap. */
  readonly bodyBytes?: number
  /** Waits this long before answering. */
  readonly delayMs?: number
  /** Never answers; the connection stays open until the client gives up or the fake closes. */
  readonly hang?: boolean
  /** Resets the TCP connection instead of answering (the client sees ECONNRESET). */
  readonly reset?: boolean
  /** Declares the whole body's length, sends only its first this many bytes, then drops the connection. */
  readonly cutAfter?: number
  /** Sends the head at once, then the body in chunks of `chunkBytes` (default 1) every `intervalMs`. */
  readonly drip?: { readonly intervalMs: number; readonly chunkBytes?: number }
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>
export type FakeScript = FakeReply | FakeHandler

export interface FakeVendorOptions {
  /** Serve HTTPS with this key and certificate instead of plain HTTP. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer }
}

interface Route {
  readonly method: string
  readonly path: string | RegExp
  readonly script: readonly FakeScript[]
  served: number
}

interface Teardownable {
  teardown(fn: () => unknown): void
}

const now = (): number => performance.timeOrigin + performance.now()

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

export class FakeVendor {
  readonly requests: RecordedRequest[] = []
  readonly #server: http.Server
  readonly #routes: Route[] = []
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #sockets = new Set<Socket>()
  #fallback: FakeScript | undefined
  #closed = false

  constructor(options: FakeVendorOptions = {}) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      void this.#handle(req, res)
    }
    this.#server = options.tls
      ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
      : http.createServer(handler)
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }

  /** Base URL, e.g. "http://127.0.0.1:40123" (no trailing slash). */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo
    return `${this.#server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}`
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    return this
  }

  /**
   * Scripts the answers for `method` (or '*') and `path` (exact pathname, or a RegExp tested on it): the n-th
   * matching request gets script[n]; once the script runs out its last entry repeats. Re-routing the same
   * method and path replaces the script and starts it over.
   */
  route(method: string, path: string | RegExp, ...script: FakeScript[]): this {
    if (script.length === 0) throw new Error('route needs at least one reply')
    const m = method.toUpperCase()
    const same = (r: Route): boolean => r.method === m && String(r.path) === String(path)
    const existing = this.#routes.findIndex(same)
    if (existing >= 0) this.#routes.splice(existing, 1)
    this.#routes.push({ method: m, path, script, served: 0 })
    return this
  }

  /** Answer for requests no route matches (default: 404 with a JSON error naming the request). */
  fallback(script: FakeScript): this {
    this.#fallback = script
    return this
  }

  /** Recorded requests to a pathname, optionally of one method. */
  requestsTo(path: string, method?: string): RecordedRequest[] {
    const m = method?.toUpperCase()
    return this.requests.filter((r) => r.path === path && (m === undefined || r.method === m))
  }

  /** Stops listening and destroys open connections (hanging and dripping ones included). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    for (const socket of this.#sockets) socket.destroy()
    this.#server.closeAllConnections()
    await closed
  }

  #after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      fn()
    }, ms)
    this.#timers.add(timer)
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrivedAt = now()
    const url = new URL(req.url ?? '/', 'http://fake.invalid')
    const record = {
      method: req.method ?? 'GET',
      path: url.pathname,
      url: req.url ?? '/',
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: '',
      json: undefined as unknown,
      form: undefined as Record<string, string> | undefined,
      arrivedAt,
    }
    this.requests.push(record)

    const chunks: Buffer[] = []
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer)
    } catch {
      return // the client went away mid-body
    }
    record.body = Buffer.concat(chunks).toString('utf8')
    const type = String(req.headers['content-type'] ?? '')
    if (record.body !== '' && type.includes('json')) record.json = parseJson(record.body)
    if (type.includes('application/x-www-form-urlencoded'))
      record.form = Object.fromEntries(new URLSearchParams(record.body))

    let reply: FakeReply
    try {
      const script = this.#scriptFor(record)
      reply = typeof script === 'function' ? await script(record) : script
    } catch (err) {
      reply = { status: 500, json: { error: `fake handler threw: ${(err as Error).message}` } }
    }
    if (reply.delayMs !== undefined && reply.delayMs > 0) {
      await new Promise<void>((resolve) => this.#after(reply.delayMs ?? 0, resolve))
    }
    if (this.#closed || res.destroyed) return
    this.#answer(req, res, reply)
  }

  #scriptFor(req: RecordedRequest): FakeScript {
    const route = this.#routes.find(
      (r) =>
        (r.method === '*' || r.method === req.method) &&
        (typeof r.path === 'string' ? r.path === req.path : r.path.test(req.path)),
    )
    if (!route) {
      return this.#fallback ?? { status: 404, json: { error: `no fake route for ${req.method} ${req.path}` } }
    }
    const script = route.script[Math.min(route.served, route.script.length - 1)] as FakeScript
    route.served += 1
    return script
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse, reply: FakeReply): void {
    if (reply.hang) return
    if (reply.reset) {
      req.socket.resetAndDestroy()
      return
    }
    const headers: http.OutgoingHttpHeaders = {}
    let body: Buffer
    if (reply.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = Buffer.from(JSON.stringify(reply.json))
    } else if (reply.body !== undefined) {
      body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body)
    } else if (reply.bodyBytes !== undefined) {
      body = Buffer.alloc(reply.bodyBytes, 'x')
    } else {
      body = Buffer.alloc(0)
    }
    Object.assign(headers, reply.headers ?? {})
    const status = reply.status ?? 200
    if (reply.cutAfter !== undefined) {
      res.writeHead(status, { 'content-length': body.length, ...headers })
      res.write(body.subarray(0, reply.cutAfter), () => setTimeout(() => req.socket.destroy(), 20))
      return
    }
    if (!reply.drip) {
      res.writeHead(status, { 'content-length': body.length, ...headers })
      res.end(body)
      return
    }
    res.writeHead(status, headers)
    res.flushHeaders()
    const step = Math.max(1, reply.drip.chunkBytes ?? 1)
    const intervalMs = reply.drip.intervalMs
    const send = (offset: number): void => {
      if (res.destroyed || this.#closed) return
      if (offset >= body.length) {
        res.end()
        return
      }
      res.write(body.subarray(offset, offset + step))
      this.#after(intervalMs, () => send(offset + step))
    }
    send(0)
  }
}

/** Starts a fake vendor on 127.0.0.1 port 0; with a tap `t`, it is closed in t.teardown. */
export const startFakeVendor = async (t?: Teardownable, options: FakeVendorOptions = {}): Promise<FakeVendor> => {
  const vendor = await new FakeVendor(options).listen()
  t?.teardown(() => vendor.close())
  return vendor
}
