/**
 * What every feed parser does the same way: normalise a value as /run does, clean the tags, count invalid rows, read
 * the streamed text as lines or as one document.
 */
import { normaliseIndicator } from '../indicators/normalise.js'
import type { RequestedType } from '../indicators/types.js'
import type { FeedItem, InvalidRow, ItemSink, ParseReport } from './types.js'

export type Mapping = Omit<FeedItem, 'type' | 'summary'>

/** Invalid rows listed in a report (the rest are only counted). */
const LISTED_INVALID = 20
/** ThreatConnect's longest tag the house writes (the same bound as the enrichment's labels). */
const MAX_TAG_CHARS = 64
/** Placeholders feeds write where they know nothing: never a tag. */
const PLACEHOLDER_TAGS = new Set([
  '',
  'none',
  'null',
  'nil',
  'n/a',
  'na',
  '-',
  'unknown',
  'unknown malware',
  'undefined',
])

/** Tags as a feed writes them: trimmed, placeholders dropped, at most MAX_TAG_CHARS, one of each whatever its case. */
export const cleanTags = (raw: readonly string[]): string[] => {
  const seen = new Set<string>()
  const out: string[] = []
  for (const tag of raw) {
    const t = tag.trim().slice(0, MAX_TAG_CHARS).trim()
    if (PLACEHOLDER_TAGS.has(t.toLowerCase()) || seen.has(t.toLowerCase())) continue
    seen.add(t.toLowerCase())
    out.push(t)
  }
  return out
}

/** Collects a feed's rows: each one normalised (the same code as /run) and mapped, or counted with its line. */
export class FeedRows {
  readonly #sink: ItemSink
  readonly #invalidRows: InvalidRow[] = []
  #invalid = 0
  #count = 0

  constructor(sink: ItemSink) {
    this.#sink = sink
  }

  add(line: number, raw: string, requested: RequestedType, mapping: Mapping): void {
    const normalised = normaliseIndicator(raw, requested)
    if (!normalised.ok) {
      this.reject(line, normalised.reason)
      return
    }
    this.#count += 1
    this.#sink({
      type: normalised.indicator.type,
      summary: normalised.indicator.value,
      ...mapping,
      tags: cleanTags(mapping.tags),
    })
  }

  reject(line: number, reason: string): void {
    this.#invalid += 1
    if (this.#invalidRows.length < LISTED_INVALID) this.#invalidRows.push({ line, reason })
  }

  report(broken: string | undefined): ParseReport {
    return { count: this.#count, invalid: this.#invalid, invalidRows: this.#invalidRows, broken }
  }
}

/** abuse.ch and Spamhaus write times as "2024-01-01 12:00:00" (UTC); ISO 8601 (to the second) for the batch. */
export const utcTime = (text: unknown): string | undefined => {
  if (typeof text !== 'string' || text.trim() === '') return undefined
  const t = text.trim()
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(t)
    ? `${t.slice(0, 19).replace(' ', 'T')}Z`
    : /^\d{4}-\d{2}-\d{2}$/.test(t)
      ? `${t}T00:00:00Z`
      : t
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Tags as a feed writes them ("a,b", "a|b" or a list), split; cleanTags does the rest. */
export const tagList = (value: unknown, separator: RegExp = /[,|]/): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(separator) : []

/** The whole text of a download (a JSON document is read whole; its feeds are a few MB at most). */
export const readAll = async (text: AsyncIterable<string>): Promise<string> => {
  let all = ''
  for await (const chunk of text) all += chunk
  return all
}

/** A JSON document, or why it is not one (a download cut short is the usual reason). */
export const parseJson = (text: string): { ok: true; value: unknown } | { ok: false; why: string } => {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (err) {
    return {
      ok: false,
      why: `not valid JSON (${(err as Error).message.slice(0, 120)}): the download is cut short or not the feed`,
    }
  }
}

/** The text's lines (CRLF or LF), numbered from 1; `end.whole` says whether the last one ended with a line break. */
export async function* lines(text: AsyncIterable<string>, end: { whole: boolean }): AsyncGenerator<[number, string]> {
  let rest = ''
  let n = 0
  end.whole = true
  for await (const chunk of text) {
    const data = rest + chunk
    let start = 0
    for (let at = data.indexOf('\n'); at >= 0; at = data.indexOf('\n', start)) {
      n += 1
      yield [n, data.slice(start, data.charCodeAt(at - 1) === 13 ? at - 1 : at)]
      start = at + 1
    }
    rest = data.slice(start)
  }
  if (rest !== '') {
    end.whole = false
    yield [n + 1, rest.replace(/\r$/, '')]
  }
}

/** A field as text: strings as they are, numbers written out, anything else empty. */
export const fieldText = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')

/** Days between an ISO 8601 time and `now`, or undefined for no time. */
export const daysSince = (iso: string | undefined, now: number): number | undefined =>
  iso === undefined ? undefined : Math.max(0, (now - Date.parse(iso)) / 86_400_000)
