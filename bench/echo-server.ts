/**
 * The ceiling for the HTTP layer: a bare Fastify (same version, defaults, no logger) whose one route sends the
 * parsed JSON body straight back. Prints "listening <port>" once ready.
 */
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'

const app = Fastify({ logger: false })
app.post('/echo', async (request) => request.body)

await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening ${(app.server.address() as AddressInfo).port}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
