import t from 'tap'
import { evaluateDisplayClause, parseDisplayClause, referencedInputs } from '../../src/contract/display-clause.js'
import type { DisplayClause, DisplayValue } from '../../src/contract/display-clause.js'

const parsed = (text: string): DisplayClause => {
  const result = parseDisplayClause(text)
  if (!result.ok) throw new Error(`expected "${text}" to parse: ${result.reason}`)
  return result.clause
}

t.test('parses the forms real layouts use', async (t) => {
  const good: Record<string, DisplayClause> = {
    "tc_action in ('Lookup')": { kind: 'membership', input: 'tc_action', negated: false, values: ['Lookup'] },
    "tc_action not in ('')": { kind: 'membership', input: 'tc_action', negated: true, values: [''] },
    "sources in ('virustotal','abuseipdb' , 'greynoise')": {
      kind: 'membership',
      input: 'sources',
      negated: false,
      values: ['virustotal', 'abuseipdb', 'greynoise'],
    },
    "TC_Action NOT IN ('a') AnD b In ('c')": {
      kind: 'and',
      operands: [
        { kind: 'membership', input: 'TC_Action', negated: true, values: ['a'] },
        { kind: 'membership', input: 'b', negated: false, values: ['c'] },
      ],
    },
    "name in ('it''s', '''', 'a b')": {
      kind: 'membership',
      input: 'name',
      negated: false,
      values: ["it's", "'", 'a b'],
    },
    "  ( ( a in ('1') ) )  ": { kind: 'membership', input: 'a', negated: false, values: ['1'] },
    "a in ('(or)', ',and')": { kind: 'membership', input: 'a', negated: false, values: ['(or)', ',and'] },
    // and binds tighter than or
    "a in ('1') or b in ('2') and c in ('3')": {
      kind: 'or',
      operands: [
        { kind: 'membership', input: 'a', negated: false, values: ['1'] },
        {
          kind: 'and',
          operands: [
            { kind: 'membership', input: 'b', negated: false, values: ['2'] },
            { kind: 'membership', input: 'c', negated: false, values: ['3'] },
          ],
        },
      ],
    },
    "(a in ('1') or b in ('2')) and c in ('3')": {
      kind: 'and',
      operands: [
        {
          kind: 'or',
          operands: [
            { kind: 'membership', input: 'a', negated: false, values: ['1'] },
            { kind: 'membership', input: 'b', negated: false, values: ['2'] },
          ],
        },
        { kind: 'membership', input: 'c', negated: false, values: ['3'] },
      ],
    },
    "a in ('1') or b in ('2') or c\tin\n('3')": {
      kind: 'or',
      operands: [
        { kind: 'membership', input: 'a', negated: false, values: ['1'] },
        { kind: 'membership', input: 'b', negated: false, values: ['2'] },
        { kind: 'membership', input: 'c', negated: false, values: ['3'] },
      ],
    },
  }
  for (const [text, clause] of Object.entries(good)) t.same(parseDisplayClause(text), { ok: true, clause }, text)
})

