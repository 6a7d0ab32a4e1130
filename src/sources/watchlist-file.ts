/**
 * Reading the user's watchlist file (CSV or JSON) into validated, normalised entries. Every bad entry is reported
 * with its line (CSV) or array index (JSON); nothing is dropped silently, because a watchlist that quietly loses
 * rows gives quietly wrong verdicts.
 */
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { parse as parseCsv } from 'csv-parse/sync'
import { quote } from '../indicators/check.js'
import { normaliseIndicator } from '../indicators/normalise.js'
import { INDICATOR_TYPES, type Indicator, type RequestedType } from '../indicators/types.js'
import { VERDICTS, type Verdict } from './types.js'

/** One watchlist row after validation and normalisation. */
export interface WatchlistEntry {
  /** Canonical indicator; for a wildcard entry the domain under the "*.". */
  readonly indicator: Indicator
  /** Written "*.example.com": matches hosts below example.com (not example.com itself). */
  readonly wildcard: boolean
  /** The entry as the file means it, in canonical form: "*.phish.example", "http://bad.example/login". */
  readonly entry: string
  readonly verdict: Verdict
  /** 0-100, or null when the file gives none. */
  readonly confidence: number | null
  readonly tags: readonly string[]
  readonly comment: string | null
  /** Where in the file: "line 4" or "index 3". */
  readonly where: string
}

const WATCHLIST_COLUMNS = ['indicator', 'type', 'verdict', 'confidence', 'tags', 'comment'] as const
type Column = (typeof WATCHLIST_COLUMNS)[number]
const REQUIRED_COLUMNS: readonly Column[] = ['indicator', 'verdict']

/** Most problems listed in one error; the rest are counted. */
const MAX_LISTED_PROBLEMS = 20

/** The fields of one row as read, before validation. */
interface RawEntry {
  readonly indicator: unknown
  readonly type: unknown
  readonly verdict: unknown
  readonly confidence: unknown
  readonly tags: unknown
  readonly comment: unknown
}

type Checked<T> = { ok: true; value: T } | { ok: false; problem: string }

const isBlank = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '')

const typeNamed = (v: unknown): Checked<RequestedType> => {
  if (isBlank(v)) return { ok: true, value: 'Auto' }
  if (typeof v !== 'string') return { ok: false, problem: 'type must be text' }
  const wanted = v.trim().toLowerCase()
  if (wanted === 'auto') return { ok: true, value: 'Auto' }
  const found = INDICATOR_TYPES.find((name) => name.toLowerCase() === wanted)
  return found === undefined
    ? { ok: false, problem: `type ${quote(v)} is not one of ${INDICATOR_TYPES.join(', ')} (or empty to detect it)` }
    : { ok: true, value: found }
}

const verdictOf = (v: unknown): Checked<Verdict> => {
  const text = typeof v === 'string' ? v.trim().toLowerCase() : undefined
  const found = VERDICTS.find((verdict) => verdict === text)
  if (found !== undefined) return { ok: true, value: found }
  if (isBlank(v)) return { ok: false, problem: `verdict is missing (one of ${VERDICTS.join(', ')})` }
  const shown = typeof v === 'string' ? quote(v) : JSON.stringify(v)
  return { ok: false, problem: `verdict ${shown} is not one of ${VERDICTS.join(', ')}` }
}

const confidenceOf = (v: unknown): Checked<number | null> => {
  if (isBlank(v)) return { ok: true, value: null }
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN
  return Number.isInteger(n) && n >= 0 && n <= 100
    ? { ok: true, value: n }
    : {
        ok: false,
        problem: `confidence ${typeof v === 'string' ? quote(v) : JSON.stringify(v)} is not a whole number 0-100`,
      }
}

/** CSV: "a|b"; JSON: ["a", "b"]. Blank tags are dropped, repeats kept once. */
const tagsOf = (v: unknown): Checked<string[]> => {
  if (isBlank(v)) return { ok: true, value: [] }
  const parts = typeof v === 'string' ? v.split('|') : Array.isArray(v) ? v : undefined
  if (parts === undefined || parts.some((p) => typeof p !== 'string')) {
    return { ok: false, problem: 'tags must be text separated by "|" (CSV) or an array of strings (JSON)' }
  }
  return { ok: true, value: [...new Set((parts as string[]).map((p) => p.trim()).filter((p) => p !== ''))] }
}

