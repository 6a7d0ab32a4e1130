/**
 * The small part of ThreatConnect Query Language the sandbox understands:
 * `<field> EQ|NE "<text>"|<number>` joined by AND, e.g. `typeName EQ "Address" AND summary EQ "8.8.8.8"`.
 * Anything else is refused so a client bug shows up as a 400 rather than as a silent full listing.
 */
import { summaryOf, VALUE_FIELDS, type SandboxIndicator } from './store.js'

type Operand = string | number
interface Clause {
  readonly field: string
  readonly op: 'EQ' | 'NE'
  readonly value: Operand
}

export type TqlResult = { ok: true; matches: (i: SandboxIndicator) => boolean } | { ok: false; problem: string }

const FIELDS: Readonly<Record<string, (i: SandboxIndicator) => Operand | undefined>> = {
  typename: (i) => i.type,
  summary: (i) => summaryOf(i),
  ownername: (i) => i.ownerName,
  id: (i) => i.id,
  rating: (i) => i.rating ?? 0,
  confidence: (i) => i.confidence ?? 0,
  // value1..3 are the type's value fields in order (a File's md5, sha1, sha256).
  value1: (i) => i.values[VALUE_FIELDS[i.type][0]],
  value2: (i) => (VALUE_FIELDS[i.type].length > 1 ? i.values[VALUE_FIELDS[i.type][1] as string] : undefined),
  value3: (i) => (VALUE_FIELDS[i.type].length > 2 ? i.values[VALUE_FIELDS[i.type][2] as string] : undefined),
}

/** Splits into identifiers, operators, quoted strings (with backslash escapes) and numbers. */
const tokenize = (tql: string): Array<{ kind: 'word' | 'string' | 'number'; text: string }> | string => {
  const tokens: Array<{ kind: 'word' | 'string' | 'number'; text: string }> = []
  let i = 0
  while (i < tql.length) {
    const c = tql[i] as string
    if (/\s/.test(c)) {
      i++
    } else if (c === '"') {
      let text = ''
      i++
      while (i < tql.length && tql[i] !== '"') {
        if (tql[i] === '\\' && i + 1 < tql.length) i++
        text += tql[i]
        i++
      }
      if (i >= tql.length) return 'unterminated string'
      i++
      tokens.push({ kind: 'string', text })
    } else if (/[0-9]/.test(c)) {
      const m = /^\d+/.exec(tql.slice(i)) as RegExpExecArray
      tokens.push({ kind: 'number', text: m[0] })
      i += m[0].length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(tql.slice(i)) as RegExpExecArray
      tokens.push({ kind: 'word', text: m[0] })
      i += m[0].length
    } else {
      return `unexpected character '${c}' at ${i}`
    }
  }
  return tokens
}

export const parseTql = (tql: string): TqlResult => {
  const tokens = tokenize(tql)
  if (typeof tokens === 'string') return { ok: false, problem: `Invalid TQL: ${tokens}` }
  const clauses: Clause[] = []
  let i = 0
  for (;;) {
    const [field, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]]
    if (field?.kind !== 'word' || FIELDS[field.text.toLowerCase()] === undefined) {
      return { ok: false, problem: `Invalid TQL: unknown or missing field '${field?.text ?? ''}'` }
    }
    const opName = op?.text.toUpperCase()
    if (op?.kind !== 'word' || (opName !== 'EQ' && opName !== 'NE')) {
      return { ok: false, problem: `Invalid TQL: unsupported operator '${op?.text ?? ''}' (the sandbox knows EQ and NE)` }
    }
    if (value === undefined || value.kind === 'word') return { ok: false, problem: `Invalid TQL: missing value after ${field.text} ${opName}` }
    clauses.push({ field: field.text.toLowerCase(), op: opName, value: value.kind === 'number' ? Number(value.text) : value.text })
    i += 3
    if (i === tokens.length) break
    if (tokens[i]?.kind !== 'word' || tokens[i]?.text.toUpperCase() !== 'AND') {
      return { ok: false, problem: `Invalid TQL: expected AND, found '${tokens[i]?.text ?? ''}'` }
    }
    i++
  }
  const equal = (a: Operand | undefined, b: Operand): boolean =>
    a !== undefined && (typeof a === 'number' || typeof b === 'number' ? Number(a) === Number(b) : a.toLowerCase() === b.toLowerCase())
  return {
    ok: true,
    matches: (ind) =>
      clauses.every((c) => {
        const eq = equal((FIELDS[c.field] as (i: SandboxIndicator) => Operand | undefined)(ind), c.value)
        return c.op === 'EQ' ? eq : !eq
      }),
  }
}
