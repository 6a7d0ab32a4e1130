/**
 * A stand-in for Shodan InternetDB in its own process (so it takes no CPU from the load generator's event loop):
 * answers GET /<ip> after DELAY_MS, and with WINDOW_LIMIT set refuses with 429 any request beyond WINDOW_LIMIT
 * accepted in the last WINDOW_MS (a sliding window, as strict vendors count). GET /__stats gives the counts.
 * Prints "listening <port>" once ready.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'

const delayMs = Number(process.env['DELAY_MS'] ?? '0')
/** HOSTILE=1: answers alternate between a body nested 5,000 levels deep and a 256 KB one (a hostile vendor). */
const hostile = process.env['HOSTILE'] === '1'
const NESTED = `${'['.repeat(5000)}1${']'.repeat(5000)}`
const PADDING = 'x'.repeat(256 * 1024)
const windowLimit = Number(process.env['WINDOW_LIMIT'] ?? '0')
const windowMs = Number(process.env['WINDOW_MS'] ?? '1000')

const accepted: number[] = []
const stats = { served: 0, refused: 0 }

const overLimit = (now: number): boolean => {
  if (windowLimit <= 0) return false
  while (accepted.length > 0 && (accepted[0] as number) <= now - windowMs) accepted.shift()
  return accepted.length >= windowLimit
}

const answer = (ip: string): string => {
  const plain = JSON.stringify({
    cpes: [],
    hostnames: [`host-${ip}.example`],
    ip,
    ports: [22, 443],
    tags: [],
    vulns: [],
  })
  if (!hostile) return plain
  return stats.served % 2 === 0
    ? `${plain.slice(0, -1)},"nested":${NESTED}}`
    : `${plain.slice(0, -1)},"padding":"${PADDING}"}`
}

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  if (path === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats))
    return
  }
  const now = performance.now()
  if (overLimit(now)) {
    stats.refused += 1
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"detail":"rate limited"}')
    return
  }
  if (windowLimit > 0) accepted.push(now)
  stats.served += 1
  const body = answer(decodeURIComponent(path.slice(1)))
  const send = (): void => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
  }
  if (delayMs > 0) setTimeout(send, delayMs)
  else send()
})
server.keepAliveTimeout = 30_000

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
