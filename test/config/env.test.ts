import t from 'tap'
import { ConfigError, loadServiceConfig, runAuthWarning, settingRows } from '../../src/config/env.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'

t.test('defaults: no environment at all gives a working configuration', async (t) => {
  const c = loadServiceConfig({}, SOURCE_DEFINITIONS)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.port, 8080)
  t.equal(c.runToken, undefined)
  t.equal(c.tcVerify, true)
  t.equal(c.sources['virustotal']?.['baseUrl'], 'https://www.virustotal.com/api/v3')
  t.equal(c.sources['virustotal']?.['apiKey'], undefined)
})

t.test('values are read and per-source settings land under their source', async (t) => {
  const c = loadServiceConfig(
    {
      PORT: '9000',
      LOG_LEVEL: 'debug',
      RUN_TOKEN: 'long-enough-token',
      VIRUSTOTAL_API_KEY: 'k',
      OTX_BASE_URL: 'http://127.0.0.1:1',
      TC_PROXY_EXTERNAL: 'true',
      TC_API_PATH: 'https://x.example',
      TC_TOKEN: 'tc-token',
    },
    SOURCE_DEFINITIONS,
  )
  t.equal(c.port, 9000)
  t.equal(c.logLevel, 'debug')
  t.equal(c.sources['virustotal']?.['apiKey'], 'k')
  t.equal(c.sources['otx']?.['baseUrl'], 'http://127.0.0.1:1')
  t.equal(c.tcProxyExternal, true)
  t.equal(c.platform.default.configured && c.platform.default.apiPath, 'https://x.example')
})

t.test('bad values stop start-up with every bad variable named', async (t) => {
  const err = t.throws(() =>
    loadServiceConfig(
      { PORT: 'eighty', LOG_LEVEL: 'loud', RUN_TOKEN: 'short', TC_VERIFY: 'maybe' },
      SOURCE_DEFINITIONS,
    ),
  )
  t.ok(err instanceof ConfigError)
  const problems = (err as ConfigError).problems
  t.match(problems, [
    /^PORT: 'eighty' must be integer/,
    /^LOG_LEVEL: 'loud' is not one of fatal, error/,
    /^RUN_TOKEN: must not have fewer than 8 characters$/,
    /^TC_VERIFY: 'maybe' must be boolean/,
  ])
})

t.test(
  'each value is checked against its setting schema: ranges, rate limits, and a secret never repeated',
  async (t) => {
    const err = t.throws(() =>
      loadServiceConfig(
        { PORT: '70000', RUN_RATE_LIMIT: '0/1m', MAX_INDICATORS: '1.5', TC_PROXY_PASSWORD: '', RUN_TOKEN: 'sh0rt!' },
        SOURCE_DEFINITIONS,
      ),
    )
    const problems = (err as ConfigError).problems
    t.match(problems, [
      /^PORT: '70000' must be <= 65535/,
      /^RUN_TOKEN: /,
      /^MAX_INDICATORS: '1.5' must be integer/,
      /^RUN_RATE_LIMIT: '0\/1m' must allow at least 1 call/,
    ])
    t.notMatch(problems.join('\n'), /sh0rt!/, 'the secret value is not in the problem')
    const c = loadServiceConfig({ RUN_RATE_LIMIT: 'off', TC_VERIFY: '0', PORT: '0' }, SOURCE_DEFINITIONS)
    t.equal(c.runRateLimit, undefined)
    t.equal(c.tcVerify, false)
    t.equal(c.port, 0)
    t.same(loadServiceConfig({ RUN_RATE_LIMIT: '20/1s' }, SOURCE_DEFINITIONS).runRateLimit, {
      requests: 20,
      perMs: 1000,
    })
  },
)

