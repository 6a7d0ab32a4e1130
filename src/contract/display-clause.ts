/**
 * Layout `display` clauses: the SQL-WHERE subset real layout.json files use.
 *
 *   clause     := or
 *   or         := and ( OR and )*
 *   and        := primary ( AND primary )*
 *   primary    := '(' or ')' | membership
 *   membership := NAME [NOT] IN '(' STRING ( ',' STRING )* ')'
 *
 * Keywords are case-insensitive; strings are single-quoted with '' as the escaped quote. Anything else
 * (comparisons, functions, double quotes, numbers) is rejected: tcex runs clauses through SQLite, but the
 * platform UI only understands this subset, so a wider grammar would pass here and break there.
 */

export interface MembershipClause {
  readonly kind: 'membership'
  readonly input: string
  readonly negated: boolean
  readonly values: readonly string[]
}

interface CombinedClause {
  readonly kind: 'and' | 'or'
  readonly operands: readonly DisplayClause[]
}

export type DisplayClause = MembershipClause | CombinedClause

export type ParseDisplayClauseResult = { ok: true; clause: DisplayClause } | { ok: false; reason: string }

export type DisplayValue = string | readonly string[] | boolean | undefined

type Token =
  | { type: 'name'; text: string; pos: number }
  | { type: 'string'; text: string; pos: number }
  | { type: '(' | ')' | ','; pos: number }
  | { type: 'end'; pos: number }

const KEYWORDS = new Set(['in', 'not', 'and', 'or'])

/** Thrown inside the parser only; parseDisplayClause turns it into { ok: false }. */
class ClauseSyntaxError extends Error {}

/** Positions in reasons are 1-based character positions in the clause text. */
const at = (pos: number): string => `at position ${pos + 1}`

const describe = (token: Token): string => {
  switch (token.type) {
    case 'end':
      return 'end of clause'
    case 'name':
      return `'${token.text}'`
    case 'string':
      return `string '${token.text}'`
    default:
      return `'${token.type}'`
  }
}

const tokenize = (text: string): Token[] => {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    if (/\s/.test(ch)) {
      i++
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ type: ch, pos: i })
      i++
    } else if (ch === "'") {
      const start = i
      let value = ''
      i++
      for (;;) {
        if (i >= text.length) throw new ClauseSyntaxError(`unterminated string starting ${at(start)}`)
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'"
            i += 2
            continue
          }
          i++
          break
        }
        value += text[i]
        i++
      }
      tokens.push({ type: 'string', text: value, pos: start })
    } else if (/[A-Za-z_]/.test(ch)) {
      const start = i
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i] as string)) i++
      tokens.push({ type: 'name', text: text.slice(start, i), pos: start })
    } else {
      throw new ClauseSyntaxError(
        `unexpected character '${ch}' ${at(i)}: only in / not in lists joined by and / or are allowed`,
      )
    }
  }
  tokens.push({ type: 'end', pos: text.length })
  return tokens
}

const isKeyword = (token: Token, keyword: string): boolean =>
  token.type === 'name' && token.text.toLowerCase() === keyword

class Parser {
  private index = 0
  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(): DisplayClause {
    const clause = this.parseOr()
    const next = this.peek()
    if (next.type !== 'end') throw this.unexpected(next, "'and', 'or' or end of clause")
    return clause
  }

  private peek(): Token {
    return this.tokens[this.index] as Token
  }

  private take(): Token {
    const token = this.peek()
    if (token.type !== 'end') this.index++
    return token
  }

  private unexpected(token: Token, expected: string): ClauseSyntaxError {
    return new ClauseSyntaxError(`unexpected ${describe(token)} ${at(token.pos)}: expected ${expected}`)
  }

  private parseOr(): DisplayClause {
    const operands = [this.parseAnd()]
    while (isKeyword(this.peek(), 'or')) {
      this.take()
      operands.push(this.parseAnd())
    }
    return operands.length === 1 ? (operands[0] as DisplayClause) : { kind: 'or', operands }
  }

