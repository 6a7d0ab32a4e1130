import t from 'tap'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { DEFAULT_KVSTORE_HOST, DEFAULT_KVSTORE_PORT, PLAYBOOK_RUNTIME_FIELDS, kvStoreTargetOf } from '../../src/playbook/runtime-fields.js'

// As the lead uses it: the runtime fields next to the params in one closed object.
const BODY = Type.Object({ indicator: Type.String(), ...PLAYBOOK_RUNTIME_FIELDS }, { additionalProperties: false })
const valid = (extra: Record<string, unknown>): boolean => Value.Check(BODY, { indicator: '1.2.3.4', ...extra })

t.test('the fields and their descriptions', async (t) => {
  t.strictSame(Object.keys(PLAYBOOK_RUNTIME_FIELDS).sort(), [
    'tc_kvstore_host',
    'tc_kvstore_port',
    'tc_playbook_kvstore_context',
    'tc_playbook_out_variables',
  ])
  for (const [name, schema] of Object.entries(PLAYBOOK_RUNTIME_FIELDS)) {
    t.type((schema as { description?: unknown }).description, 'string', `${name} has a description`)
  }
  t.ok(valid({}), 'all optional')
})

t.test('tc_playbook_out_variables: a CSV string or an array of strings', async (t) => {
  t.ok(valid({ tc_playbook_out_variables: '#App:1:enrich.verdict!String,#App:1:enrich.tags!StringArray' }))
  t.ok(valid({ tc_playbook_out_variables: ['#App:1:enrich.verdict!String'] }))
  t.notOk(valid({ tc_playbook_out_variables: 5 }))
  t.notOk(valid({ tc_playbook_out_variables: [5] }))
  t.notOk(valid({ tc_playbook_out_variables: { a: 1 } }))
})

t.test('key-value store fields', async (t) => {
  t.ok(valid({ tc_playbook_kvstore_context: 'ctx-1', tc_kvstore_host: 'redis.local', tc_kvstore_port: 6379 }))
  t.notOk(valid({ tc_playbook_kvstore_context: '' }), 'empty context')
  t.notOk(valid({ tc_playbook_kvstore_context: 7 }))
  t.notOk(valid({ tc_kvstore_host: '' }), 'empty host')
  for (const port of [1, 6379, 65535, '1', '6379', '65535', '65529', '9999']) t.ok(valid({ tc_kvstore_port: port }), `port ${JSON.stringify(port)}`)
  for (const port of [0, 65536, -1, 63.5, '0', '65536', '70000', '06379', '', 'abc', '6379 ', '1e3']) {
    t.notOk(valid({ tc_kvstore_port: port }), `not a port: ${JSON.stringify(port)}`)
  }
})

t.test('kvStoreTargetOf', async (t) => {
  t.equal(kvStoreTargetOf({}), null, 'no context: nothing to write')
  t.equal(kvStoreTargetOf({ tc_kvstore_host: 'h', tc_kvstore_port: 1 }), null, 'host and port alone are not enough')
  t.strictSame(kvStoreTargetOf({ tc_playbook_kvstore_context: 'ctx' }), { host: DEFAULT_KVSTORE_HOST, port: DEFAULT_KVSTORE_PORT, context: 'ctx' })
  t.strictSame(kvStoreTargetOf({ tc_playbook_kvstore_context: 'ctx', tc_kvstore_host: '10.0.0.5', tc_kvstore_port: '6390' }), {
    host: '10.0.0.5',
    port: 6390,
    context: 'ctx',
  }, 'a port given as text becomes a number')
  t.equal(DEFAULT_KVSTORE_PORT, 6379)
})
