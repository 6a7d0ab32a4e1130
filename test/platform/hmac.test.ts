/** HMAC signing against a fixed vector, token headers, and which one wins. */
import t from 'tap'
import { createHmac } from 'node:crypto'
import { authHeaders, signRequest, stringToSign, tokenHeaders } from '../../src/platform/hmac.js'

const ACCESS_ID = '12345678901234567890'
const SECRET_KEY = 'tc-sandbox-secret'
const TIMESTAMP = 1513703787
const PATH = '/api/v3/indicators?tql=summary%20EQ%20%228.8.8.8%22'
// Computed once with node:crypto when this test was written; a change to the algorithm must break this.
const FIXED_SIGNATURE = 'eu3iojjIkPXa1Q9C0wUl9CC5RbstLyRW/BYRBLqF2yk='

t.test('string to sign is <path with encoded query>:<METHOD>:<unix seconds>', async (t) => {
  t.equal(stringToSign(PATH, 'get', TIMESTAMP), '/api/v3/indicators?tql=summary%20EQ%20%228.8.8.8%22:GET:1513703787')
})

t.test('signRequest matches an independent HMAC-SHA256 and the fixed vector', async (t) => {
  const headers = signRequest({
    accessId: ACCESS_ID,
    secretKey: SECRET_KEY,
    pathWithQuery: PATH,
    method: 'GET',
    timestamp: TIMESTAMP,
  })
  const independent = createHmac('sha256', SECRET_KEY).update(`${PATH}:GET:${TIMESTAMP}`).digest('base64')
  t.equal(headers.Authorization, `TC ${ACCESS_ID}:${independent}`)
  t.equal(headers.Authorization, `TC ${ACCESS_ID}:${FIXED_SIGNATURE}`)
  t.equal(headers.Timestamp, '1513703787')
})

t.test('every input changes the signature', async (t) => {
  const base = { accessId: ACCESS_ID, secretKey: SECRET_KEY, pathWithQuery: PATH, method: 'GET', timestamp: TIMESTAMP }
  const sig = (o: Partial<typeof base>) => signRequest({ ...base, ...o }).Authorization
  const reference = sig({})
  t.not(sig({ method: 'POST' }), reference)
  t.not(sig({ timestamp: TIMESTAMP + 1 }), reference)
  t.not(
    sig({ pathWithQuery: '/api/v3/indicators?tql=summary+EQ+%228.8.8.8%22' }),
    reference,
    'the encoding of the query is signed',
  )
  t.not(sig({ secretKey: 'other' }), reference)
})

t.test('token header', async (t) => {
  t.same(tokenHeaders('abc.def'), { Authorization: 'TC-Token abc.def' })
})

t.test('authHeaders: seconds from a ms clock for HMAC, token otherwise', async (t) => {
  const hmac = authHeaders(
    { kind: 'hmac', accessId: ACCESS_ID, secretKey: SECRET_KEY },
    PATH,
    'GET',
    TIMESTAMP * 1000 + 999,
  )
  t.same(hmac, { Authorization: `TC ${ACCESS_ID}:${FIXED_SIGNATURE}`, Timestamp: String(TIMESTAMP) })
  t.same(authHeaders({ kind: 'token', token: 'tok' }, PATH, 'GET', 0), { Authorization: 'TC-Token tok' })
})
