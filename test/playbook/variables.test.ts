import t from 'tap'
import { indexOutputs } from '../../src/contract/outputs.js'
import type { AppConfig, OutputVariable } from '../../src/contract/types.js'
import type { Outputs } from '../../src/enrich/outputs.js'
import {
  encodeValue,
  encodeVariables,
  parseOutVariables,
  parseVariable,
  resolveRequestedVariables,
  selectVariables,
  type PlaybookVariable,
} from '../../src/playbook/variables.js'

const configWith = (outputVariables: OutputVariable[]): AppConfig => ({
  programLanguage: 'NODE',
  programMain: 'main',
  programVersion: '1.0.0',
  runtimeLevel: 'Playbook',
  displayName: 'Test',
  appId: 'test',
  listDelimiter: '|',
  features: [],
  params: [],
  playbook: { type: 'Enrichment', outputVariables },
})

// enrich.verdict is declared twice (String and StringArray), enrich.tags only as StringArray.
const INDEX = indexOutputs(
  configWith([
    { name: 'enrich.verdict', type: 'String' },
    { name: 'enrich.verdict', type: 'StringArray' },
    { name: 'enrich.tags', type: 'StringArray' },
    { name: 'enrich.score', type: 'String' },
    { name: 'enrich.note', type: 'String' },
  ]),
)

const parsed = (raw: string): PlaybookVariable => {
  const r = parseVariable(raw)
  if (!r.ok) throw new Error(r.reason)
  return r.variable
}

