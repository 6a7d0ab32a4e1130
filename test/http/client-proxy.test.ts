/** Proxy and TLS settings, through a REAL local forward proxy (the `proxy` package) and an HTTPS fake vendor. */
import http from 'node:http'
import t from 'tap'
import { createProxy, type ProxyServer } from 'proxy'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { listenOnLoopback } from '../helpers/listen.js'
import { proxyUrlFor } from '../../src/http/proxy-agents.js'
import { clientUnderTest, failureOf, testConfig } from './client-harness.js'

// A self-signed certificate for 127.0.0.1 (test fixture only; valid until 2126).
const TEST_TLS = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfS6/R5nz+G0WvmR7
vLQg/l3gKasS7xzDqSch4MGB8XGhRANCAATcNmnmCWp12vYsZlwHUOAb4tKurQvr
+fdKS6HczC2RN8ni5bpS8tmgWeUzfbqJe8w38jAiO20BrauGAhBFtvBi
-----END PRIVATE KEY-----
`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUfH++URWUaUVCn385e859Vin02aEwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyMzE4NDM0OFoYDzIxMjYxMDMw
MTg0MzQ4WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATcNmnmCWp12vYsZlwHUOAb4tKurQvr+fdKS6HczC2RN8ni5bpS8tmg
WeUzfbqJe8w38jAiO20BrauGAhBFtvBio2QwYjAdBgNVHQ4EFgQUZbJL+1UdclMz
bHiERc/iTQxXRF8wHwYDVR0jBBgwFoAUZbJL+1UdclMzbHiERc/iTQxXRF8wDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IQDY4sGbsQlZ6kyAa6oUpvl3Hh9eRZse2tT0PvIiilBgTgIgaBjp3LiTtdrradRe
Fp9+FLsZbYiF+qTbtR5wLZJqoFQ=
-----END CERTIFICATE-----
`,
}

interface RunningProxy {
  readonly port: number
  /** "host:port" of every CONNECT tunnel and URL of every plain proxied request the proxy saw. */
  readonly seen: string[]
  /** Proxy-Authorization credentials presented, decoded ("user:password"). */
  readonly credentials: string[]
}

interface Teardownable {
  teardown(fn: () => unknown): void
}

const startProxy = async (t: Teardownable, auth?: { user: string; password: string }): Promise<RunningProxy> => {
  const server: ProxyServer = createProxy(http.createServer())
  const seen: string[] = []
  const credentials: string[] = []
  server.on('connect', (req: http.IncomingMessage) => seen.push(req.url ?? ''))
  server.on('request', (req: http.IncomingMessage) => seen.push(req.url ?? ''))
  if (auth) {
    server.authenticate = (req) => {
      const header = req.headers['proxy-authorization'] ?? ''
      const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8')
      credentials.push(decoded)
      return decoded === `${auth.user}:${auth.password}`
    }
  }
  return { port: await listenOnLoopback(t, server), seen, credentials }
}

t.test('vendor calls go through the proxy when tc_proxy_external is on (with proxy credentials)', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/check', { json: { ok: true } })
  const proxy = await startProxy(t, { user: 'tc user', password: 'p@ss:w0rd' })
  const { client, logText } = clientUnderTest(
    t,
    { baseUrl: vendor.url },
    {
      tcProxyHost: '127.0.0.1',
      tcProxyPort: proxy.port,
      tcProxyUsername: 'tc user',
      tcProxyPassword: 'p@ss:w0rd',
      tcProxyExternal: true,
    },
  )
  const res = await client.request({ method: 'GET', path: 'check' })
  t.same(res.body, { ok: true })
  t.same(proxy.seen, [`127.0.0.1:${vendor.port}`], 'the proxy carried the call to the vendor')
  t.same(proxy.credentials, ['tc user:p@ss:w0rd'], 'the proxy credentials were sent, decoded intact')
  t.equal(vendor.requests.length, 1, 'and the vendor got it')
  t.match(logText(), 'uses a proxy', 'the proxy in use is logged')
  t.notMatch(logText(), 'p@ss:w0rd', 'the proxy password is not logged')
  t.notMatch(logText(), encodeURIComponent('p@ss:w0rd'))
})

t.test('direct when tc_proxy_external is off, even with a proxy configured', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/check', { json: { ok: true } })
  const proxy = await startProxy(t)
  const { client } = clientUnderTest(
    t,
    { baseUrl: vendor.url },
    { tcProxyHost: '127.0.0.1', tcProxyPort: proxy.port, tcProxyExternal: false },
  )
  await client.request({ method: 'GET', path: 'check' })
  t.same(proxy.seen, [])
  t.equal(vendor.requests.length, 1)
})

