import t from 'tap'
import { ConfigError, loadServiceConfig, settingRows } from '../../src/config/env.js'
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
    { PORT: '9000', LOG_LEVEL: 'debug', RUN_TOKEN: 'long-enough-token', VIRUSTOTAL_API_KEY: 'k', OTX_BASE_URL: 'http://127.0.0.1:1', TC_PROXY_EXTERNAL: 'true', TC_API_PATH: 'https://x.example' },
    SOURCE_DEFINITIONS,
  )
  t.equal(c.port, 9000)
  t.equal(c.logLevel, 'debug')
  t.equal(c.sources['virustotal']?.['apiKey'], 'k')
  t.equal(c.sources['otx']?.['baseUrl'], 'http://127.0.0.1:1')
  t.equal(c.tcProxyExternal, true)
  t.equal(c.platform.apiPath, 'https://x.example')
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