const commentOf = (v: unknown): Checked<string | null> => {
  if (isBlank(v)) return { ok: true, value: null }
  return typeof v === 'string' ? { ok: true, value: v.trim() } : { ok: false, problem: 'comment must be text' }
}

const WILDCARD_PREFIX = '*.'

const indicatorOf = (
  v: unknown,
  type: RequestedType,
): Checked<{ indicator: Indicator; wildcard: boolean; entry: string }> => {
  if (isBlank(v)) return { ok: false, problem: 'indicator is missing' }
  if (typeof v !== 'string') return { ok: false, problem: 'indicator must be text' }
  const text = v.trim()
  const wildcard = text.startsWith(WILDCARD_PREFIX)
  if (wildcard && type !== 'Auto' && type !== 'Host') {
    return { ok: false, problem: `${quote(text)}: a "*." wildcard entry must be a Host, not ${type}` }
  }
  const result = normaliseIndicator(wildcard ? text.slice(WILDCARD_PREFIX.length) : text, wildcard ? 'Host' : type)
  if (!result.ok) return { ok: false, problem: result.reason }
  const indicator = { ...result.indicator, input: text }
  return {
    ok: true,
    value: { indicator, wildcard, entry: wildcard ? `${WILDCARD_PREFIX}${indicator.value}` : indicator.value },
  }
}

/** Validates and normalises one row; every problem in the row is reported, not just the first. */
const toWatchlistEntry = (raw: RawEntry, where: string): Checked<WatchlistEntry> => {
  const type = typeNamed(raw.type)
  // The indicator is only checked against a type that exists; a bad type is reported on its own.
  const indicator = type.ok ? indicatorOf(raw.indicator, type.value) : undefined
  const verdict = verdictOf(raw.verdict)
  const confidence = confidenceOf(raw.confidence)
  const tags = tagsOf(raw.tags)
  const comment = commentOf(raw.comment)
  if (indicator?.ok && verdict.ok && confidence.ok && tags.ok && comment.ok) {
    return {
      ok: true,
      value: {
        ...indicator.value,
        verdict: verdict.value,
        confidence: confidence.value,
        tags: tags.value,
        comment: comment.value,
        where,
      },
    }
  }
  const problems = [type, indicator, verdict, confidence, tags, comment].flatMap((c) =>
    c === undefined || c.ok ? [] : [c.problem],
  )
  return { ok: false, problem: `${where}: ${problems.join('; ')}` }
}

interface Row {
  readonly where: string
  readonly raw: RawEntry
}

/** A row problem (bad header, wrong column count) found while splitting the file, before entries are checked. */
class RowProblem extends Error {}

const csvRows = (text: string): Row[] => {
  const records = parseCsv(text, {
    bom: true,
    comment: '#',
    // "#" only starts a comment at the start of a line: URLs have fragments and comments have "#1".
    comment_no_infix: true,
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
    info: true,
  }) as unknown as { record: string[]; info: { lines: number } }[]
  const [header, ...body] = records
  if (header === undefined) throw new RowProblem(`no header line (expected ${WATCHLIST_COLUMNS.join(',')})`)
  const columns = header.record.map((name) => name.trim().toLowerCase())
  const unknown = columns.filter((name) => !(WATCHLIST_COLUMNS as readonly string[]).includes(name))
  const missing = REQUIRED_COLUMNS.filter((name) => !columns.includes(name))
  const repeated = columns.filter((name, i) => columns.indexOf(name) !== i)
  if (unknown.length > 0 || missing.length > 0 || repeated.length > 0) {
    const why = [
      ...unknown.map((name) => `unknown column ${quote(name)}`),
      ...missing.map((name) => `missing column '${name}'`),
      ...repeated.map((name) => `column '${name}' appears twice`),
    ]
    throw new RowProblem(
      `line ${header.info.lines}: ${why.join('; ')} (expected header ${WATCHLIST_COLUMNS.join(',')})`,
    )
  }
  return body.map(({ record, info }) => {
    const where = `line ${info.lines}`
    if (record.length > columns.length) {
      throw new RowProblem(
        `${where}: ${record.length} fields but the header has ${columns.length} (quote fields holding commas)`,
      )
    }
    const field = (name: Column): string | undefined => {
      const i = columns.indexOf(name)
      return i === -1 ? undefined : record[i]
    }
    return {
      where,
      raw: {
        indicator: field('indicator'),
        type: field('type'),
        verdict: field('verdict'),
        confidence: field('confidence'),
        tags: field('tags'),
        comment: field('comment'),
      },
    }
  })
}

