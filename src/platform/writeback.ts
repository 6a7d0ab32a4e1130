/**
 * After an enrichment: find (or create) the indicator in ThreatConnect, post the note once, then apply
 * rating/confidence/tags/Description. Idempotent by the findings digest embedded in the note, and never throws:
 * every outcome is a WritebackResult with a reason.
 */
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { IndicatorUpdate, PlatformClient, PlatformIndicator, PlatformPost } from './client.js'

export interface WritebackRequest {
  readonly indicator: Pick<Indicator, 'type' | 'value' | 'hashes'>
  /** Owner to write in; undefined means the API user's organization. */
  readonly owner?: string | undefined
  /** The note. Should carry `digest: <digest>`; it is appended when missing so a retry can recognise the note. */
  readonly text: string
  /** Short digest of the findings (e.g. `ab12cd34`): the same findings give the same note, posted once. */
  readonly digest: string
  /** Create the indicator when the owner does not have it yet. */
  readonly createIndicator: boolean
  /**
   * 0-5; 0 or absent leaves the indicator's rating unchanged (the enrichment's threat rating, src/enrich/verdict.ts).
   */
  readonly rating?: number | undefined
  /** 0-100; absent leaves it unchanged. */
  readonly confidence?: number | undefined
  /** Appended; tags the indicator already has (any case) are not sent again. */
  readonly tags?: readonly string[] | undefined
  /** Added as a Description attribute unless an identical one exists. */
  readonly description?: string | undefined
}

type WritebackStatus = 'written' | 'skipped' | 'failed'

export interface WritebackResult {
  readonly status: WritebackStatus
  readonly reason: string
  readonly indicatorId: number | null
  readonly noteId: number | null
  /** Set when the note was already there: the id of that earlier post. */
  readonly duplicateOf?: number
  /** The indicator's page in ThreatConnect, when the platform gave it (an alert links to it). */
  readonly webLink?: string
}

/** For callers that decide not to write (write-back off, platform not configured). */
export const skippedWriteback = (reason: string): WritebackResult => ({
  status: 'skipped',
  reason,
  indicatorId: null,
  noteId: null,
})

export const failedWriteback = (reason: string): WritebackResult => ({
  status: 'failed',
  reason,
  indicatorId: null,
  noteId: null,
})

const DIGEST_PATTERN = /^[A-Za-z0-9_-]{4,128}$/

const digestMarker = (digest: string): string => `digest: ${digest}`

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Does this post text carry the digest as a whole token (so `ab12` does not match `ab12cd34`)? */
const carriesDigest = (text: string, digest: string): boolean =>
  new RegExp(`(^|[^A-Za-z0-9_-])${escapeRegExp(digestMarker(digest))}(?![A-Za-z0-9_-])`).test(text)

const validate = (req: WritebackRequest): string | undefined => {
  if (req.indicator.value.trim() === '') return 'indicator value is empty'
  if (req.text.trim() === '') return 'note text is empty'
  if (!DIGEST_PATTERN.test(req.digest)) return `digest '${req.digest}' is not 4-128 letters, digits, '-' or '_'`
  if (req.rating !== undefined && !(Number.isInteger(req.rating) && req.rating >= 0 && req.rating <= 5)) {
    return `rating ${req.rating} is not a whole number 0-5`
  }
  if (
    req.confidence !== undefined &&
    !(Number.isInteger(req.confidence) && req.confidence >= 0 && req.confidence <= 100)
  ) {
    return `confidence ${req.confidence} is not a whole number 0-100`
  }
  return undefined
}

/**
 * Only what would change something: unchanged rating/confidence, known tags and an identical Description are left out.
 */