t.test('rejects anything else with a reason naming the position', async (t) => {
  const bad: Record<string, RegExp> = {
    "a = 'x'": /unexpected character '=' at position 3/,
    "a != 'x'": /unexpected character '!' at position 3/,
    "a like 'x'": /unexpected 'like' at position 3: expected 'in' or 'not in'/,
    "a in ('x') and b > 'y'": /unexpected character '>' at position 18/,
    "lower(a) in ('x')": /unexpected '\(' at position 6: expected 'in'/,
    "a in ('x'": /unexpected end of clause at position 10: expected ',' or '\)'/,
    "(a in ('x')": /unbalanced parenthesis: '\(' at position 1 is never closed/,
    "a in ('x'))": /unbalanced parenthesis: '\)' at position 11 has no matching '\('/,
    "a in ('x')) or (b in ('y')": /unbalanced parenthesis: '\)' at position 11/,
    'a in ()': /unexpected '\)' at position 7: expected a single-quoted string/,
    "a in ('x',)": /unexpected '\)' at position 11: expected a single-quoted string/,
    'a in ("x")': /unexpected character '"' at position 7/,
    'a in (1)': /unexpected character '1' at position 7/,
    "a in 'x'": /unexpected string 'x' at position 6: expected '\('/,
    "a in ('x') and": /unexpected end of clause at position 15: expected an input name/,
    "a in ('x') b in ('y')": /unexpected 'b' at position 12: expected 'and', 'or' or end of clause/,
    "not a in ('x')": /unexpected 'not' at position 1: expected an input name/,
    "a not ('x')": /unexpected '\(' at position 7: expected 'in'$/,
    "a in ('x)": /unterminated string starting at position 7/,
    "and in ('x')": /unexpected 'and' at position 1/,
    '': /empty clause/,
    '   ': /empty clause/,
    '()': /unexpected '\)' at position 2: expected an input name/,
  }
  for (const [text, reason] of Object.entries(bad)) {
    const result = parseDisplayClause(text)
    t.equal(result.ok, false, `"${text}" is rejected`)
    if (!result.ok) t.match(result.reason, reason, `"${text}": ${result.reason}`)
  }
})

t.test('referencedInputs lists each input once, in first-use order', async (t) => {
  t.same(referencedInputs(parsed("b in ('1') and (a not in ('') or b in ('2'))")), ['b', 'a'])
  t.same(referencedInputs(parsed("tc_action in ('x')")), ['tc_action'])
})

t.test('evaluateDisplayClause', async (t) => {
  const rows: [clause: string, values: Record<string, DisplayValue>, expected: boolean][] = [
    ["a in ('x')", { a: 'x' }, true],
    ["a in ('x')", { a: 'y' }, false],
    ["a in ('x', 'y')", { a: 'y' }, true],
    ["a in ('x')", { a: 'X' }, false], // values compare case-sensitively
    ["a not in ('x')", { a: 'y' }, true],
    ["a not in ('x')", { a: 'x' }, false],
    // the "always" idiom: true whenever the input has a value
    ["a not in ('')", { a: 'x' }, true],
    ["a not in ('')", { a: '' }, false],
    ["a not in ('')", {}, false],
    ["a in ('')", {}, true],
    // MultiChoice lists: in = any selected item in the set
    ["s in ('vt')", { s: ['asn', 'vt'] }, true],
    ["s in ('vt')", { s: ['asn', 'geo'] }, false],
    ["s not in ('vt')", { s: ['asn', 'vt'] }, false],
    ["s not in ('vt')", { s: ['asn'] }, true],
    ["s not in ('')", { s: [] }, false],
    ["s in ('')", { s: [] }, true],
    // booleans compare as 'true' / 'false'
    ["b in ('true')", { b: true }, true],
    ["b in ('true')", { b: false }, false],
    ["b in ('false')", { b: false }, true],
    ["b not in ('true')", { b: false }, true],
    // combinations
    ["a in ('x') and b in ('true')", { a: 'x', b: true }, true],
    ["a in ('x') and b in ('true')", { a: 'x', b: false }, false],
    ["a in ('x') or b in ('true')", { a: 'z', b: true }, true],
    ["a in ('x') or b in ('true')", { a: 'z', b: false }, false],
    ["a in ('1') or b in ('2') and c in ('3')", { a: '1', b: 'no', c: 'no' }, true],
    ["(a in ('1') or b in ('2')) and c in ('3')", { a: '1', b: 'no', c: 'no' }, false],
    // names of Object.prototype members are plain unset inputs
    ["constructor in ('')", {}, true],
    ["toString not in ('')", {}, false],
  ]
  for (const [text, values, expected] of rows) {
    t.equal(evaluateDisplayClause(parsed(text), values), expected, `${text} with ${JSON.stringify(values)}`)
  }
})