const jsonRows = (text: string): Row[] => {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new RowProblem(`not valid JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(data)) throw new RowProblem('must be a JSON array of entries')
  return data.map((item: unknown, i) => {
    const where = `index ${i}`
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new RowProblem(`${where}: an entry must be an object`)
    const record = item as Record<string, unknown>
    const unknown = Object.keys(record).filter((key) => !(WATCHLIST_COLUMNS as readonly string[]).includes(key))
    if (unknown.length > 0) {
      throw new RowProblem(
        `${where}: unknown field ${unknown.map(quote).join(', ')} (expected ${WATCHLIST_COLUMNS.join(', ')})`,
      )
    }
    return {
      where,
      raw: {
        indicator: record['indicator'],
        type: record['type'],
        verdict: record['verdict'],
        confidence: record['confidence'],
        tags: record['tags'],
        comment: record['comment'],
      },
    }
  })
}

export type WatchlistFormat = 'csv' | 'json'

const watchlistFormatOf = (path: string): WatchlistFormat | undefined => {
  const ext = extname(path).toLowerCase()
  return ext === '.csv' ? 'csv' : ext === '.json' ? 'json' : undefined
}

const fileProblem = (path: string, problems: readonly string[]): Error => {
  if (problems.length === 1) return new Error(`watchlist file ${path}: ${problems[0]}`)
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  ${p}`)
  const more = problems.length > MAX_LISTED_PROBLEMS ? [`  ... and ${problems.length - MAX_LISTED_PROBLEMS} more`] : []
  return new Error([`watchlist file ${path} has ${problems.length} bad entries:`, ...listed, ...more].join('\n'))
}

/**
 * The rows of a file's text: the good entries, each bad row with its line (or index) and problem, or a fatal problem.
 */
export interface WatchlistRows {
  readonly entries: WatchlistEntry[]
  readonly problems: { readonly line: number; readonly reason: string }[]
  /** Nothing can be read (no header, not JSON, an unclosed quote...). */
  readonly fatal: string | undefined
}

/** Pure, never throws on the file's content: what the watchlist and the feed job's file feed both read. */
export const readWatchlistRows = (text: string, format: WatchlistFormat): WatchlistRows => {
  let rows: Row[]
  try {
    rows = format === 'csv' ? csvRows(text) : jsonRows(text)
  } catch (err) {
    // csv-parse's own errors (an unclosed quote...) already say which line.
    const csvError = String((err as { code?: unknown }).code).startsWith('CSV_')
    if (err instanceof RowProblem || csvError) return { entries: [], problems: [], fatal: (err as Error).message }
    throw err
  }
  const entries: WatchlistEntry[] = []
  const problems: { line: number; reason: string }[] = []
  for (const row of rows) {
    const checked = toWatchlistEntry(row.raw, row.where)
    if (checked.ok) entries.push(checked.value)
    else problems.push({ line: Number(/\d+/.exec(row.where)?.[0] ?? 0), reason: checked.problem })
  }
  return { entries, problems, fatal: undefined }
}

/** Pure: the entries of a file's text, or an Error naming the file, each bad line/index and its problem. */
export const parseWatchlist = (text: string, format: WatchlistFormat, path: string): WatchlistEntry[] => {
  const read = readWatchlistRows(text, format)
  if (read.fatal !== undefined) throw fileProblem(path, [read.fatal])
  if (read.problems.length > 0)
    throw fileProblem(
      path,
      read.problems.map((p) => p.reason),
    )
  return read.entries
}

/** Reads and parses the file at an absolute path; a missing or unreadable file is an Error naming the path. */
export const readWatchlistFile = async (path: string): Promise<WatchlistEntry[]> => {
  const format = watchlistFormatOf(path)
  if (format === undefined) {
    throw new Error(`watchlist file ${path}: unsupported extension ${quote(extname(path))} (use a .csv or .json file)`)
  }
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new Error(`watchlist file ${path} not found (set WATCHLIST_PATH to a .csv or .json file)`, { cause: err })
    throw new Error(`cannot read watchlist file ${path}: ${(err as Error).message}`, { cause: err })
  }
  return parseWatchlist(text, format, path)
}
