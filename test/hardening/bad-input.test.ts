/**
 * Whatever arrives at /run (random text, random JSON, wrong types, huge arrays, deep nesting, odd content
 * types) the answer is a 200 or a 4xx with the app's error body: never a 5xx, never a crash.
 * Limits (docs/performance.md): BODY_LIMIT bytes per body, MAX_INDICATORS per array, MAX_INDICATOR_LENGTH characters.
 */
import t from 'tap'
import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { ERRORS, httpStatusOf, type ErrorCode } from '../../src/errors.js'
import { startApp } from '../helpers/app.js'

type App = Awaited<ReturnType<typeof startApp>>['app']

const PARAMS = [
  'indicator',
  'indicator_type',
  'sources',
  'write_note',
  'force_refresh',
  'create_indicator',
  'owner',
  'virustotal_api_key',
]

/** Checks one reply against the contract; returns a problem description, or undefined when it holds. */
const problemWith = (res: {
  statusCode: number
  body: string
  headers: Record<string, unknown>
}): string | undefined => {
  if (res.statusCode >= 500) return `status ${res.statusCode}: ${res.body.slice(0, 300)}`
  let body: unknown
  try {
    body = JSON.parse(res.body)
  } catch {
    return `status ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`
  }
  if (res.statusCode === 200) {
    const ok = typeof body === 'object' && body !== null && 'outputs' in body && 'exitCode' in body
    return ok ? undefined : `200 without outputs: ${res.body.slice(0, 200)}`
  }
  const error = (body as { error?: Record<string, unknown> }).error
  if (typeof error !== 'object' || error === null)
    return `status ${res.statusCode} without an error object: ${res.body.slice(0, 200)}`
  const { code, message, field } = error
  if (typeof code !== 'string' || !(code in ERRORS)) return `unknown error code ${String(code)}`
  if (typeof message !== 'string' || message === '') return 'error without a message'
  if (typeof field !== 'string') return 'error without a field'
  if (httpStatusOf(code as ErrorCode) !== res.statusCode) return `code ${code} sent with status ${res.statusCode}`
  if (!String(res.headers['content-type']).startsWith('application/json'))
    return `content type ${String(res.headers['content-type'])}`
  return undefined
}

const send = async (app: App, opts: InjectOptions): Promise<string | undefined> => {
  const res = await app.inject({ method: 'POST', url: '/run', ...opts })
  return problemWith(res)
}

const json = (payload: unknown): InjectOptions => ({
  payload: JSON.stringify(payload),
  headers: { 'content-type': 'application/json' },
})

const nested = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown => {
  let v = leaf
  for (let i = 0; i < depth; i++) v = wrap(v)
  return v
}

/** Deep nesting as text (cheaper than building it and safe from our own JSON.stringify's recursion). */
const deepArrayText = (depth: number): string => `${'['.repeat(depth)}"8.8.8.8"${']'.repeat(depth)}`
const deepObjectText = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

t.test('property: random text bodies', async (t) => {
  const { app } = await startApp(t, { RUN_RATE_LIMIT: 'off' })
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/octet-stream',
        'application/json; charset=latin1',
        '',
      ),
      async (text, type) => {
        const problem = await send(app, { payload: text, headers: type === '' ? {} : { 'content-type': type } })
        if (problem) throw new Error(problem)
      },
    ),
    { numRuns: 300 },
  )
  t.pass('no random text broke /run')
})

t.test('property: random JSON documents as the body', async (t) => {
  const { app } = await startApp(t, { RUN_RATE_LIMIT: 'off' })
  await fc.assert(
    fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (doc) => {
      const problem = await send(app, json(doc))
      if (problem) throw new Error(problem)
    }),
    { numRuns: 300 },
  )
  t.pass('no random JSON broke /run')
})

t.test('property: the real params with random values of any type', async (t) => {
  const { app } = await startApp(t, { RUN_RATE_LIMIT: 'off' })
  const indicatorLike = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.ipV4(),
    fc.ipV6(),
    fc.domain(),
    fc.webUrl(),
    fc.emailAddress(),
    fc.constantFrom(
      '8.8.8.8',
      'hxxp://bad[.]example/x',
      'AS15169',
      '10.0.0.0/8',
      'd41d8cd98f00b204e9800998ecf8427e',
      '',
      ' ',
      '\u0000',
      '1.2.3',
      '::ffff:1.2.3.4',
    ),
  )
  const anyValue = fc.oneof(indicatorLike, fc.jsonValue({ maxDepth: 4 }), fc.array(indicatorLike, { maxLength: 20 }))
  const body = fc.dictionary(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 12 })), anyValue, {
    maxKeys: 6,
  })
  const withIndicator = fc.tuple(body, anyValue).map(([b, indicator]) => ({ ...b, indicator }))
  await fc.assert(
    fc.asyncProperty(fc.oneof(body, withIndicator), async (doc) => {
      const problem = await send(app, json(doc))
      if (problem) throw new Error(problem)
    }),
    { numRuns: 400 },
  )
  t.pass('no combination of param values broke /run')
})

