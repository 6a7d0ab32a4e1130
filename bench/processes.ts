/** Child processes for the benchmark: start one, learn its port, watch its memory, stop it. */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { performance } from 'node:perf_hooks'

export interface Child {
  readonly process: ChildProcess
  readonly port: number
  /** ms from spawn until ready (the "listening" line, or /health 200 for the service). */
  readonly readyMs: number
  stop(): Promise<void>
}

/** Resident set size (VmRSS) or its peak over the process's life (VmHWM), in MB; 0 when /proc is not there. */
export const memoryMb = (pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]
    return kb === undefined ? 0 : Number(kb) / 1024
  } catch {
    return 0
  }
}

/** CPU the process has used so far (user + system), in µs, from /proc (clock ticks of 10 ms); 0 without /proc. */
export const cpuMicrosOf = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return 0
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the highest seen. */
export const watchPeakRss = (pid: number, everyMs = 100): (() => number) => {
  let peak = memoryMb(pid)
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryMb(pid))
  }, everyMs)
  return () => {
    clearInterval(timer)
    return Math.max(peak, memoryMb(pid))
  }
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const stopper = (child: ChildProcess) => (): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })

const spawnNode = (script: string, env: Record<string, string>, nodeArgs: readonly string[]): ChildProcess => {
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000)
  })
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL')
      process.stderr.write(`${script} exited ${code ?? signal}: ${stderr}\n`)
  })
  return child
}

/** Starts a helper that prints "listening <port>". */
export const startHelper = (script: string, env: Record<string, string> = {}): Promise<Child> => {
  const startedAt = performance.now()
  const child = spawnNode(script, env, [])
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /listening (\d+)/.exec(out)
      if (m)
        resolve({ process: child, port: Number(m[1]), readyMs: performance.now() - startedAt, stop: stopper(child) })
    })
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before listening`)))
  })
}

const healthStatus = (port: number): Promise<number> =>
  new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
  })

/** Starts the service (`node dist/src/server.js`) and resolves when GET /health answers 200. */
export const startService = async (
  script: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<Child> => {
  const port = await freePort()
  const startedAt = performance.now()
  const child = spawnNode(script, { HOST: '127.0.0.1', PORT: String(port), ...env }, nodeArgs)
  child.stdout?.resume()
  let exited = false
  child.once('exit', () => (exited = true))
  for (;;) {
    if (exited) throw new Error(`the service exited before /health answered`)
    if ((await healthStatus(port)) === 200) break
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return { process: child, port, readyMs: performance.now() - startedAt, stop: stopper(child) }
}

/** A throwaway redis-server on 127.0.0.1 (no persistence), ready when it answers PING. */
export const startRedisServer = async (): Promise<Child> => {
  const port = await freePort()
  const startedAt = performance.now()
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  for (let i = 0; i < 400; i++) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = net.createConnection({ host: '127.0.0.1', port })
      socket.once('error', () => resolve(false))
      socket.once('connect', () => socket.write('PING\r\n'))
      socket.once('data', (d) => {
        socket.destroy()
        resolve(d.toString().startsWith('+PONG'))
      })
    })
    if (pong) return { process: child, port, readyMs: performance.now() - startedAt, stop: stopper(child) }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  child.kill('SIGKILL')
  throw new Error(
    'redis-server did not answer (is it installed? scripts/ensure-debian-package.sh redis-server redis-server)',
  )
}
