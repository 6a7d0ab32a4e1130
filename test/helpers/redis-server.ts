/**
 * A real, throwaway redis-server for tests: 127.0.0.1 on a free port, no persistence unless asked, killed at teardown.
 *
 *   const redis = await startRedis(t)   // { host, port, url, stop(), restart() }
 *
 * redis-server must be on PATH (scripts/ensure-debian-package.sh installs Debian's package).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface RedisEndpoint {
  readonly host: string
  readonly port: number
  /** redis://host:port/0 */
  readonly url: string
  /** Kills the server (as a crash would: SIGKILL), keeping its port for restart(). */
  stop(): Promise<void>
  /** Starts a fresh, empty server on the same port. */
  restart(): Promise<void>
}

const HOST = '127.0.0.1'
const READY_WITHIN_MS = 10_000

/** A port nothing listens on right now (free a moment ago). */
const freePort = async (): Promise<number> => {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, resolve)
  })
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** One PING over a raw socket; true on +PONG. */
const answersPing = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      // A server with a password answers NOAUTH: it is up.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'))
    })
  })

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))

const stop = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const gone = await Promise.race([exited(child).then(() => true), sleep(3000).then(() => false)])
  if (!gone) {
    child.kill('SIGKILL')
    await exited(child)
  }
}

const launch = async (
  port: number,
  dir: string,
  extra: readonly string[],
): Promise<{ child: ChildProcess; ready: boolean; log: () => string }> => {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
  const deadline = Date.now() + READY_WITHIN_MS
  while (Date.now() < deadline) {
    const early = await Promise.race([spawnError, sleep(50).then(() => undefined)])
    if (early !== undefined) {
      const code = (early as NodeJS.ErrnoException).code
      throw new Error(
        code === 'ENOENT'
          ? 'redis-server is not installed (run scripts/ensure-debian-package.sh redis-server redis-server)'
          : `cannot start redis-server: ${early.message}`,
      )
    }
    if (child.exitCode !== null || child.signalCode !== null) return { child, ready: false, log: () => output }
    if (await answersPing(port)) return { child, ready: true, log: () => output }
  }
  await stop(child)
  return { child, ready: false, log: () => output }
}

/**
 * `password`: started with --requirepass, and `url` carries it. `args`: more redis-server options, after the defaults
 * (so `['--appendonly', 'yes']` turns the append-only file on; a restart then reads it back from the same dir).
 */
export const startRedis = async (
  t: Teardown,
  options: { password?: string; args?: readonly string[] } = {},
): Promise<RedisEndpoint> => {
  const extra = [
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ...(options.args ?? []),
  ]
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`
  const dir = await mkdtemp(join(tmpdir(), 'redis-test-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // The free port may be taken between finding and binding it; then try another.
  let last = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const first = await launch(port, dir, extra)
    if (first.ready) {
      let current = first.child
      t.teardown(() => stop(current))
      return {
        host: HOST,
        port,
        url: `redis://${auth}${HOST}:${port}/0`,
        async stop() {
          current.kill('SIGKILL')
          await exited(current)
        },
        async restart() {
          const again = await launch(port, dir, extra)
          if (!again.ready) throw new Error(`redis-server did not restart on ${HOST}:${port}:\n${again.log()}`)
          current = again.child
        },
      }
    }
    last = first.log()
  }
  throw new Error(`redis-server did not start answering on ${HOST}:\n${last}`)
}