t.test('parseVariable', async (t) => {
  const good: [string, Omit<PlaybookVariable, 'raw'>][] = [
    ['#App:9876:enrich.verdict!String', { kind: 'App', jobId: '9876', name: 'enrich.verdict', type: 'String' }],
    ['#App:1:enrich.tags!StringArray', { kind: 'App', jobId: '1', name: 'enrich.tags', type: 'StringArray' }],
    ['#Trigger:42:trg.action.entity!TCEntity', { kind: 'Trigger', jobId: '42', name: 'trg.action.entity', type: 'TCEntity' }],
    ['#App:7:a-b_c.d[0]!KeyValueArray', { kind: 'App', jobId: '7', name: 'a-b_c.d[0]', type: 'KeyValueArray' }],
    ['#App:7:x!my_custom-Type', { kind: 'App', jobId: '7', name: 'x', type: 'my_custom-Type' }],
  ]
  for (const [raw, expected] of good) {
    t.strictSame(parseVariable(raw), { ok: true, variable: { raw, ...expected } }, raw)
  }
  t.strictSame(parseVariable('  #App:1:enrich.verdict!String \n'), {
    ok: true,
    variable: { raw: '#App:1:enrich.verdict!String', kind: 'App', jobId: '1', name: 'enrich.verdict', type: 'String' },
  }, 'surrounding whitespace is trimmed, also from raw')

  const bad = [
    '',
    'enrich.verdict',
    'App:1:enrich.verdict!String', // no #
    '#App:x1:enrich.verdict!String', // job id not digits
    '#App::enrich.verdict!String',
    '#App:1:enrich.verdict', // no type
    '#App:1:enrich.verdict!', // empty type
    '#App:1:enrich verdict!String', // space in name
    '#App:1:enrich/verdict!String', // '/' not a name char
    '#App:1:!String', // empty name
    '#App:1:enrich.verdict!String!String',
    '#1:1:x!String',
    '#App:1:x!String,#App:1:y!String', // two variables are not one
  ]
  for (const raw of bad) {
    const r = parseVariable(raw)
    t.equal(r.ok, false, `rejects ${JSON.stringify(raw)}`)
    if (!r.ok) t.match(r.reason, /is not a playbook variable \(expected #App:<jobId>:<name>!<Type>\)/)
  }
})

t.test('parseOutVariables', async (t) => {
  const csv = parseOutVariables(' #App:9:enrich.verdict!String , #App:9:enrich.tags!StringArray,#App:9:enrich.verdict!StringArray ')
  t.ok(csv.ok)
  if (csv.ok) {
    t.strictSame(
      csv.variables.map((v) => v.raw),
      ['#App:9:enrich.verdict!String', '#App:9:enrich.tags!StringArray', '#App:9:enrich.verdict!StringArray'],
      'CSV: split on commas, trimmed, order kept',
    )
  }

  const arr = parseOutVariables(['#App:9:enrich.verdict!String', ' #App:9:enrich.tags!StringArray,#App:9:enrich.score!String'])
  t.ok(arr.ok)
  if (arr.ok) t.strictSame(arr.variables.map((v) => v.name), ['enrich.verdict', 'enrich.tags', 'enrich.score'], 'array items may be CSV too')

  const repeats = parseOutVariables('#App:9:enrich.verdict!String,,#App:9:enrich.verdict!String,')
  t.ok(repeats.ok)
  if (repeats.ok) t.strictSame(repeats.variables.map((v) => v.raw), ['#App:9:enrich.verdict!String'], 'empty items skipped, repeats dropped')

  t.strictSame(parseOutVariables(''), { ok: true, variables: [] }, 'empty string: nothing requested')
  t.strictSame(parseOutVariables([]), { ok: true, variables: [] }, 'empty array: nothing requested')

  const broken = parseOutVariables('#App:9:enrich.verdict!String, enrich.tags ,#App:9:enrich.score!String')
  t.equal(broken.ok, false)
  if (!broken.ok) {
    t.equal(broken.text, 'enrich.tags', 'names the malformed item')
    t.match(broken.reason, '"enrich.tags" is not a playbook variable')
  }
})

t.test('resolveRequestedVariables', async (t) => {
  const ok = resolveRequestedVariables(
    [parsed('#App:9:enrich.verdict!String'), parsed('#App:9:enrich.verdict!StringArray'), parsed('#App:9:enrich.tags!StringArray')],
    INDEX,
  )
  t.ok(ok.ok, 'one name declared with two types: both are resolvable')
  if (ok.ok) t.strictSame(ok.variables.map((v) => `${v.name}!${v.type}`), ['enrich.verdict!String', 'enrich.verdict!StringArray', 'enrich.tags!StringArray'])

  t.strictSame(resolveRequestedVariables([], INDEX), { ok: true, variables: [] })

  const undeclaredName = resolveRequestedVariables([parsed('#App:9:enrich.verdict!String'), parsed('#App:9:enrich.nope!String')], INDEX)
  t.equal(undeclaredName.ok, false)
  if (!undeclaredName.ok) {
    t.strictSame(undeclaredName.undeclared, ['#App:9:enrich.nope!String'])
    t.match(undeclaredName.reason, '#App:9:enrich.nope!String: this app has no output named enrich.nope')
  }

  const wrongType = resolveRequestedVariables([parsed('#App:9:enrich.tags!String'), parsed('#App:9:enrich.verdict!KeyValue')], INDEX)
  t.equal(wrongType.ok, false)
  if (!wrongType.ok) {
    t.strictSame(wrongType.undeclared, ['#App:9:enrich.tags!String', '#App:9:enrich.verdict!KeyValue'], 'every undeclared one, in order')
    t.match(wrongType.reason, 'output enrich.tags is declared as StringArray, not String')
    t.match(wrongType.reason, 'output enrich.verdict is declared as String and StringArray, not KeyValue')
  }

  const custom = resolveRequestedVariables([parsed('#App:9:enrich.verdict!MyType')], INDEX)
  t.equal(custom.ok, false, 'a custom type is never declared by our contract')
})

t.test('encodeValue', async (t) => {
  const table: [Parameters<typeof encodeValue>[0], unknown, string | null, string][] = [
    ['String', 'benign', '"benign"', 'string'],
    ['String', 'say "hi"\n', '"say \\"hi\\"\\n"', 'string with quotes and newline'],
    ['String', '', '""', 'empty string is a value'],
    ['String', 42, '"42"', 'number becomes a string'],
    ['String', true, '"true"', 'boolean becomes a string'],
    ['String', null, null, 'null: not written'],
    ['String', undefined, null, 'undefined: not written'],
    ['StringArray', ['a', 'b'], '["a","b"]', 'array of strings'],
    ['StringArray', ['a', null, 'c'], '["a",null,"c"]', 'null items kept'],
    ['StringArray', [1, false], '["1","false"]', 'items become strings'],
    ['StringArray', [], '[]', 'empty array is a value'],
    ['StringArray', null, null, 'null array: not written'],
    ['KeyValue', { key: 'k', value: 'v' }, '{"key":"k","value":"v"}', 'key value'],
    ['KeyValue', { value: 'v', key: 'k', extra: 1 }, '{"key":"k","value":"v"}', 'fixed member order, extras dropped'],
    ['KeyValueArray', [{ key: 'a', value: '1' }, null, { key: 'b', value: ['x'] }], '[{"key":"a","value":"1"},null,{"key":"b","value":["x"]}]', 'key value array'],
    ['TCEntity', { id: '7', type: 'Address', value: '1.2.3.4' }, '{"id":"7","type":"Address","value":"1.2.3.4"}', 'entity'],
    [
      'TCEntity',
      { value: 'evil.example', type: 'Host', id: 7, rating: 3, confidence: 80 },
      '{"id":7,"type":"Host","value":"evil.example","confidence":80,"rating":3}',
      'entity with confidence and rating, fixed order',
    ],
    ['TCEntityArray', [{ id: '1', type: 'Host', value: 'a.example' }], '[{"id":"1","type":"Host","value":"a.example"}]', 'entity array'],
    ['Binary', Buffer.from([0, 1, 2, 255]), '"AAEC/w=="', 'bytes -> base64 string'],
    ['Binary', 'hello', '"aGVsbG8="', 'text -> base64 of its UTF-8'],
    ['BinaryArray', [Buffer.from('a'), null], '["YQ==",null]', 'binary array'],
  ]
  for (const [type, value, expected, name] of table) t.equal(encodeValue(type, value), expected, `${type}: ${name}`)

  t.throws(() => encodeValue('String', ['a']), /cannot encode an array as String/, 'an array is not a String')
  t.throws(() => encodeValue('StringArray', 'a'), /cannot encode string as StringArray: expected an array/)
  t.throws(() => encodeValue('StringArray', [{}]), /as StringArray/)
  t.throws(() => encodeValue('KeyValue', { value: 'v' }), /key must be a string/)
  t.throws(() => encodeValue('TCEntity', { id: '1', type: 'Host' }), /type and value must be strings/)
})

t.test('selectVariables: exactly the requested ones, matched by name and type', async (t) => {
  const scalar: Outputs = { 'enrich.verdict': 'malicious', 'enrich.tags': ['botnet', 'scanner'], 'enrich.score': '87' }
  const requested = [
    parsed('#App:9:enrich.verdict!String'),
    parsed('#App:9:enrich.verdict!StringArray'),
    parsed('#App:9:enrich.tags!StringArray'),
    parsed('#App:9:enrich.note!String'), // declared, but no value in this reply
  ]
  t.strictSame(selectVariables(requested, scalar), {
    '#App:9:enrich.verdict!String': 'malicious',
    '#App:9:enrich.verdict!StringArray': null,
    '#App:9:enrich.tags!StringArray': ['botnet', 'scanner'],
    '#App:9:enrich.note!String': null,
  })
  t.notOk('enrich.score' in selectVariables(requested, scalar), 'unrequested outputs are left out')
  t.strictSame(Object.keys(selectVariables(requested, scalar)), requested.map((v) => v.raw), 'keyed by the full variable')

  // An array of indicators: per-indicator outputs come as aligned arrays (with nulls), so only !StringArray has a value.
  const batch: Outputs = { 'enrich.verdict': ['malicious', null, 'benign'] }
  t.strictSame(selectVariables(requested.slice(0, 2), batch), {
    '#App:9:enrich.verdict!String': null,
    '#App:9:enrich.verdict!StringArray': ['malicious', null, 'benign'],
  })

  t.strictSame(selectVariables([parsed('#App:9:enrich.verdict!KeyValue')], scalar), { '#App:9:enrich.verdict!KeyValue': null }, 'the reply carries no KeyValue')
  t.strictSame(selectVariables([], scalar), {})
})

t.test('encodeVariables: what the key-value store gets', async (t) => {
  const outputs: Outputs = { 'enrich.verdict': 'benign', 'enrich.tags': ['a', null] }
  const encoded = encodeVariables(
    [parsed('#App:9:enrich.verdict!String'), parsed('#App:9:enrich.tags!StringArray'), parsed('#App:9:enrich.note!String')],
    outputs,
  )
  t.strictSame(encoded, {
    '#App:9:enrich.verdict!String': '"benign"',
    '#App:9:enrich.tags!StringArray': '["a",null]',
    '#App:9:enrich.note!String': null,
  })
  for (const [raw, text] of Object.entries(encoded)) {
    const v = parsed(raw)
    t.strictSame(text === null ? null : JSON.parse(text), selectVariables([v], outputs)[raw], `${raw}: store and reply agree`)
  }
})
