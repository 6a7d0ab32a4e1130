/** Per-request ThreatConnect settings over env defaults. */
import t from 'tap'
import {
  normaliseApiPath,
  PLATFORM_ENV_SETTINGS,
  platformDefaultsFromEnv,
  resolvePlatformSettings,
} from '../../src/platform/settings.js'

t.test('env table lists the five settings and marks the secrets', async (t) => {
  t.same(
    PLATFORM_ENV_SETTINGS.map((s) => [s.env, s.param, s.secret]),
    [
      ['TC_API_PATH', 'tc_api_path', false],
      ['TC_API_ACCESS_ID', 'tc_api_access_id', false],
      ['TC_API_SECRET_KEY', 'tc_api_secret_key', true],
      ['TC_TOKEN', 'tc_token', true],
      ['TC_OWNER', 'owner', false],
    ],
  )
})

t.test('api path normalisation', async (t) => {
  t.equal(normaliseApiPath('https://x.threatconnect.com/api/'), 'https://x.threatconnect.com')
  t.equal(normaliseApiPath('https://x.threatconnect.com'), 'https://x.threatconnect.com')
  t.equal(normaliseApiPath('http://127.0.0.1:8090/tc/'), 'http://127.0.0.1:8090/tc')
  t.equal(normaliseApiPath('ftp://x'), undefined)
  t.equal(normaliseApiPath('not a url'), undefined)
  t.equal(normaliseApiPath('https://x/?a=1'), undefined)
})

const defaults = platformDefaultsFromEnv({
  TC_API_PATH: 'https://env.example/api',
  TC_API_ACCESS_ID: 'env-id',
  TC_API_SECRET_KEY: 'env-key',
  TC_TOKEN: '',
  TC_OWNER: 'Env Org',
})

t.test('env defaults apply when params are absent or empty', async (t) => {
  const s = resolvePlatformSettings({ owner: '', tc_api_path: '  ' }, defaults)
  t.same(s, {
    configured: true,
    apiPath: 'https://env.example',
    owner: 'Env Org',
    credentials: { kind: 'hmac', accessId: 'env-id', secretKey: 'env-key' },
  })
})

t.test('params override env defaults', async (t) => {
  const s = resolvePlatformSettings(
    { tc_api_path: 'http://127.0.0.1:1', tc_api_access_id: 'p-id', tc_api_secret_key: 'p-key', owner: 'Param Org' },
    defaults,
  )
  t.same(s, {
    configured: true,
    apiPath: 'http://127.0.0.1:1',
    owner: 'Param Org',
    credentials: { kind: 'hmac', accessId: 'p-id', secretKey: 'p-key' },
  })
})

t.test('HMAC wins over a token when both are configured', async (t) => {
  const s = resolvePlatformSettings({ tc_token: 'tok' }, defaults)
  t.ok(s.configured)
  if (s.configured) t.equal(s.credentials.kind, 'hmac')
})

t.test('token alone is enough', async (t) => {
  const s = resolvePlatformSettings({ tc_api_path: 'https://x', tc_token: 'tok' }, {})
  t.same(s, { configured: true, apiPath: 'https://x', owner: undefined, credentials: { kind: 'token', token: 'tok' } })
})

t.test('not configured: says what is missing', async (t) => {
  const noPath = resolvePlatformSettings({ tc_token: 'tok' }, {})
  t.equal(noPath.configured, false)
  if (!noPath.configured) t.match(noPath.reason, /TC_API_PATH/)

  const noCreds = resolvePlatformSettings({ tc_api_path: 'https://x' }, {})
  if (!noCreds.configured) t.match(noCreds.reason, /TC_API_ACCESS_ID.*TC_TOKEN/)
  else t.fail('should not be configured')

  const half = resolvePlatformSettings({ tc_api_path: 'https://x', tc_api_access_id: 'id' }, {})
  if (!half.configured) t.match(half.reason, /incomplete: TC_API_SECRET_KEY/)
  else t.fail('should not be configured')

  const badPath = resolvePlatformSettings({ tc_api_path: 'api.threatconnect.com', tc_token: 'x' }, {})
  if (!badPath.configured) t.match(badPath.reason, /not an http\(s\) URL/)
  else t.fail('should not be configured')
})
