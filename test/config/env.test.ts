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
    { PORT: '9000', LOG_LEVEL: 'debug', RUN_TOKEN: 'long-enough-token', VIRUSTOTAL_API_KEY: 'k', OTX_BASE_URL: 'http://127.0.0.1:1', TC_PROXY_EXTERNAL: 'true', TC_API_PATH: 'https://x.example', TC_TOKEN: 'tc-token' },
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
  const err = t.throws(() => loadServiceConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', RUN_TOKEN: 'short', TC_VERIFY: 'maybe' }, SOURCE_DEFINITIONS))
  t.ok(err instanceof ConfigError)
  const problems = (err as ConfigError).problems
  t.match(problems, [/^PORT: 'eighty' is not a whole number/, /^LOG_LEVEL: 'loud' is not one of/, /^RUN_TOKEN: must be at least 8 characters/, /^TC_VERIFY: 'maybe' is not true or false/])
})

t.test('the settings table lists every variable once, secrets marked', async (t) => {
  const rows = settingRows(SOURCE_DEFINITIONS)
  const names = rows.map((r) => r.env)
  t.equal(new Set(names).size, names.length, 'no variable twice')
  for (const name of ['HOST', 'PORT', 'LOG_LEVEL', 'RUN_TOKEN', 'WATCHLIST_PATH', 'VIRUSTOTAL_API_KEY', 'VIRUSTOTAL_BASE_URL', 'TC_API_PATH', 'TC_API_SECRET_KEY']) {
    t.ok(names.includes(name), name)
  }
  for (const r of rows.filter((r) => /KEY|TOKEN|PASSWORD/.test(r.env) && !/ACCESS_ID/.test(r.env))) t.ok(r.secret, `${r.env} is secret`)
})

t.test('off loopback, /run needs RUN_TOKEN unless RUN_AUTH=off says otherwise explicitly', async (t) => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10', 'enrich.results.internal']) {
    const err = t.throws(() => loadServiceConfig({ HOST: host }, SOURCE_DEFINITIONS), `${host} without a token`)
    t.match((err as ConfigError).problems, [/^RUN_TOKEN: required when HOST \(.*\) is not a loopback address; set RUN_TOKEN, or RUN_AUTH=off/])
  }
  for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]']) {
    t.equal(runAuthWarning(loadServiceConfig({ HOST: host }, SOURCE_DEFINITIONS)), undefined, `${host} is loopback: no token needed, no warning`)
  }
  const withToken = loadServiceConfig({ HOST: '0.0.0.0', RUN_TOKEN: 'long-enough-token' }, SOURCE_DEFINITIONS)
  t.equal(runAuthWarning(withToken), undefined)
  const open = loadServiceConfig({ HOST: '0.0.0.0', RUN_AUTH: 'off' }, SOURCE_DEFINITIONS)
  t.equal(open.runAuth, 'off')
  t.match(runAuthWarning(open), /RUN_AUTH=off: POST \/run accepts calls without a token on 0\.0\.0\.0/)
  const both = t.throws(() => loadServiceConfig({ RUN_AUTH: 'off', RUN_TOKEN: 'long-enough-token' }, SOURCE_DEFINITIONS))
  t.match((both as ConfigError).problems, [/^RUN_AUTH: off contradicts RUN_TOKEN/])
  const bad = t.throws(() => loadServiceConfig({ RUN_AUTH: 'maybe' }, SOURCE_DEFINITIONS))
  t.match((bad as ConfigError).problems, [/^RUN_AUTH: 'maybe' is not on or off/])
})