t.test('the settings table lists every variable once, secrets marked', async (t) => {
  const rows = settingRows(SOURCE_DEFINITIONS)
  const names = rows.map((r) => r.env)
  t.equal(new Set(names).size, names.length, 'no variable twice')
  for (const name of [
    'HOST',
    'PORT',
    'LOG_LEVEL',
    'RUN_TOKEN',
    'WATCHLIST_PATH',
    'VIRUSTOTAL_API_KEY',
    'VIRUSTOTAL_BASE_URL',
    'TC_API_PATH',
    'TC_API_SECRET_KEY',
  ]) {
    t.ok(names.includes(name), name)
  }
  for (const r of rows.filter((r) => /KEY|TOKEN|PASSWORD/.test(r.env) && !/ACCESS_ID/.test(r.env)))
    t.ok(r.secret, `${r.env} is secret`)
})

t.test('off loopback, /run needs RUN_TOKEN unless RUN_AUTH=off says otherwise explicitly', async (t) => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10', 'enrich.results.internal']) {
    const err = t.throws(() => loadServiceConfig({ HOST: host }, SOURCE_DEFINITIONS), `${host} without a token`)
    t.match((err as ConfigError).problems, [
      /^RUN_TOKEN: required when HOST \(.*\) is not a loopback address; set RUN_TOKEN, or RUN_AUTH=off/,
    ])
  }
  for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]']) {
    t.equal(
      runAuthWarning(loadServiceConfig({ HOST: host }, SOURCE_DEFINITIONS)),
      undefined,
      `${host} is loopback: no token needed, no warning`,
    )
  }
  const withToken = loadServiceConfig({ HOST: '0.0.0.0', RUN_TOKEN: 'long-enough-token' }, SOURCE_DEFINITIONS)
  t.equal(runAuthWarning(withToken), undefined)
  const open = loadServiceConfig({ HOST: '0.0.0.0', RUN_AUTH: 'off' }, SOURCE_DEFINITIONS)
  t.equal(open.runAuth, 'off')
  t.match(runAuthWarning(open), /RUN_AUTH=off: POST \/run accepts calls without a token on 0\.0\.0\.0/)
  const both = t.throws(() =>
    loadServiceConfig({ RUN_AUTH: 'off', RUN_TOKEN: 'long-enough-token' }, SOURCE_DEFINITIONS),
  )
  t.match((both as ConfigError).problems, [/^RUN_AUTH: off contradicts RUN_TOKEN/])
  const bad = t.throws(() => loadServiceConfig({ RUN_AUTH: 'maybe' }, SOURCE_DEFINITIONS))
  t.match((bad as ConfigError).problems, [/^RUN_AUTH: 'maybe' is not one of on, off/])
})

t.test(
  'shared-state settings: REDIS_URL (secret, redis:// only), REPLICAS, TRUST_PROXY addresses and CIDRs',
  async (t) => {
    const c = loadServiceConfig(
      { REDIS_URL: 'redis://:pw-123@127.0.0.1:6379/0', REPLICAS: '3', TRUST_PROXY: '10.0.0.0/8, 192.0.2.7,::1' },
      SOURCE_DEFINITIONS,
    )
    t.equal(c.redisUrl, 'redis://:pw-123@127.0.0.1:6379/0')
    t.equal(c.redisPrefix, 'tce:')
    t.equal(c.replicas, 3)
    t.same(c.trustProxy, ['10.0.0.0/8', '192.0.2.7', '::1'])
    t.equal(loadServiceConfig({}, SOURCE_DEFINITIONS).redisUrl, undefined, 'unset: everything in process')
    const err = t.throws(() =>
      loadServiceConfig(
        { REDIS_URL: 'http://user:hunter2@host', TRUST_PROXY: '10.0.0.0/8, lb.internal', REPLICAS: '0' },
        SOURCE_DEFINITIONS,
      ),
    )
    const problems = (err as ConfigError).problems
    t.match(problems, [
      /^REDIS_URL: must match/,
      /^REPLICAS: '0' must be >= 1/,
      /^TRUST_PROXY: 'lb.internal' is not an IP address or CIDR/,
    ])
    t.notMatch(problems.join('\n'), /hunter2/, 'the URL (it may carry a password) is not repeated')
  },
)
