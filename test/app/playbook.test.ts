import t from 'tap'
import { createClient } from 'redis'
import { freePort, startRedis } from '../helpers/redis-server.js'
import { startApp } from '../helpers/app.js'

interface RunReply {
  exitCode: number
  exitMessage: string
  outputs: Record<string, unknown>
  variables?: Record<string, unknown>
}

const VARS = '#App:9876:enrich.verdict!String, #App:9876:enrich.tags!StringArray,#App:9876:enrich.asn.org!String,#App:9876:enrich.urlhaus.status!String'

t.test('tc_playbook_out_variables: exactly the requested variables, keyed by the full variable', async (t) => {
  const { app } = await startApp(t)
  const res = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', tc_playbook_out_variables: VARS } })
  t.equal(res.statusCode, 200)
  const reply = res.json<RunReply>()
  t.same(reply.variables, {
    '#App:9876:enrich.verdict!String': 'benign',
    '#App:9876:enrich.tags!StringArray': ['dns', 'resolver'],
    '#App:9876:enrich.asn.org!String': 'Google LLC',
    '#App:9876:enrich.urlhaus.status!String': null,
  })
  const none = (await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8' } })).json<RunReply>()
  t.notOk('variables' in none, 'no variables object unless asked')
})

t.test('an undeclared or malformed variable is a 400 naming it', async (t) => {
  const { app } = await startApp(t)
  const undeclared = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', tc_playbook_out_variables: '#App:1:enrich.verdict!String,#App:1:enrich.nope!String' } })
  t.equal(undeclared.statusCode, 400)
  const e = undeclared.json<{ error: { code: string; field: string; message: string } }>().error
  t.equal(e.code, 'UNKNOWN_VARIABLE')
  t.equal(e.field, 'tc_playbook_out_variables')
  t.match(e.message, /#App:1:enrich\.nope!String/)
  const wrongType = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', tc_playbook_out_variables: ['#App:1:enrich.tags!String'] } })
  t.equal(wrongType.json<{ error: { code: string } }>().error.code, 'UNKNOWN_VARIABLE')
  const malformed = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', tc_playbook_out_variables: 'enrich.verdict' } })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json<{ error: { field: string } }>().error.field, 'tc_playbook_out_variables')
})

t.test('the KV store gets the same values with HSET, like a native app; nulls are not written', async (t) => {
  const redis = await startRedis(t)
  const { app } = await startApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: {
      indicator: ['8.8.8.8', 'evil.example'],
      tc_playbook_out_variables: '#App:7:enrich.verdict!StringArray,#App:7:enrich.verdict!String,#App:7:enrich.urlhaus.status!StringArray',
      tc_playbook_kvstore_context: 'ctx-123',
      tc_kvstore_host: redis.host,
      tc_kvstore_port: String(redis.port),
    },
  })
  const reply = res.json<RunReply>()
  t.equal(reply.exitCode, 0, reply.exitMessage)
  const client = createClient({ socket: { host: redis.host, port: redis.port } })
  await client.connect()
  t.teardown(() => client.close())
  const stored = await client.hGetAll('ctx-123')
  t.same(stored, { '#App:7:enrich.verdict!StringArray': '["benign","malicious"]' }, 'the String one has no value for an array run; nulls not written')
  t.same(reply.variables?.['#App:7:enrich.verdict!StringArray'], ['benign', 'malicious'])
})

t.test('a KV store that is down fails the run clearly, without hanging, and keeps the outputs', async (t) => {
  const { app } = await startApp(t)
  const port = await freePort()
  const started = Date.now()
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: '8.8.8.8', tc_playbook_out_variables: '#App:7:enrich.verdict!String', tc_playbook_kvstore_context: 'c', tc_kvstore_host: '127.0.0.1', tc_kvstore_port: port },
  })
  const reply = res.json<RunReply>()
  t.equal(res.statusCode, 200)
  t.equal(reply.exitCode, 1)
  t.match(reply.exitMessage, /KV store.*unreachable: ECONNREFUSED/)
  t.equal(reply.outputs['enrich.verdict'], 'benign')
  t.ok(Date.now() - started < 20_000, 'answered well before any hang')
})

t.test('TCEntity inputs: the entity type sets the indicator type', async (t) => {
  const { app } = await startApp(t)
  const one = (await app.inject({ method: 'POST', url: '/run', payload: { indicator: { id: 12, type: 'Host', value: 'Evil[.]Example' } } })).json<RunReply>()
  t.equal(one.outputs['enrich.indicator'], 'evil.example')
  t.equal(one.outputs['enrich.indicator_type'], 'Host')
  const many = (
    await app.inject({ method: 'POST', url: '/run', payload: { indicator: [{ id: 1, type: 'Address', value: '8.8.8.8' }, '1.1.1.1', { type: 'File', value: '44D88612FEA8A8F36DE82E1278ABB02F' }] } })
  ).json<RunReply>()
  t.same(many.outputs['enrich.indicator_type'], ['Address', 'Address', 'File'])
  t.same(many.outputs['enrich.verdict'], ['benign', 'benign', 'malicious'])
  const mismatch = await app.inject({ method: 'POST', url: '/run', payload: { indicator: { type: 'Address', value: 'evil.example' } } })
  t.equal(mismatch.statusCode, 400)
  t.match(mismatch.json<{ error: { message: string } }>().error.message, /is not a valid Address/)
  const badType = await app.inject({ method: 'POST', url: '/run', payload: { indicator: [{ type: 'Mutex', value: 'x' }] } })
  t.equal(badType.statusCode, 400)
  t.equal(badType.json<{ error: { field: string } }>().error.field, 'indicator[0]')
})
