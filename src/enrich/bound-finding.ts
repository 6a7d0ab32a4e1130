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

export const DEFAULT_FINDING_BOUNDS: FindingBounds = { maxRawDepth: 32, maxRawBytes: 16 * 1024, maxTextChars: 1024, maxListItems: 50, maxItemChars: 256 }

/** How deep `value` nests (a scalar is 0), stopping once past `limit`. */
export const depthOf = (value: unknown, limit: number): number => {
  let deepest = 0
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }]
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number }
    if (typeof node !== 'object' || node === null) continue
    const here = depth + 1
    if (here > deepest) deepest = here
    if (deepest > limit) return deepest
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: here })
  }
  return deepest
}

/**
 * The first `max` characters as a string of their own. V8 makes a slice a view that keeps the whole original alive;
 * a 256 KB answer cut to 512 characters would still hold 256 KB in the cache. Copying through a Buffer lets it go.
 */
const ownCopy = (text: string): string => Buffer.from(text, 'utf8').toString('utf8')

const cut = (text: string, max: number): string => (text.length <= max ? text : `${ownCopy(text.slice(0, max - 1))}…`)

const boundFact = (value: FactValue, b: FindingBounds): FactValue => {
  if (typeof value === 'string') return cut(value, b.maxTextChars)
  if (Array.isArray(value)) return value.slice(0, b.maxListItems).map((item: string) => cut(String(item), b.maxItemChars))
  return value
}

/** The raw answer as kept: itself when within bounds, else a note saying what was dropped and why. */
const boundRaw = (raw: unknown, b: FindingBounds): { raw: unknown; bytes: number } => {
  if (raw === null || raw === undefined) return { raw: null, bytes: 4 }
  const depth = depthOf(raw, b.maxRawDepth)
  if (depth > b.maxRawDepth) {
    const note = { truncated: `the answer nests deeper than ${b.maxRawDepth} levels; not kept` }
    return { raw: note, bytes: JSON.stringify(note).length }
  }
  const text = JSON.stringify(raw) ?? 'null'
  if (text.length > b.maxRawBytes) {
    const note = { truncated: `the answer is ${text.length} bytes, over the ${b.maxRawBytes} kept`, start: ownCopy(text.slice(0, 512)) }
    return { raw: note, bytes: JSON.stringify(note).length }
  }
  return { raw, bytes: text.length }
}

/** The finding as kept, and about how many bytes it holds (for the cache's byte budget). */
export const boundFinding = (finding: Finding, b: FindingBounds = DEFAULT_FINDING_BOUNDS): { finding: Finding; bytes: number } => {
  const raw = boundRaw(finding.raw, b)
  const facts = Object.fromEntries(Object.entries(finding.facts).slice(0, b.maxListItems).map(([k, v]) => [cut(k, 64), boundFact(v, b)]))
  const bounded: Finding = {
    verdict: finding.verdict,
    score: finding.score,
    confidence: finding.confidence,
    tags: finding.tags.slice(0, b.maxListItems).map((tag) => cut(tag, 64)),
    summary: cut(finding.summary, b.maxTextChars),
    facts,
    raw: raw.raw,
  }
  return { finding: bounded, bytes: raw.bytes + JSON.stringify({ ...bounded, raw: null }).length }
}
