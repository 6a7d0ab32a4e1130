/**
 * Bounds a source's finding before anything keeps it (the cache, the reply): a vendor answer nested too deep or
 * too large is replaced by a note saying so, and long texts and lists are cut. One source's bad answer then can
 * only ever cost that source its raw answer; it can neither overflow the stack nor blow up a reply or the cache.
 * Pure; iterative (no recursion), so any depth is safe to measure.
 */
import type { FactValue, Finding } from '../sources/types.js'

export interface FindingBounds {
  /** Deepest nesting of `raw` kept. */
  readonly maxRawDepth: number
  /** Largest `raw` kept, as JSON text. */
  readonly maxRawBytes: number
  /** Longest text (a fact, a summary, a tag, a list item). */
  readonly maxTextChars: number
  /** Most items of a list fact, and tags. */
  readonly maxListItems: number
  /** Longest item of a list fact. */
  readonly maxItemChars: number
}

const DEFAULT_FINDING_BOUNDS: FindingBounds = {
  maxRawDepth: 32,
  maxRawBytes: 16 * 1024,
  maxTextChars: 1024,
  maxListItems: 50,
  maxItemChars: 256,
}

/**
 * One walk over a raw answer: how deep it nests (stopping once past `maxDepth`) and an upper bound on its JSON
 * length. The bound counts every character as if escaped (6 bytes) and every number as 24, so an answer under it is
 * certainly within the byte limit without being serialised; only one near or over it is measured exactly, and only
 * once the walk has found it shallow enough to serialise. Iterative: any depth is safe.
 */
const measureRaw = (value: unknown, maxDepth: number): { depth: number; boundBytes: number } => {
  let deepest = 0
  let bytes = 0
  const nodes: unknown[] = [value]
  const depths: number[] = [0]
  while (nodes.length > 0) {
    const node = nodes.pop()
    const depth = depths.pop() as number
    if (typeof node === 'string') bytes += 2 + 6 * node.length
    else if (typeof node !== 'object' || node === null) bytes += 24
    else {
      const here = depth + 1
      if (here > deepest) deepest = here
      if (deepest > maxDepth) return { depth: deepest, boundBytes: bytes }
      bytes += 2
      // Something that serialises itself (a Date) has no bound here: the answer is then measured exactly.
      if (typeof (node as { toJSON?: unknown }).toJSON === 'function') bytes = Infinity
      if (Array.isArray(node)) {
        for (const child of node as unknown[]) {
          bytes += 1
          nodes.push(child)
          depths.push(here)
        }
      } else {
        for (const key in node) {
          if (!Object.hasOwn(node, key)) continue
          bytes += 4 + 6 * key.length
          nodes.push((node as Record<string, unknown>)[key])
          depths.push(here)
        }
      }
    }
  }
  return { depth: deepest, boundBytes: bytes }
}

/**
 * The first `max` characters as a string of their own. V8 makes a slice a view that keeps the whole original alive;
 * a 256 KB answer cut to 512 characters would still hold 256 KB in the cache. Copying through a Buffer lets it go.
 */
const ownCopy = (text: string): string => Buffer.from(text, 'utf8').toString('utf8')

/** Tags and fact names are labels: longer than this they are cut. */
const MAX_LABEL_CHARS = 64

const cut = (text: string, max: number): string => (text.length <= max ? text : `${ownCopy(text.slice(0, max - 1))}…`)

const boundFact = (value: FactValue, b: FindingBounds): FactValue => {
  if (typeof value === 'string') return cut(value, b.maxTextChars)
  if (Array.isArray(value))
    return value.slice(0, b.maxListItems).map((item: string) => cut(String(item), b.maxItemChars))
  return value
}

/** The raw answer as kept: itself when within bounds, else a note saying what was dropped and why. */
const boundRaw = (raw: unknown, b: FindingBounds): unknown => {
  if (raw === null || raw === undefined) return null
  const { depth, boundBytes } = measureRaw(raw, b.maxRawDepth)
  if (depth > b.maxRawDepth) return { truncated: `the answer nests deeper than ${b.maxRawDepth} levels; not kept` }
  if (boundBytes <= b.maxRawBytes) return raw
  const text = JSON.stringify(raw) ?? 'null'
  if (text.length > b.maxRawBytes)
    return {
      truncated: `the answer is ${text.length} bytes, over the ${b.maxRawBytes} kept`,
      start: ownCopy(text.slice(0, 512)),
    }
  return raw
}

/** Is every fact, tag and the summary already within bounds? Then the finding is kept as it came (no copy). */
const withinBounds = (finding: Finding, b: FindingBounds): boolean => {
  if (finding.summary.length > b.maxTextChars || finding.tags.length > b.maxListItems) return false
  for (const tag of finding.tags) if (tag.length > MAX_LABEL_CHARS) return false
  let count = 0
  for (const key in finding.facts) {
    if (!Object.hasOwn(finding.facts, key)) continue
    if (++count > b.maxListItems || key.length > MAX_LABEL_CHARS) return false
    const v = finding.facts[key]
    if (typeof v === 'string' && v.length > b.maxTextChars) return false
    if (Array.isArray(v)) {
      if (v.length > b.maxListItems) return false
      for (const item of v as unknown[]) if (typeof item !== 'string' || item.length > b.maxItemChars) return false
    }
  }
  return true
}

/** The finding as kept: long texts and lists cut, and a raw answer too deep or too large replaced by a note. */
export const boundFinding = (finding: Finding, b: FindingBounds = DEFAULT_FINDING_BOUNDS): Finding => {
  const raw = boundRaw(finding.raw, b)
  if (withinBounds(finding, b)) return raw === finding.raw ? finding : { ...finding, raw }
  const facts = Object.fromEntries(
    Object.entries(finding.facts)
      .slice(0, b.maxListItems)
      .map(([k, v]) => [cut(k, MAX_LABEL_CHARS), boundFact(v, b)]),
  )
  return {
    verdict: finding.verdict,
    score: finding.score,
    confidence: finding.confidence,
    tags: finding.tags.slice(0, b.maxListItems).map((tag) => cut(tag, MAX_LABEL_CHARS)),
    summary: cut(finding.summary, b.maxTextChars),
    facts,
    raw,
  }
}

/** About how many bytes a kept finding holds, as JSON (the finding cache's byte budget). */
export const findingBytes = (finding: Finding): number => (JSON.stringify(finding) ?? '').length
