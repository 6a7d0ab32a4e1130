/**
 * The client's HTTP transport (src/http/transport.ts, got) against a raw local server: compressed answers and the cap
 * on
 * their decoded size, a body cut short, redirects that change or keep the method, redirect loops, header names.
 */
import http from 'node:http'
import net from 'node:net'
import zlib from 'node:zlib'
import t, { type Test } from 'tap'
import { SOURCE_REQUESTS_TOTAL } from '../../src/metrics.js'
import { listenOnLoopback } from '../helpers/listen.js'
import { clientUnderTest, failureOf } from './client-harness.js'

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void

const startServer = async (t: Test, handler: Handler): Promise<{ url: string; seen: Seen[] }> => {
  const seen: Seen[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      handler(req, res, body)
    })
  })
  return { url: `http://127.0.0.1:${await listenOnLoopback(t, server)}`, seen }
}

const json = (res: http.ServerResponse, value: unknown, encode?: 'gzip' | 'br' | 'deflate'): void => {
  const text = Buffer.from(JSON.stringify(value))
  const body =
    encode === 'gzip'
      ? zlib.gzipSync(text)
      : encode === 'br'
        ? zlib.brotliCompressSync(text)
        : encode === 'deflate'
          ? zlib.deflateSync(text)
          : text
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': body.length,
    ...(encode ? { 'content-encoding': encode } : {}),
  })
  res.end(body)
}

t.test('compressed answers are asked for and decoded (gzip, deflate, br)', async (t) => {
  const server = await startServer(t, (req, res) =>
    json(res, { via: req.url }, req.url?.slice(1) as 'gzip' | 'br' | 'deflate'),
  )
  const { client } = clientUnderTest(t, { baseUrl: server.url })
  for (const encoding of ['gzip', 'deflate', 'br']) {
    const res = await client.request({ method: 'GET', path: encoding })
    t.same(res.body, { via: `/${encoding}` }, encoding)
  }
  t.match(server.seen[0]?.headers['accept-encoding'], /gzip/)
})

t.test(
  'an empty answer that names an encoding (204, 304, Content-Length 0) is empty, not a decoding failure',
  async (t) => {
    const server = await startServer(t, (req, res) => {
      const status = req.url === '/not-modified' ? 304 : req.url === '/no-content' ? 204 : 200
      res.writeHead(status, {
        'content-encoding': 'gzip',
        etag: '"v1"',
        ...(status === 200 ? { 'content-length': 0 } : {}),
      })
      res.end()
    })
    const { client } = clientUnderTest(t, { baseUrl: server.url })
    const notModified = await client.request({ method: 'GET', path: 'not-modified', answerStatuses: [304] })
    t.same([notModified.status, notModified.body], [304, undefined])
    t.equal((await client.request({ method: 'GET', path: 'no-content' })).status, 204)
    t.equal((await client.request({ method: 'GET', path: 'empty' })).body, undefined)
  },
)

t.test('the size cap counts decoded bytes: a small compressed body cannot inflate past it', async (t) => {
  const server = await startServer(t, (_req, res) => json(res, { pad: 'x'.repeat(200_000) }, 'gzip'))
  const { client } = clientUnderTest(t, { baseUrl: server.url, maxResponseBytes: 10_000 })
  const err = await failureOf(client.request({ method: 'GET', path: 'bomb' }))
  t.equal(err.kind, 'too_large')
  t.ok(
    zlib.gzipSync(JSON.stringify({ pad: 'x'.repeat(200_000) })).length < 10_000,
    'the compressed body itself fits under the cap',
  )
})

t.test('a body cut short (declared longer than what came) is a network failure, never an answer', async (t) => {
  const server = await startServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 })
    res.write('{"partial": tr')
    setTimeout(() => res.socket?.destroy(), 20)
  })
  const { client } = clientUnderTest(t, { baseUrl: server.url, retry: { limit: 0 } })
  const err = await failureOf(client.request({ method: 'GET', path: 'cut' }))
  t.equal(err.kind, 'network')
  t.match(err.message, /^connection to vendor failed: ECONNRESET/)
})

t.test('redirects: 303 turns a POST into a GET without its body; 307 and 302 keep both', async (t) => {
  const server = await startServer(t, (req, res, body) => {
    if (req.url === '/see-other') res.writeHead(303, { location: '/landing' }).end()
    else if (req.url === '/temporary') res.writeHead(307, { location: '/landing' }).end()
    else if (req.url === '/found') res.writeHead(302, { location: '/landing' }).end()
    else json(res, { method: req.method, body })
  })
  const { client } = clientUnderTest(t, { baseUrl: server.url })
  const seeOther = await client.request({ method: 'POST', path: 'see-other', json: { a: 1 } })
  t.same(seeOther.body, { method: 'GET', body: '' })
  const temporary = await client.request({ method: 'POST', path: 'temporary', json: { a: 1 } })
  t.same(temporary.body, { method: 'POST', body: '{"a":1}' })
  const found = await client.request({ method: 'POST', path: 'found', json: { a: 2 } })
  t.same(found.body, { method: 'POST', body: '{"a":2}' })
})

