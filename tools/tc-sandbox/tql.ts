/**
 * The small part of ThreatConnect Query Language the sandbox understands:
 * `<field> EQ|NE|GT|GEQ|LT|LEQ "<text>"|<number>` joined by AND / OR, with parentheses, e.g.
 * `typeName EQ "Address" AND (rating GEQ 3 OR lastModified GT "2026-01-01T00:00:00Z")`.
 * Anything else is refused so a client bug shows up as a 400 rather than as a silent full listing.
 */
import { summaryOf, VALUE_FIELDS, type SandboxIndicator } from './store.js'

type Operand = string | number
type Op = 'EQ' | 'NE' | 'GT' | 'GEQ' | 'LT' | 'LEQ'

export type TqlResult = { ok: true; matches: (i: SandboxIndicator) => boolean } | { ok: false; problem: string }

const FIELDS: Readonly<Record<string, (i: SandboxIndicator) => Operand | undefined>> = {
  typename: (i) => i.type,
  summary: (i) => summaryOf(i),
  ownername: (i) => i.ownerName,
  id: (i) => i.id,
  rating: (i) => i.rating ?? 0,
  confidence: (i) => i.confidence ?? 0,
  lastmodified: (i) => i.lastModified,
  dateadded: (i) => i.dateAdded,
  // value1..3 are the type's value fields in order (a File's md5, sha1, sha256).
  value1: (i) => i.values[VALUE_FIELDS[i.type][0]],
  value2: (i) => (VALUE_FIELDS[i.type].length > 1 ? i.values[VALUE_FIELDS[i.type][1] as string] : undefined),
  value3: (i) => (VALUE_FIELDS[i.type].length > 2 ? i.values[VALUE_FIELDS[i.type][2] as string] : undefined),
}
const DATE_FIELDS = new Set(['lastmodified', 'dateadded'])
const OPERATORS: Readonly<Record<string, Op>> = {
  EQ: 'EQ',
  '=': 'EQ',
  NE: 'NE',
  '!=': 'NE',
  GT: 'GT',
  '>': 'GT',
  GEQ: 'GEQ',
  '>=': 'GEQ',
  LT: 'LT',
  '<': 'LT',
  LEQ: 'LEQ',
  '<=': 'LEQ',
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
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: 'word', text: c })
      i++
    } else if (/[<>=!]/.test(c)) {
      const m = /^(>=|<=|!=|=|>|<)/.exec(tql.slice(i))
      if (m === null) return `unexpected character '${c}' at ${i}`
      tokens.push({ kind: 'word', text: m[0] })
      i += m[0].length
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

type Matcher = (i: SandboxIndicator) => boolean
type Token = { kind: 'word' | 'string' | 'number'; text: string }

const compare = (field: string, a: Operand | undefined, op: Op, b: Operand): boolean => {
  if (a === undefined) return op === 'NE'
  let diff: number
  if (DATE_FIELDS.has(field)) diff = Date.parse(String(a)) - Date.parse(String(b))
  else if (typeof a === 'number' || typeof b === 'number') diff = Number(a) - Number(b)
  else diff = a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0
  switch (op) {
    case 'EQ':
      return diff === 0
    case 'NE':
      return diff !== 0
    case 'GT':
      return diff > 0
    case 'GEQ':
      return diff >= 0
    case 'LT':
      return diff < 0
    case 'LEQ':
      return diff <= 0
  }
}

/** expression := term (OR term)*; term := factor (AND factor)*; factor := '(' expression ')' | field op value */
export const parseTql = (tql: string): TqlResult => {
  const tokens = tokenize(tql)
  if (typeof tokens === 'string') return { ok: false, problem: `Invalid TQL: ${tokens}` }
  let i = 0
  const peek = (): Token | undefined => tokens[i]
  const isWord = (t: Token | undefined, w: string): boolean => t?.kind === 'word' && t.text.toUpperCase() === w
  const factor = (): Matcher | string => {
    if (isWord(peek(), '(')) {
      i++
      const inner = expression()
      if (typeof inner === 'string') return inner
      if (!isWord(peek(), ')')) return `expected ')', found '${peek()?.text ?? 'the end'}'`
      i++
      return inner
    }
    const [field, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]]
    const name = field?.text.toLowerCase() ?? ''
    const read = FIELDS[name]
    if (field?.kind !== 'word' || read === undefined) return `unknown or missing field '${field?.text ?? ''}'`
    const opName = op?.kind === 'word' ? OPERATORS[op.text.toUpperCase()] : undefined
    if (opName === undefined)
      return `unsupported operator '${op?.text ?? ''}' (the sandbox knows EQ, NE, GT, GEQ, LT, LEQ)`
    if (value === undefined || value.kind === 'word') return `missing value after ${field.text} ${opName}`
    if (DATE_FIELDS.has(name) && Number.isNaN(Date.parse(value.text)))
      return `'${value.text}' is not a date for ${field.text}`
    i += 3
    const operand: Operand = value.kind === 'number' ? Number(value.text) : value.text
    return (ind) => compare(name, read(ind), opName, operand)
  }
  /** `part (word part)*`: AND joins factors into a term, OR joins terms into an expression. */
  const chain = (part: () => Matcher | string, word: 'AND' | 'OR'): Matcher | string => {
    const parts: Matcher[] = []
    for (;;) {
      const p = part()
      if (typeof p === 'string') return p
      parts.push(p)
      if (!isWord(peek(), word)) break
      i++
    }
    return word === 'AND' ? (ind) => parts.every((p) => p(ind)) : (ind) => parts.some((p) => p(ind))
  }
  const term = (): Matcher | string => chain(factor, 'AND')
  const expression = (): Matcher | string => chain(term, 'OR')
  const matcher = expression()
  if (typeof matcher === 'string') return { ok: false, problem: `Invalid TQL: ${matcher}` }
  if (i !== tokens.length)
    return { ok: false, problem: `Invalid TQL: expected AND or OR, found '${tokens[i]?.text ?? ''}'` }
  return { ok: true, matches: matcher }
}
