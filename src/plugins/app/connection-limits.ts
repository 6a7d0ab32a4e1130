/**
 * The HTTP server under the app, bounded against slow and greedy clients: a request must arrive whole within
 * REQUEST_TIMEOUT_MS (else 408 and the connection closes), checked every second rather than Node's default 30 s;
 * one client address may hold at most MAX_CONNECTIONS_PER_CLIENT connections and the server MAX_CONNECTIONS in
 * all; past either, a new connection is closed at once. So slow bodies cannot hold open files until /health dies.
 */
import http from 'node:http'
import type { Socket } from 'node:net'

export interface ConnectionLimits {
  readonly requestTimeoutMs: number
  readonly maxConnections: number
  readonly maxConnectionsPerClient: number
}

export const createBoundedServer = (limits: ConnectionLimits) => (handler: http.RequestListener): http.Server => {
  const server = http.createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(limits.requestTimeoutMs, 60_000),
      connectionsCheckingInterval: Math.min(1_000, limits.requestTimeoutMs),
    },
    handler,
  )
  server.maxConnections = limits.maxConnections
  const perClient = new Map<string, number>()
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? ''
    const held = (perClient.get(client) ?? 0) + 1
    if (held > limits.maxConnectionsPerClient) {
      socket.destroy()
      return
    }
    perClient.set(client, held)
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1
      if (left <= 0) perClient.delete(client)
      else perClient.set(client, left)
    })
  })
  return server
}
