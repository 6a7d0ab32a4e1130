/**
 * The HTTP server under the app, bounded against slow and greedy clients: a request must arrive whole within
 * REQUEST_TIMEOUT_MS (else 408 and the connection closes), checked every second rather than Node's default 30 s.
 * Past MAX_CONNECTIONS in all, or MAX_CONNECTIONS_PER_CLIENT from one address (off by default: behind
 * ThreatConnect's playbook server or a reverse proxy every caller is one address), a connection is still taken:
 * its request is answered 503 with Retry-After and the connection closed, so a burst of playbook steps hears "try
 * again" rather than losing its connection. Such a connection that sends nothing is closed after a short grace,
 * and beyond twice the cap connections are closed at once, so open files stay bounded.
 */
import http from 'node:http'
import type { Socket } from 'node:net'

export interface ConnectionLimits {
  readonly requestTimeoutMs: number
  readonly maxConnections: number
  /** 0: no per-client cap. */
  readonly maxConnectionsPerClient: number
}

/** Seconds a client is told to wait before trying again. */
const RETRY_AFTER_S = 1
/** How long a connection over the cap may take to send its request. */
const OVER_CAP_GRACE_MS = 2_000

const overCapReply = (res: http.ServerResponse, why: string): void => {
  const body = JSON.stringify({ error: { code: 'UNAVAILABLE', message: `${why}; retry in ${RETRY_AFTER_S} s` } })
  res.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': String(RETRY_AFTER_S),
    connection: 'close',
  })
  res.end(body)
}

export const createBoundedServer =
  (limits: ConnectionLimits) =>
  (handler: http.RequestListener): http.Server => {
    /** Connections past a cap, with why. */
    const overCap = new WeakMap<Socket, string>()
    const server = http.createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: Math.min(limits.requestTimeoutMs, 60_000),
        connectionsCheckingInterval: Math.min(1_000, limits.requestTimeoutMs),
      },
      (req, res) => {
        const why = overCap.get(req.socket)
        if (why === undefined) handler(req, res)
        else overCapReply(res, why)
      },
    )
    // Beyond twice the cap nothing more is taken, not even to say 503: the file-descriptor bound.
    server.maxConnections = limits.maxConnections * 2
    const perClient = new Map<string, number>()
    let open = 0
    server.on('connection', (socket: Socket) => {
      const client = socket.remoteAddress ?? ''
      const held = (perClient.get(client) ?? 0) + 1
      perClient.set(client, held)
      open += 1
      socket.once('close', () => {
        open -= 1
        const left = (perClient.get(client) ?? 1) - 1
        if (left <= 0) perClient.delete(client)
        else perClient.set(client, left)
      })
      let why: string | undefined
      if (open > limits.maxConnections)
        why = `the service holds its most connections (${limits.maxConnections}, MAX_CONNECTIONS)`
      else if (limits.maxConnectionsPerClient > 0 && held > limits.maxConnectionsPerClient) {
        why = `this client holds its most connections (${limits.maxConnectionsPerClient}, MAX_CONNECTIONS_PER_CLIENT)`
      }
      if (why === undefined) return
      overCap.set(socket, why)
      socket.setTimeout(OVER_CAP_GRACE_MS, () => socket.destroy())
    })
    return server
  }