  private parseAnd(): DisplayClause {
    const operands = [this.parsePrimary()]
    while (isKeyword(this.peek(), 'and')) {
      this.take()
      operands.push(this.parsePrimary())
    }
    return operands.length === 1 ? (operands[0] as DisplayClause) : { kind: 'and', operands }
  }

  private parsePrimary(): DisplayClause {
    const token = this.take()
    if (token.type === '(') {
      const inner = this.parseOr()
      const close = this.take()
      if (close.type !== ')') {
        throw close.type === 'end'
          ? new ClauseSyntaxError(`unbalanced parenthesis: '(' ${at(token.pos)} is never closed`)
          : this.unexpected(close, "')', 'and' or 'or'")
      }
      return inner
    }
    if (token.type !== 'name' || KEYWORDS.has(token.text.toLowerCase()))
      throw this.unexpected(token, 'an input name or (')
    return this.parseMembership(token.text)
  }

  private parseMembership(input: string): MembershipClause {
    let negated = false
    if (isKeyword(this.peek(), 'not')) {
      this.take()
      negated = true
    }
    const keyword = this.take()
    if (!isKeyword(keyword, 'in')) throw this.unexpected(keyword, negated ? "'in'" : "'in' or 'not in'")
    const open = this.take()
    if (open.type !== '(') throw this.unexpected(open, "'(' starting the value list")
    const values: string[] = []
    for (;;) {
      const value = this.take()
      if (value.type !== 'string') throw this.unexpected(value, 'a single-quoted string')
      values.push(value.text)
      const separator = this.take()
      if (separator.type === ')') break
      if (separator.type !== ',') throw this.unexpected(separator, "',' or ')'")
    }
    return { kind: 'membership', input, negated, values }
  }
}

export const parseDisplayClause = (text: string): ParseDisplayClauseResult => {
  try {
    const tokens = tokenize(text)
    if (tokens.length === 1) return { ok: false, reason: 'empty clause' }
    const stray = findStrayCloser(tokens)
    if (stray !== undefined)
      return { ok: false, reason: `unbalanced parenthesis: ')' ${at(stray.pos)} has no matching '('` }
    return { ok: true, clause: new Parser(tokens).parseAll() }
  } catch (error) {
    if (error instanceof ClauseSyntaxError) return { ok: false, reason: error.message }
    throw error
  }
}

/** A ')' with no '(' before it reads better as "unbalanced" than as the parser's "unexpected ')'". */
const findStrayCloser = (tokens: readonly Token[]): Token | undefined => {
  let depth = 0
  for (const token of tokens) {
    if (token.type === '(') depth++
    if (token.type === ')' && --depth < 0) return token
  }
  return undefined
}

/** Every membership test in the clause, left to right. */
export const memberships = (clause: DisplayClause): MembershipClause[] =>
  clause.kind === 'membership' ? [clause] : clause.operands.flatMap(memberships)

/** Input names the clause reads, in first-use order, without repeats. */
export const referencedInputs = (clause: DisplayClause): string[] => [
  ...new Set(memberships(clause).map((m) => m.input)),
]

/**
 * An unset input (undefined, or an empty MultiChoice list) reads as the empty string, so the
 * `x not in ('')` idiom means "x has a value". A list matches `in` when any item is in the set.
 */
const asItems = (value: DisplayValue): readonly string[] => {
  if (value === undefined) return ['']
  if (typeof value === 'boolean') return [String(value)]
  if (typeof value === 'string') return [value]
  return value.length === 0 ? [''] : value
}

export const evaluateDisplayClause = (
  clause: DisplayClause,
  values: Readonly<Record<string, DisplayValue>>,
): boolean => {
  switch (clause.kind) {
    case 'and':
      return clause.operands.every((operand) => evaluateDisplayClause(operand, values))
    case 'or':
      return clause.operands.some((operand) => evaluateDisplayClause(operand, values))
    case 'membership': {
      const value = Object.hasOwn(values, clause.input) ? values[clause.input] : undefined
      const found = asItems(value).some((item) => clause.values.includes(item))
      return clause.negated ? !found : found
    }
  }
}
