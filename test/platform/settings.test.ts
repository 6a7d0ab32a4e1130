/** ThreatConnect settings: one set per profile, from the environment only. */
import t from 'tap'
import {
  normaliseApiPath,
  platformProfilesFromEnv,
  platformSettingsFor,
  resolvePlatformSettings,
} from '../../src/config/platform.js'

t.test('api path normalisation', async (t) => {
  t.equal(normaliseApiPath('https://x.threatconnect.com/api/'), 'https://x.threatconnect.com')
  t.equal(normaliseApiPath('https://x.threatconnect.com'), 'https://x.threatconnect.com')
  t.equal(normaliseApiPath('http://127.0.0.1:8090/tc/'), 'http://127.0.0.1:8090/tc')
  t.equal(normaliseApiPath('ftp://x'), undefined)
  t.equal(normaliseApiPath('not a url'), undefined)
  t.equal(normaliseApiPath('https://x/?a=1'), undefined)
  t.equal(normaliseApiPath('https://user:pw@x/'), undefined)
})

t.test('the default profile comes from TC_* as one set; empty values are unset', async (t) => {
  const { profiles, problems } = platformProfilesFromEnv({
    TC_API_PATH: 'https://env.example/api',
    TC_API_ACCESS_ID: 'env-id',
    TC_API_SECRET_KEY: 'env-key',
    TC_TOKEN: '',
    TC_OWNER: 'Env Org',
  })
  t.same(problems, [])
  t.same(profiles.default, {
    configured: true,
    apiPath: 'https://env.example',
    owner: 'Env Org',
    credentials: { kind: 'hmac', accessId: 'env-id', secretKey: 'env-key' },
  })
  t.equal(profiles.named.size, 0)
})

t.test('HMAC wins over a token; a token alone is enough', async (t) => {
  const both = resolvePlatformSettings({ apiPath: 'https://x', accessId: 'id', secretKey: 'k', token: 'tok' }).settings
  t.equal(both.configured && both.credentials.kind, 'hmac')
  const token = resolvePlatformSettings({ apiPath: 'https://x', token: 'tok' }).settings
  t.same(token, {
    configured: true,
    apiPath: 'https://x',
    owner: undefined,
    credentials: { kind: 'token', token: 'tok' },
  })
})

t.test('not configured says what is missing; a wrong value is a start-up problem', async (t) => {
  const noPath = resolvePlatformSettings({ token: 'tok' })
  t.match(!noPath.settings.configured && noPath.settings.reason, /set TC_API_PATH/)
  t.equal(noPath.problem, undefined, 'nothing set is not an error: write-back is simply skipped')
  const noCreds = resolvePlatformSettings({ apiPath: 'https://x' })
  t.match(!noCreds.settings.configured && noCreds.settings.reason, /TC_API_ACCESS_ID.*TC_TOKEN/)
  const half = resolvePlatformSettings({ apiPath: 'https://x', accessId: 'id' })
  t.match(half.problem, /incomplete: TC_API_SECRET_KEY/)
  const badPath = platformProfilesFromEnv({ TC_API_PATH: 'api.threatconnect.com', TC_TOKEN: 'x' })
  t.match(badPath.problems, [/^TC_API_PATH is not an http\(s\) URL/])
})

t.test('named profiles: each its own set; a request may only pick one by name', async (t) => {
  const { profiles, problems } = platformProfilesFromEnv({
    TC_API_PATH: 'https://main.example',
    TC_TOKEN: 'main-token',
    TC_PROFILES: 'eu, US',
    TC_PROFILE_EU_API_PATH: 'https://eu.example',
    TC_PROFILE_EU_TOKEN: 'eu-token',
    TC_PROFILE_US_API_PATH: 'https://us.example',
    TC_PROFILE_US_API_ACCESS_ID: 'us-id',
    TC_PROFILE_US_API_SECRET_KEY: 'us-key',
    TC_PROFILE_US_OWNER: 'US Org',
  })
  t.same(problems, [])
  t.same([...profiles.named.keys()], ['eu', 'us'])
  const eu = platformSettingsFor(profiles, 'eu', undefined)
  t.same(eu, {
    configured: true,
    apiPath: 'https://eu.example',
    owner: undefined,
    credentials: { kind: 'token', token: 'eu-token' },
  })
  t.equal(
    platformSettingsFor(profiles, 'us', 'Other Org')?.owner,
    'Other Org',
    'the owner param picks the owner, never the host',
  )
  t.equal(platformSettingsFor(profiles, 'us', undefined)?.owner, 'US Org')
  t.equal(platformSettingsFor(profiles, 'nope', undefined), undefined, 'an unknown name resolves to nothing')
  const main = platformSettingsFor(profiles, undefined, undefined)
  t.equal(main?.configured && main.apiPath, 'https://main.example')
})

t.test('a named profile that is missing or wrong stops start-up, naming its variables', async (t) => {
  const { problems } = platformProfilesFromEnv({
    TC_PROFILES: 'eu,bad name!,us',
    TC_PROFILE_US_API_PATH: 'nope',
    TC_PROFILE_US_TOKEN: 't',
  })
  t.match(problems, [
    /TC_PROFILES names 'eu': .*set TC_PROFILE_EU_API_PATH/,
    /TC_PROFILES: 'bad name!' is not a profile name/,
    /^TC_PROFILE_US_API_PATH is not an http\(s\) URL/,
  ])
  t.equal(problems.length, 3)
})