const pendingUpdate = (indicator: PlatformIndicator, req: WritebackRequest): IndicatorUpdate => {
  const known = new Set(indicator.tags.map((t) => t.toLowerCase()))
  const tags = [...new Set((req.tags ?? []).map((t) => t.trim()).filter((t) => t !== ''))].filter((t) => {
    const fresh = !known.has(t.toLowerCase())
    known.add(t.toLowerCase())
    return fresh
  })
  const description = req.description?.trim()
  const hasDescription =
    description !== undefined &&
    indicator.attributes.some((a) => a.type.toLowerCase() === 'description' && a.value.trim() === description)
  return {
    ...(req.rating !== undefined && req.rating > 0 && req.rating !== indicator.rating ? { rating: req.rating } : {}),
    ...(req.confidence !== undefined && req.confidence !== indicator.confidence ? { confidence: req.confidence } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    ...(description !== undefined && description !== '' && !hasDescription ? { description } : {}),
  }
}

const describeUpdate = (u: IndicatorUpdate): string => {
  const parts = [
    ...(u.rating !== undefined ? [`rating ${u.rating}`] : []),
    ...(u.confidence !== undefined ? [`confidence ${u.confidence}`] : []),
    ...(u.tags !== undefined ? [`${u.tags.length} tag${u.tags.length === 1 ? '' : 's'}`] : []),
    ...(u.description !== undefined ? ['Description attribute'] : []),
  ]
  return parts.length === 0 ? 'nothing else to change' : `applied ${parts.join(', ')}`
}

const ownerLabel = (owner: string | undefined): string =>
  owner === undefined ? "the API user's organization" : `owner ${owner}`

const failureReason = (err: unknown): string =>
  err instanceof SourceError
    ? err.message
    : `internal error during write-back: ${err instanceof Error ? err.message : String(err)}`

export const writeBack = async (client: PlatformClient, req: WritebackRequest): Promise<WritebackResult> => {
  const invalid = validate(req)
  if (invalid !== undefined) return { status: 'failed', reason: invalid, indicatorId: null, noteId: null }

  const { type, value, hashes } = req.indicator
  let indicatorId: number | null = null
  let noteId: number | null = null
  let stage = 'note'
  try {
    let indicator = await client.findIndicator(type, value, req.owner, hashes)
    let created = false
    if (indicator === null) {
      if (!req.createIndicator) {
        return {
          status: 'failed',
          reason: `indicator ${value} (${type}) not found in ${ownerLabel(req.owner)}`,
          indicatorId: null,
          noteId: null,
        }
      }
      indicator = await client.createIndicator(type, value, req.owner, hashes)
      created = true
    }
    indicatorId = indicator.id

    const text = carriesDigest(req.text, req.digest) ? req.text : `${req.text.trimEnd()}\n\n${digestMarker(req.digest)}`
    const existing: PlatformPost | undefined = created
      ? undefined
      : (await client.listPosts(indicator.id)).find((p) => carriesDigest(p.text, req.digest))
    const post = existing ?? (await client.createPost(indicator.id, text))
    noteId = post.id

    stage = 'update'
    const update = pendingUpdate(indicator, req)
    if (Object.keys(update).length > 0) await client.updateIndicator(indicator.id, update)

    const head = existing
      ? `note already present (post ${existing.id}) on indicator ${indicator.id}`
      : `note written (post ${post.id}) on ${created ? 'new ' : ''}indicator ${indicator.id}`
    return {
      status: 'written',
      reason: `${head}; ${describeUpdate(update)}`,
      indicatorId,
      noteId,
      ...(existing ? { duplicateOf: existing.id } : {}),
      ...(indicator.webLink !== undefined ? { webLink: indicator.webLink } : {}),
    }
  } catch (err) {
    const reason = failureReason(err)
    // A breaker that is open, or a rate-limit wait too long: nothing was attempted.
    const status: WritebackStatus = err instanceof SourceError && err.skipped && noteId === null ? 'skipped' : 'failed'
    return {
      status,
      reason: stage === 'update' ? `note is on the indicator but the update failed: ${reason}` : reason,
      indicatorId,
      noteId,
    }
  }
}
