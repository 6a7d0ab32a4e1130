/**
 * Graceful shutdown of the real entry point (src/server.ts, run as a child process through the same TypeScript
 * loader tap uses): on SIGTERM the listener closes at once, the request in flight finishes (its note write-back
 * included, which happens after the signal), and the process exits 0.
 */
import t, { type Test } from 'tap'
import http from 'node:http'
import { flattenOutputs, type NestedOutputs } from '../../src/contract/outputs.js'
import net from 'node:net'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { TEST_SNAPSHOT_DIR } from '../helpers/snapshot-dir.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const tsLoader = new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url).href

interface Started {
  readonly child: ChildProcess
  readonly port: number
  readonly stdout: () => string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts src/server.ts with `env` and resolves once it logs the address it listens on. */
const startServer = async (t: Test, env: Record<string, string>): Promise<Started> => {
  const child = spawn(process.execPath, [`--import=${tsLoader}`, 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      TS_NODE_TRANSPILE_ONLY: '1',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ASN_SNAPSHOT_DIR: TEST_SNAPSHOT_DIR,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  let err = ''
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 60 s; stderr: ${err}`)), 60_000)
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    void exited.then(({ code }) => reject(new Error(`the server exited (${code}) before listening; stderr: ${err}`)))
  })
  return { child, port, stdout: () => out, exited }
}

const post = (port: number, body: unknown): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const payload = JSON.stringify(body)
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/run',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })

const connectOutcome = (port: number): Promise<string> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })

const waitFor = async (what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> => {
  const until = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('SIGTERM: no new connections, the request in flight completes with its write-back, exit 0', async (t) => {
  const ip = '198.51.100.23'
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: ip }] })
  const vendor = await startFakeVendor(t)
  const answerDelayMs = 1500
  vendor.route('GET', `/${ip}`, {
    delayMs: answerDelayMs,
    json: { cpes: [], hostnames: [], ip, ports: [443], tags: [], vulns: [] },
  })

  const server = await startServer(t, {
    INTERNETDB_BASE_URL: vendor.url,
    TC_API_PATH: sandbox.url,
    TC_API_ACCESS_ID: ACCESS_ID,
    TC_API_SECRET_KEY: SECRET_KEY,
    RUN_TIMEOUT_MS: '10000',
  })
  t.equal(await connectOutcome(server.port), 'connected', 'listening before the signal')

  const reply = post(server.port, { indicator: ip, sources: 'asn|internetdb', write_note: true })
  await waitFor('the source call to reach the fake', () => vendor.requestsTo(`/${ip}`).length === 1)
  const signalledAt = Date.now()
  server.child.kill('SIGTERM')
  await waitFor('the stop log line', () => server.stdout().includes('stopping'))

  t.equal(
    await connectOutcome(server.port),
    'ECONNREFUSED',
    'a new connection is refused while the run is still in flight',
  )
  const { status, text } = await reply
  t.ok(Date.now() - signalledAt < answerDelayMs + 5000, 'the reply came once the source answered')
  t.equal(status, 200)
  const body = {
    ...(JSON.parse(text) as { exitCode: number }),
    outputs: flattenOutputs((JSON.parse(text) as { outputs: NestedOutputs }).outputs),
  }
  t.same(
    body.outputs['enrich.results.sources.ok'],
    ['asn', 'internetdb'],
    'the slow source answered: nothing was cancelled',
  )
  t.equal(body.outputs['enrich.results.writeback.status'], 'written', 'the write-back after the signal went through')
  t.equal(body.exitCode, 0)
  const indicatorId = Number(body.outputs['enrich.results.writeback.indicator_id'])
  t.equal(sandbox.app.sandbox.store.postsFor(indicatorId).length, 1, 'the note is on the platform')

  t.same(await server.exited, { code: 0, signal: null }, 'the process exited 0 on its own')
  t.match(server.stdout(), /"msg":"stopped"/)
  t.equal(await connectOutcome(server.port), 'ECONNREFUSED')
})

t.test('SIGTERM with nothing in flight exits promptly with 0', async (t) => {
  const server = await startServer(t, {})
  const signalledAt = Date.now()
  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null })
  t.ok(Date.now() - signalledAt < 5000, 'no waiting for the grace period')
})

t.test(
  'SIGTERM with a keep-alive client: replies say Connection: close, idle connections close at once, a quick exit',
  async (t) => {
    const ip = '198.51.100.24'
    const vendor = await startFakeVendor(t)
    vendor.route('GET', `/${ip}`, {
      delayMs: 1000,
      json: { cpes: [], hostnames: [], ip, ports: [443], tags: [], vulns: [] },
    })
    const server = await startServer(t, { INTERNETDB_BASE_URL: vendor.url, RUN_TIMEOUT_MS: '10000' })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 })
    t.teardown(() => agent.destroy())
    const request = (path: string, body?: unknown): Promise<{ status: number; connection: string | undefined }> =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body)
        const req = http.request(
          {
            host: '127.0.0.1',
            port: server.port,
            method: payload ? 'POST' : 'GET',
            path,
            agent,
            headers: payload ? { 'content-type': 'application/json' } : {},
          },
          (res) => {
            res.resume()
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers['connection'] }))
          },
        )
        req.on('error', reject)
        req.end(payload)
      })
    const first = await request('/health')
    t.equal(first.connection, 'keep-alive', 'a keep-alive connection, now idle')
    const inFlight = request('/run', { indicator: ip, sources: 'internetdb' })
    await waitFor('the source call to reach the fake', () => vendor.requestsTo(`/${ip}`).length === 1)
    const signalledAt = Date.now()
    server.child.kill('SIGTERM')
    const last = await inFlight
    t.equal(last.status, 200)
    t.equal(last.connection, 'close', 'the reply after SIGTERM closes its connection')
    t.same(await server.exited, { code: 0, signal: null })
    const took = Date.now() - signalledAt
    t.ok(took < 8_000, `exited ${took} ms after SIGTERM, not after the 72 s keep-alive timeout`)
  },
)