t.test("the platform scope ('tc') follows tc_proxy_tc, not tc_proxy_external", async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/api/v3/indicators', { json: { data: [] } })
  const proxy = await startProxy(t)
  const base = { tcProxyHost: '127.0.0.1', tcProxyPort: proxy.port }
  const direct = clientUnderTest(
    t,
    { baseUrl: vendor.url, proxyScope: 'tc' },
    { ...base, tcProxyExternal: true, tcProxyTc: false },
  )
  await direct.client.request({ method: 'GET', path: 'api/v3/indicators' })
  t.same(proxy.seen, [], 'tc_proxy_external does not apply to the platform')
  const proxied = clientUnderTest(
    t,
    { baseUrl: vendor.url, proxyScope: 'tc' },
    { ...base, tcProxyExternal: false, tcProxyTc: true },
  )
  await proxied.client.request({ method: 'GET', path: 'api/v3/indicators' })
  t.equal(proxy.seen.length, 1)
  t.equal(vendor.requests.length, 2)
})

t.test('a proxy refusing the credentials -> network failure, not retried, password not in the message', async (t) => {
  const vendor = await startFakeVendor(t)
  const proxy = await startProxy(t, { user: 'u', password: 'right-password' })
  const { client } = clientUnderTest(
    t,
    { baseUrl: vendor.url },
    {
      tcProxyHost: 'http://127.0.0.1',
      tcProxyPort: proxy.port,
      tcProxyUsername: 'u',
      tcProxyPassword: 'wrong-password',
      tcProxyExternal: true,
    },
  )
  const err = await failureOf(client.request({ method: 'GET', path: 'x' }))
  t.equal(err.kind, 'network')
  t.match(err.message, /407/)
  t.notMatch(err.message, 'wrong-password')
  t.equal(proxy.credentials.length, 1, 'not retried')
  t.equal(vendor.requests.length, 0)
})

t.test('HTTPS: a self-signed vendor certificate fails with tc_verify on, works with it off', async (t) => {
  const vendor = await startFakeVendor(t, { tls: TEST_TLS })
  vendor.route('GET', '/check', { json: { tls: true } })
  t.match(vendor.url, /^https:/)
  const strict = clientUnderTest(t, { baseUrl: vendor.url }, { tcVerify: true })
  const err = await failureOf(strict.client.request({ method: 'GET', path: 'check' }))
  t.equal(err.kind, 'network')
  t.match(err.message, /SELF_SIGNED|certificate/i)
  t.equal(vendor.requests.length, 0, 'a certificate error is not retried and nothing reached the vendor')

  const lax = clientUnderTest(t, { baseUrl: vendor.url }, { tcVerify: false })
  t.same((await lax.client.request({ method: 'GET', path: 'check' })).body, { tls: true })
})

t.test('HTTPS through the proxy (CONNECT tunnel), tc_verify off', async (t) => {
  const vendor = await startFakeVendor(t, { tls: TEST_TLS })
  vendor.route('GET', '/check', { json: { tunnelled: true } })
  const proxy = await startProxy(t)
  const { client } = clientUnderTest(
    t,
    { baseUrl: vendor.url },
    {
      tcProxyHost: '127.0.0.1',
      tcProxyPort: proxy.port,
      tcProxyExternal: true,
      tcVerify: false,
    },
  )
  t.same((await client.request({ method: 'GET', path: 'check' })).body, { tunnelled: true })
  t.same(proxy.seen, [`127.0.0.1:${vendor.port}`])
})

t.test('proxyUrlFor', async (t) => {
  const config = testConfig({ tcProxyHost: 'proxy.corp', tcProxyPort: 3128, tcProxyExternal: true })
  t.equal(proxyUrlFor(config, 'external')?.toString(), 'http://proxy.corp:3128/')
  t.equal(proxyUrlFor(config, 'tc'), undefined)
  t.equal(proxyUrlFor({ ...config, tcProxyHost: undefined }, 'external'), undefined, 'no host, no proxy')
  t.equal(
    proxyUrlFor(
      { ...config, tcProxyHost: 'https://proxy.corp', tcProxyUsername: 'a@b', tcProxyPassword: 'c:d' },
      'external',
    )?.toString(),
    'https://a%40b:c%3Ad@proxy.corp:3128/',
  )
})
