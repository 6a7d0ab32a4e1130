import t from 'tap'
import { findVariableReferences, stringsIn } from '../../scripts/templates/variables.js'

t.test('playbook and org variables in running text, in order', async (t) => {
  const text =
    'Host #Trigger:101:trg.action.item!String is ${ORGANIZATION:KEYCHAIN:my key} #App:11:enrich.results.tags!StringArray.'
  t.same(findVariableReferences(text), [
    {
      kind: 'playbook',
      text: '#Trigger:101:trg.action.item!String',
      provider: 'Trigger',
      id: 101,
      name: 'trg.action.item',
      type: 'String',
    },
    { kind: 'org', text: '${ORGANIZATION:KEYCHAIN:my key}', type: 'KEYCHAIN', name: 'my key' },
    {
      kind: 'playbook',
      text: '#App:11:enrich.results.tags!StringArray',
      provider: 'App',
      id: 11,
      name: 'enrich.results.tags',
      type: 'StringArray',
    },
  ])
})

t.test('names keep dots, dashes and brackets; the type ends at the first non-letter', async (t) => {
  const [ref] = findVariableReferences('"#App:7:a-b.c[0]!String"')
  t.match(ref, { kind: 'playbook', name: 'a-b.c[0]', type: 'String' })
  t.match(findVariableReferences('#Global:0:gbl.timestamp.epoch!String/run')[0], { provider: 'Global', type: 'String' })
})

t.test('something that starts like a variable but is not one is reported, not skipped', async (t) => {
  t.same(findVariableReferences('x #App:12:enrich.results.verdict y'), [
    { kind: 'malformed', text: '#App:12:enrich.results.verdict' },
  ])
  t.same(findVariableReferences('#App:twelve:x!String'), [{ kind: 'malformed', text: '#App:twelve:x!String' }])
  t.same(findVariableReferences('#PB:1:x!String'), [{ kind: 'malformed', text: '#PB:1:x!String' }])
  t.same(findVariableReferences('#hashtag and ${TEXT}'), [], 'a plain # is no variable')
  t.same(
    findVariableReferences('url &{TC:TEXT:enrich_service_url}/run'),
    [{ kind: 'malformed', text: '&{TC:TEXT:enrich_service_url}' }],
    'the runtime form is never in an export',
  )
})

t.test('stringsIn walks objects and arrays', async (t) => {
  t.same(stringsIn({ a: 'x', b: [1, 'y', { c: 'z' }], d: null }), ['x', 'y', 'z'])
})
