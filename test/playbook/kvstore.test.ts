/** writeVariables against a real redis-server (scripts/ensure-redis.sh installs it), and against no Redis at all. */
import { createServer, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import t, { type Test } from 'tap'
import { createClient } from 'redis'
import { describeRedisError, writeVariables } from '../../src/playbook/kvstore.js'
import { encodeValue } from '../../src/playbook/variables.js'
import { freePort, startRedis } from '../helpers/redis-server.js'

/** A separate client to read back what writeVariables wrote. */
const reader = async (t: Test, host: string, port: number) => {
  const client = createClient({ socket: { host, port, reconnectStrategy: false } })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.destroy())
  return client
}

// Handles that would keep a process alive (sockets, timers). Compared before/after a failed write: none left behind.
const liveHandles = (): string[] =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWRAP' || r === 'Timeout').sort()

t.test('against a real redis-server', async (t) => {
  const redis = await startRedis(t)
  const client = await reader(t, redis.host, redis.port)

  t.test('writes every non-null value with HSET <context> <variable> <value>', async (t) => {
    const values = {
      '#App:9:enrich.verdict!String': encodeValue('String', 'malicious'),
      '#App:9:enrich.tags!StringArray': encodeValue('StringArray', ['botnet', null, 'scanner "x"']),
      '#App:9:enrich.score!String': encodeValue('String', 87),
      '#App:9:enrich.note!String': null,
    }
    const result = await writeVariables({ ...redis, context: 'ctx-write', values, timeoutMs: 5000 })
    t.strictSame(result, { ok: true, written: 3 })

    t.equal(await client.hGet('ctx-write', '#App:9:enrich.verdict!String'), '"malicious"')
    t.equal(await client.hGet('ctx-write', '#App:9:enrich.tags!StringArray'), '["botnet",null,"scanner \\"x\\""]')
    t.equal(await client.hGet('ctx-write', '#App:9:enrich.score!String'), '"87"')
    for (const [variable, encoded] of Object.entries(values)) {
      if (encoded !== null) t.equal(await client.hGet('ctx-write', variable), encoded, `${variable} reads back as written`)
    }
    t.equal(await client.hExists('ctx-write', '#App:9:enrich.note!String'), 0, 'null value not written')
    t.strictSame(Object.keys(await client.hGetAll('ctx-write')).sort(), [
      '#App:9:enrich.score!String',
      '#App:9:enrich.tags!StringArray',
      '#App:9:enrich.verdict!String',
    ], 'nothing else in the hash')
  })

  t.test('a second write to the same context updates the fields and keeps the others', async (t) => {
    await writeVariables({ ...redis, context: 'ctx-twice', values: { a: '"1"', b: '"2"' }, timeoutMs: 5000 })
    const again = await writeVariables({ ...redis, context: 'ctx-twice', values: { a: '"3"' }, timeoutMs: 5000 })
    t.strictSame(again, { ok: true, written: 1 })
    t.strictSame(await client.hGetAll('ctx-twice'), { a: '"3"', b: '"2"' })
  })

  t.test('contexts are separate hashes', async (t) => {
    await writeVariables({ ...redis, context: 'ctx-a', values: { v: '"a"' }, timeoutMs: 5000 })
    await writeVariables({ ...redis, context: 'ctx-b', values: { v: '"b"' }, timeoutMs: 5000 })
    t.equal(await client.hGet('ctx-a', 'v'), '"a"')
    t.equal(await client.hGet('ctx-b', 'v'), '"b"')
  })

  t.test('only null values: nothing written, no key created', async (t) => {
    const result = await writeVariables({ ...redis, context: 'ctx-empty', values: { '#App:9:enrich.note!String': null }, timeoutMs: 5000 })
    t.strictSame(result, { ok: true, written: 0 })
    t.equal(await client.exists('ctx-empty'), 0)
  })

  t.test('Redis refusing the command (context holds a string, not a hash) is a clear failure', async (t) => {
    await client.set('ctx-string', 'not a hash')
    const result = await writeVariables({ ...redis, context: 'ctx-string', values: { v: '"x"' }, timeoutMs: 5000 })
    t.equal(result.ok, false)
    if (!result.ok) t.match(result.reason, new RegExp(`^key-value store at 127\\.0\\.0\\.1:${redis.port}: HSET ctx-string failed: WRONGTYPE`))
    t.equal(await client.get('ctx-string'), 'not a hash', 'left as it was')
  })
})

t.test('Redis down (a closed port): ok:false with a clear reason, within the timeout, nothing left running', async (t) => {
  const port = await freePort()
  const before = liveHandles()
  const started = performance.now()
  const result = await writeVariables({ host: '127.0.0.1', port, context: 'ctx', values: { v: '"x"' }, timeoutMs: 2000 })
  const elapsed = performance.now() - started
  t.strictSame(result, { ok: false, reason: `key-value store at 127.0.0.1:${port} unreachable: ECONNREFUSED` })
  t.ok(elapsed < 2000, `answered before the deadline (${elapsed.toFixed(0)} ms)`)
  // A retry loop would keep a timer or a socket alive; give it a moment to show itself.
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.strictSame(liveHandles(), before, 'no socket or timer left behind')
})

t.test('a server that accepts but never answers: ok:false at the deadline, not a hang', async (t) => {
  const sockets = new Set<Socket>()
  let ended = 0
  const silent = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    // Reads (and drops) whatever the client sends, so its closing the connection shows as 'end'.
    socket.resume().on('end', () => ended++)
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((resolve) => silent.close(() => resolve()))
  })
  const { port } = silent.address() as { port: number }

  const started = performance.now()
  const result = await writeVariables({ host: '127.0.0.1', port, context: 'ctx', values: { v: '"x"' }, timeoutMs: 400 })
  const elapsed = performance.now() - started
  t.equal(result.ok, false)
  if (!result.ok) t.match(result.reason, new RegExp(`^key-value store at 127\\.0\\.0\\.1:${port} is not answering: no answer within 400 ms$`))
  t.ok(elapsed >= 390, `waited for the deadline (${elapsed.toFixed(0)} ms)`)
  t.ok(elapsed < 5000, 'then gave up')
  // Our side of the connection is closed: the silent server sees its socket end.
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(sockets.size, 1, 'the writer did connect')
  t.equal(ended, 1, 'and closed its connection after giving up')
})

t.test('an unknown host: ok:false naming the lookup failure', async (t) => {
  const result = await writeVariables({ host: 'no-such-host.invalid', port: 6379, context: 'ctx', values: { v: '"x"' }, timeoutMs: 3000 })
  t.equal(result.ok, false)
  if (!result.ok) t.match(result.reason, /^key-value store at no-such-host\.invalid:6379 (unreachable: (ENOTFOUND|EAI_AGAIN)|.*no answer within 3000 ms)/)
})

t.test('cancelled by the caller', async (t) => {
  const controller = new AbortController()
  controller.abort()
  const result = await writeVariables({ host: '127.0.0.1', port: 1, context: 'ctx', values: { v: '"x"' }, timeoutMs: 1000, signal: controller.signal })
  t.strictSame(result, { ok: false, reason: 'key-value store at 127.0.0.1:1: not written, cancelled' })
})

t.test('describeRedisError', async (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
  t.equal(describeRedisError(refused), 'ECONNREFUSED', 'a system code wins')
  t.equal(describeRedisError(new AggregateError([refused, refused], 'all failed')), 'ECONNREFUSED', 'every address failed alike')
  t.equal(describeRedisError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')), 'WRONGTYPE Operation against a key holding the wrong kind of value')
  t.equal(describeRedisError('odd'), 'odd')
})
