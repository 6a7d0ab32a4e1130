/**
 * What the feed job remembers of a feed between runs: per indicator (keyed by type and normalised summary) the hash
 * of what was last sent and when, the ETag of the last download, when it was fetched. Written only after every batch
 * of a run completed, and atomically (a file renamed into place, or one Redis SET), so a run killed at any point
 * leaves the previous state whole: the next run simply does it again.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import type { SharedStore } from '../state/store.js'

export const FEED_STATE_VERSION = 1

export interface SentIndicator {
  readonly type: string
  readonly summary: string
  /** Hash of what was sent (rating, confidence, tags, attributes, dates). */
  readonly hash: string
  /** When it was last sent (ms since epoch): re-sent after FEED_REFRESH_DAYS. */
  readonly sentAt: number
}

export interface FeedState {
  readonly version: typeof FEED_STATE_VERSION
  readonly feed: string
  readonly owner: string
  readonly fetchedAt: number
  readonly etag: string | undefined
  /** The last download's Last-Modified, sent back as If-Modified-Since. */
  readonly lastModified?: string | undefined
  /** By indicatorKey(type, summary). */
  readonly indicators: Readonly<Record<string, SentIndicator>>
}

export const indicatorKey = (type: string, summary: string): string => `${type}|${summary.toLowerCase()}`

export interface FeedStateStore {
  load(feed: string): Promise<FeedState | undefined>
  save(state: FeedState): Promise<void>
  /** Where it is kept, for messages. */
  readonly where: string
}

/** About how much state text is written at a time. */
const PART_CHARS = 64 * 1024

/**
 * The state as JSON text, in parts of about PART_CHARS: a feed of 100,000 indicators is about 11 MB of state, and
 * one string of it (then a buffer of it to write) was the job's peak memory on an unchanged re-run. Joined, the parts
 * are JSON.stringify(state).
 */
export function* stateJsonParts(state: FeedState): Generator<string> {
  const { indicators, ...head } = state
  // The head always has fields (version, feed, owner, fetchedAt): open it up and append the indicators.
  yield `${JSON.stringify(head).slice(0, -1)},"indicators":{`
  let part = ''
  let first = true
  for (const key in indicators) {
    part += `${first ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(indicators[key])}`
    first = false
    if (part.length >= PART_CHARS) {
      yield part
      part = ''
    }
  }
  yield `${part}}}`
}

const parseState = (text: string, feed: string): FeedState => {
  const state = JSON.parse(text) as FeedState
  if (state.version !== FEED_STATE_VERSION || state.feed !== feed || typeof state.indicators !== 'object') {
    throw new Error(`feed state for ${feed} is not a version ${FEED_STATE_VERSION} state of this feed`)
  }
  return state
}

export const fileStateStore = (dir: string): FeedStateStore => ({
  where: dir,
  async load(feed) {
    try {
      return parseState(await readFile(join(dir, `${feed}.json`), 'utf8'), feed)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  },
  async save(state) {
    await mkdir(dir, { recursive: true })
    const path = join(dir, `${state.feed}.json`)
    const temporary = `${path}.${process.pid}.tmp`
    const file = await open(temporary, 'w')
    try {
      for (const part of stateJsonParts(state)) await file.write(part)
    } finally {
      await file.close()
    }
    // rename is atomic: a reader (or a crash) sees the old state or the new one, never half of one.
    await rename(temporary, path)
  },
})

export const redisStateStore = (store: SharedStore): FeedStateStore => ({
  where: 'Redis',
  async load(feed) {
    const text = await store.get(store.key('feed-state', feed))
    return text === null ? undefined : parseState(text, feed)
  },
  async save(state) {
    // Kept for a year without a run; one SET replaces the state whole.
    await store.set(store.key('feed-state', state.feed), [...stateJsonParts(state)].join(''), 365 * 86_400_000)
  },
})
