/**
 * The baseline the vendor overhead goal is measured against: a bare Fastify app that, for each request, makes the
 * same call to the fake vendor through the same got instance the service's client builds (src/http/transport.ts,
 * with the same agents, timeouts, cap and headers), and answers with what it got. /run minus this is the service's
 * own work on a vendor call; this minus the bare Node forwarder is what got and Fastify cost. TARGET_PORT is the
 * fake's port; prints "listening <port>".
 */
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { loadServiceConfig } from '../src/config/env.js'
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUTS } from '../src/http/client.js'
import { createClientAgents } from '../src/http/proxy-agents.js'
import { createTransport } from '../src/http/transport.js'

const target = Number(process.env['TARGET_PORT'])
const config = loadServiceConfig({}, [])
const transport = createTransport({
  agents: createClientAgents(config, 'external'),
  timeouts: DEFAULT_TIMEOUTS,
  maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
  rejectUnauthorized: config.tcVerify,
  headers: { 'user-agent': 'bench-forwarder/1.0', accept: 'application/json' },
})
let n = 0

const app = Fastify()
app.post('/', async (_req, reply) => {
  n += 1
  const url = new URL(`http://127.0.0.1:${target}/45.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`)
  const answer = await transport.send({ method: 'GET', url })
  if (answer.kind !== 'answer') return reply.code(502).send({ failed: answer.kind })
  return { answer: JSON.parse(answer.body.toString('utf8')) as unknown }
})
await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening ${(app.server.address() as AddressInfo).port}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