t.test('deep nesting, everywhere a value can go', async (t) => {
  const { app } = await startApp(t, { RUN_RATE_LIMIT: 'off' })
  for (const depth of [100, 5_000, 100_000]) {
    const arr = deepArrayText(depth)
    const obj = deepObjectText(depth)
    const cases: [string, string][] = [
      ['body', arr],
      ['body object', obj],
      ['indicator', `{"indicator":${arr}}`],
      ['indicator object', `{"indicator":${obj}}`],
      ['indicator_type', `{"indicator":"8.8.8.8","indicator_type":${arr}}`],
      ['sources', `{"indicator":"8.8.8.8","sources":${arr}}`],
      ['write_note', `{"indicator":"8.8.8.8","write_note":${obj}}`],
      ['unknown param', `{"indicator":"8.8.8.8","zzz":${arr}}`],
      ['entity extra field', `{"indicator":{"type":"Address","value":"8.8.8.8","extra":${obj}}}`],
      ['array item', `{"indicator":["8.8.8.8",${arr}]}`],
    ]
    for (const [where, payload] of cases) {
      const problem = await send(app, { payload, headers: { 'content-type': 'application/json' } })
      t.equal(problem, undefined, `depth ${depth} in ${where}`)
    }
  }
  const built = nested(50, '8.8.8.8', (inner) => ({ value: inner, type: 'Address' }))
  t.equal(await send(app, json({ indicator: built })), undefined, 'entity inside entity')
})

t.test('the limits: each answered with a clear 4xx naming the field', async (t) => {
  const { app } = await startApp(t, {
    RUN_RATE_LIMIT: 'off',
    MAX_INDICATORS: '100',
    MAX_INDICATOR_LENGTH: '64',
    BODY_LIMIT: '65536',
  })
  const tooMany = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`) },
  })
  t.equal(tooMany.statusCode, 400)
  t.match(tooMany.json(), { error: { code: 'INVALID_PARAM', field: 'indicator', message: /101 items; at most 100/ } })

  const atLimit = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: Array.from({ length: 100 }, (_, i) => `10.0.${i}.1`) },
  })
  t.equal(atLimit.statusCode, 200, 'exactly MAX_INDICATORS is fine')

  const tooLong = await app.inject({ method: 'POST', url: '/run', payload: { indicator: `${'a'.repeat(70)}.example` } })
  t.equal(tooLong.statusCode, 400)
  t.match(tooLong.json(), { error: { code: 'INVALID_PARAM', field: 'indicator', message: /at most 64/ } })

  const longItem = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: ['8.8.8.8', 'b'.repeat(65)] },
  })
  t.match(longItem.json(), { error: { code: 'INVALID_PARAM', field: 'indicator[1]' } })

  const huge = await app.inject({
    method: 'POST',
    url: '/run',
    ...json({ indicator: Array.from({ length: 20_000 }, () => '203.0.113.1') }),
  })
  t.equal(huge.statusCode, 413)
  t.match(huge.json(), { error: { code: 'PAYLOAD_TOO_LARGE', field: '', message: /65536 bytes/ } })

  t.equal(
    await send(app, json({ indicator: Array.from({ length: 5_000 }, () => []) })),
    undefined,
    'many nested empties',
  )
})

t.test('defaults: the documented limits hold', async (t) => {
  const { app } = await startApp(t, { RUN_RATE_LIMIT: 'off' })
  const big = await app.inject({
    method: 'POST',
    url: '/run',
    ...json({ indicator: Array.from({ length: 10_001 }, (_, i) => `10.${i >> 8}.${i & 255}.1`) }),
  })
  t.equal(big.statusCode, 400, '10,001 indicators in a 1 MB body: over MAX_INDICATORS')
  t.match(big.json(), { error: { code: 'INVALID_PARAM', message: /at most 10000/ } })
  const long = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: `http://example.com/${'p'.repeat(8200)}` },
  })
  t.match(long.json(), { error: { code: 'INVALID_PARAM', message: /at most 8192/ } })
  const overBody = await app.inject({
    method: 'POST',
    url: '/run',
    payload: JSON.stringify({ indicator: 'x'.repeat(1_100_000) }),
    headers: { 'content-type': 'application/json' },
  })
  t.equal(overBody.statusCode, 413)
})
