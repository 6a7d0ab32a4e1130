import t from 'tap'
import { readFileSync } from 'node:fs'
import { flattenOutputs, indexOutputs } from '../../src/contract/outputs.js'
import type { AppConfig } from '../../src/contract/types.js'
import { findingsDigest, renderNote } from '../../src/enrich/note.js'
import { buildOutputs } from '../../src/enrich/outputs.js'
import type { IndicatorResult } from '../../src/enrich/types.js'
import { assess } from '../../src/enrich/verdict.js'
import type { Indicator } from '../../src/indicators/types.js'
import { finding, ok, skipped } from '../helpers/findings.js'

const config = JSON.parse(readFileSync(new URL('../../app.config.json', import.meta.url), 'utf8')) as AppConfig
const index = indexOutputs(config)
const sourceOutputs = new Map([
  ['asn', ['number', 'org', 'country', 'network']],
  ['watchlist', ['match', 'entry', 'comment']],
])
const declared = new Set(config.playbook.outputVariables.map((o) => `${o.name}!${o.type}`))

const result = (indicator: Indicator, outcomes: IndicatorResult['outcomes']): IndicatorResult => {
  const assessment = assess(outcomes)
  const digest = findingsDigest(indicator, assessment, outcomes)
  const note = renderNote(indicator, assessment, outcomes, digest, { appName: 'x', appVersion: '1', at: new Date(0) })
  return { indicator, outcomes, assessment, digest, note }
}

const ip = result({ input: '8.8.8.8', value: '8.8.8.8', type: 'Address' }, [
  ok(
    'asn',
    finding('unknown', { facts: { number: '15169', org: 'Google LLC', country: 'US', network: '8.8.8.0-8.8.8.255' } }),
  ),
  ok(
    'watchlist',
    finding('benign', {
      score: 0,
      confidence: 80,
      tags: ['dns'],
      facts: { match: true, entry: '8.8.8.8', comment: 'Google DNS' },
    }),
  ),
])
const host = result({ input: 'evil.example', value: 'evil.example', type: 'Host' }, [
  skipped('asn'),
  ok(
    'watchlist',
    finding('malicious', {
      score: 90,
      tags: ['phishing', 'c2'],
      facts: { match: true, entry: 'evil.example', comment: null },
    }),
  ),
])

const typeOf = (v: unknown): string => (typeof v === 'string' ? 'String' : 'StringArray')
const names = new Set(config.playbook.outputVariables.map((o) => o.name))

t.test('one indicator: scalar outputs are Strings, lists StringArrays, all declared', async (t) => {
  const out = flattenOutputs(buildOutputs([ip], false, index, sourceOutputs))
  t.equal(out['enrich.results.verdict'], 'benign')
  t.equal(out['enrich.results.score'], '0')
  t.equal(out['enrich.results.confidence'], '80')
  t.same(out['enrich.results.tags'], ['dns'])
  t.same(out['enrich.results.sources.ok'], ['asn', 'watchlist'])
  t.same(out['enrich.results.sources.failed'], [])
  t.equal(out['enrich.results.asn.number'], '15169')
  t.equal(out['enrich.results.watchlist.match'], 'true', 'booleans become "true"/"false" strings')
  const results = JSON.parse(String(out['enrich.results.json']))
  t.equal(results.indicator.input, '8.8.8.8')
  t.equal(results.sources[0].finding.facts.org, 'Google LLC')
  for (const [name, value] of Object.entries(out))
    t.ok(declared.has(`${name}!${typeOf(value)}`), `${name} is declared as ${typeOf(value)}`)
})

t.test('a value that does not exist is left out, not sent as null', async (t) => {
  const out = flattenOutputs(buildOutputs([host], false, index, sourceOutputs))
  t.notOk('enrich.results.asn.number' in out, 'asn was skipped: no asn outputs')
  t.notOk('enrich.results.watchlist.comment' in out, 'null fact is left out')
  t.same(out['enrich.results.sources.skipped'], ['asn: does not support Host indicators (supports Address, CIDR)'])
})

t.test('an array of indicators: every output is an array aligned with the input order', async (t) => {
  const out = flattenOutputs(buildOutputs([ip, host], true, index, sourceOutputs))
  t.same(out['enrich.results.indicator'], ['8.8.8.8', 'evil.example'])
  t.same(out['enrich.results.verdict'], ['benign', 'malicious'])
  t.same(out['enrich.results.asn.number'], ['15169', null], 'missing values are null, keeping alignment')
  t.same(out['enrich.results.tags'], ['dns', 'phishing|c2'], 'lists are joined by the listDelimiter per indicator')
  t.same(out['enrich.results.sources.ok'], ['asn|watchlist', 'watchlist'])
  for (const [name, value] of Object.entries(out))
    t.ok(names.has(name) && Array.isArray(value) && value.length === 2, `${name} is declared and aligned`)
})
