/** What every feed parser does the same way: normalise a value as /run does, collect items and invalid rows. */
import { normaliseIndicator } from '../indicators/normalise.js'
import type { RequestedType } from '../indicators/types.js'
import type { FeedItem, InvalidRow, ItemSink, ParsedFeed } from './types.js'

export type Mapping = Omit<FeedItem, 'type' | 'summary'>

/** Collects a feed's rows: each one normalised (the same code as /run) and mapped, or counted with its line. */
export class FeedRows {
  readonly items: FeedItem[] = []
  readonly invalid: InvalidRow[] = []
  #count = 0
  readonly #sink: ItemSink

  /** `sink`: where each item goes (the parser's caller); without one they are listed in `items`. */
  constructor(sink?: ItemSink) {
    this.#sink = sink ?? ((item) => void this.items.push(item))
  }

  add(line: number, raw: string, requested: RequestedType, mapping: Mapping): void {
    const normalised = normaliseIndicator(raw, requested)
    if (!normalised.ok) {
      this.invalid.push({ line, reason: normalised.reason })
      return
    }
    this.#count += 1
    this.#sink({ type: normalised.indicator.type, summary: normalised.indicator.value, ...mapping })
  }

  reject(line: number, reason: string): void {
    this.invalid.push({ line, reason })
  }

  result(incomplete: string | undefined): ParsedFeed {
    return { items: this.items, count: this.#count, invalid: this.invalid, incomplete }
  }
}

/** abuse.ch and Spamhaus write times as "2024-01-01 12:00:00" (UTC); ISO 8601 for the batch, or undefined. */
export const utcTime = (text: unknown): string | undefined => {
  if (typeof text !== 'string' || text.trim() === '') return undefined
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(text)
    ? `${text.trim().slice(0, 19).replace(' ', 'T')}Z`
    : text.trim()
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** Tags as a feed writes them ("a,b", "a|b" or a list): trimmed, distinct, never empty. */
export const tagList = (value: unknown, separator: RegExp = /[,|]/): string[] => {
  const raw = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(separator) : []
  return [...new Set(raw.map((t) => t.trim()).filter((t) => t !== ''))]
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

/** A field as text: strings as they are, numbers written out, anything else empty. */
export const fieldText = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')