t.test('a redirect loop on the same origin ends as a network failure after 10 hops', async (t) => {
  const server = await startServer(t, (req, res) =>
    res.writeHead(302, { location: req.url === '/a' ? '/b' : '/a' }).end(),
  )
  const { client } = clientUnderTest(t, { baseUrl: server.url, retry: { limit: 0 } })
  const err = await failureOf(client.request({ method: 'GET', path: 'a' }))
  t.equal(err.kind, 'network')
  t.match(err.message, /ERR_TOO_MANY_REDIRECTS/)
  t.equal(server.seen.length, 11, 'the first call and ten redirects')
})

t.test(
  "a caller's header replaces the client's own whatever its case; bodies carry their type and length",
  async (t) => {
    const server = await startServer(t, (_req, res) => json(res, {}))
    const { client } = clientUnderTest(t, { baseUrl: server.url })
    await client.request({ method: 'GET', path: 'h', headers: { Accept: 'text/csv' } })
    t.equal(server.seen[0]?.headers.accept, 'text/csv')
    await client.request({ method: 'POST', path: 'f', form: { q: 'a b&c' } })
    t.equal(server.seen[1]?.headers['content-type'], 'application/x-www-form-urlencoded')
    t.equal(server.seen[1]?.body, 'q=a+b%26c')
    await client.request({ method: 'PUT', path: 'r', body: 'é', headers: { 'content-type': 'text/plain' } })
    t.equal(server.seen[2]?.headers['content-length'], '2', 'bytes, not characters')
    t.equal(server.seen[2]?.body, 'é')
  },
)

t.test(
  'a request node:http refuses before sending (a header with a line break) fails at once as network, not retried',
  async (t) => {
    const server = await startServer(t, (_req, res) => json(res, {}))
    const { client, metrics } = clientUnderTest(t, { baseUrl: server.url })
    const err = await failureOf(client.request({ method: 'GET', path: 'x', headers: { 'x-note': 'one\r\ntwo' } }))
    t.equal(err.kind, 'network')
    t.match(err.message, /ERR_INVALID_CHAR/)
    t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'vendor' }), 1, 'one attempt: not retried')
    t.equal(server.seen.length, 0, 'nothing reached the server')
  },
)

t.test('a TLS handshake that never completes is a connect timeout (connecting covers TCP and TLS)', async (t) => {
  // Accepts the TCP connection, then says nothing: the client's TLS hello is never answered.
  const silent = net.createServer((socket) => socket.on('error', () => undefined))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const sockets = new Set<net.Socket>()
  silent.on('connection', (s) => sockets.add(s))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    silent.close()
  })
  const port = (silent.address() as net.AddressInfo).port
  const { client } = clientUnderTest(t, {
    baseUrl: `https://127.0.0.1:${port}`,
    retry: { limit: 0 },
    timeouts: { connectMs: 200, responseMs: 5_000, totalMs: 10_000 },
  })
  const err = await failureOf(client.request({ method: 'GET', path: 'x' }))
  t.equal(err.kind, 'timeout')
  t.equal(err.message, 'no connection within 200 ms')
})

t.test(
  'a path whose first segment looks like a scheme stays under the base URL: no other host, the key stays home',
  async (t) => {
    const server = await startServer(t, (req, res) => json(res, { path: req.url }))
    const other = await startServer(t, (_req, res) => json(res, { stolen: true }))
    const { client } = clientUnderTest(t, { baseUrl: `${server.url}/api/` })
    const ipv6 = await client.request({ method: 'GET', path: 'fe80::1', headers: { 'x-apikey': 'secret-key-1' } })
    t.same(ipv6.body, { path: '/api/fe80::1' }, 'an IPv6 address that starts with a letter is a path, not a URL scheme')
    const absolute = await client.request({
      method: 'GET',
      path: `${other.url}/x`,
      headers: { 'x-apikey': 'secret-key-1' },
    })
    t.equal(
      (absolute.body as { path: string }).path.startsWith('/api/http:'),
      true,
      'an absolute URL as a path is still a path under the base',
    )
    t.equal(other.seen.length, 0, 'the other host was never called')
  },
)

t.test('an empty chunked answer labelled gzip is an empty answer, not a decoding failure', async (t) => {
  const server = await startServer(t, (_req, res) => {
    // No Content-Length: chunked, and the body ends before a single gzip byte.
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'transfer-encoding': 'chunked',
    })
    res.end()
  })
  const { client, metrics } = clientUnderTest(t, { baseUrl: server.url })
  const res = await client.request({ method: 'GET', path: 'empty-chunked-gzip' })
  t.same([res.status, res.body], [200, undefined])
  t.equal(
    await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'vendor' }),
    1,
    'answered first time: not retried as a network failure',
  )
})

t.test('a redirect to another origin is not followed: the key header never leaves its host', async (t) => {
  const other = await startServer(t, (_req, res) => json(res, { reached: true }))
  const server = await startServer(t, (_req, res) => {
    res.writeHead(302, { location: `${other.url.replace('127.0.0.1', 'localhost')}/elsewhere` })
    res.end()
  })
  const { client } = clientUnderTest(t, { baseUrl: server.url })
  const res = await client.request({
    method: 'GET',
    path: 'moved',
    headers: { 'x-apikey': 'SECRET-KEY-1' },
    answerStatuses: [302],
  })
  t.equal(res.status, 302, 'answered as it came')
  t.equal(other.seen.length, 0, 'the other origin was never called')
})
