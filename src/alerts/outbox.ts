/**
 * The durable outbox every alert goes through: one entry per dedup key (a key seen again is not added again, unless
 * its rule's repeatInterval re-arms a sent one or the silence that held it has ended), moving pending -> sending ->
 * sent | failed (will be retried) | dead (will not), or silenced. Two engines behind one interface: SQLite (one host;
 * src/alerts/outbox-sqlite.ts) and Redis (replicas; src/alerts/outbox-redis.ts). Final entries are deleted
 * ALERTS_RETENTION after they became final, so neither grows with its history.
 *
 * At-least-once: an entry is claimed (`sending`, with a lease, its attempts counted) before the third party is called
 * and recorded after it answers. A crash between the two leaves it `sending`; once its lease passes it is sent again,
 * in the same message (same alerts, same id). That crash between the third party's acceptance and the record is the
 * one way a message can go out twice, and then under the same id.
 */
import { hostname } from 'node:os'
import { processAlive } from '../util/process-alive.js'
import type { DeliveryOutcome, OutboxEntry, OutboxState } from './types.js'

export type NewEntry = Pick<OutboxEntry, 'key' | 'destination'> &
  Partial<Pick<OutboxEntry, 'alert' | 'email' | 'formatter' | 'notBefore'>> & {
    /** Re-arm the key when it was sent at least this long ago (a rule's repeatInterval). */
    readonly rearmAfterMs?: number
    /** Recorded as silenced (not sent) until then: a silence matched it. Without it, a silenced key is news again. */
    readonly silencedUntil?: number
  }

interface OutboxListing {
  readonly counts: Readonly<Record<OutboxState, number>>
  /** The newest entries first. */
  readonly entries: readonly OutboxEntry[]
}

export interface Outbox {
  /** Where it is kept, for messages. */
  readonly where: string
  /** Adds (or re-arms) the entries the outbox should take; answers their keys. */
  add(entries: readonly NewEntry[], now: number): Promise<string[]>
  /** Entries that may be sent now: pending or failed with notBefore <= now, or sending with a lapsed lease. */
  due(now: number): Promise<OutboxEntry[]>
  /**
   * Takes these keys for sending until `leaseUntil`, as message `messageId` (kept for a retry); answers the entries it
   * took (another worker may have some).
   */
  claim(keys: readonly string[], now: number, leaseUntil: number, messageId: string): Promise<OutboxEntry[]>
  /**
   * Records what the delivery of these claimed entries came to; only while the claim is still this one (same holder,
   * same lease): a worker whose lease lapsed and was taken over changes nothing.
   */
  settle(claimed: readonly OutboxEntry[], result: Settlement): Promise<void>
  list(options: { readonly state?: OutboxState; readonly limit: number }): Promise<OutboxListing>
  get(key: string): Promise<OutboxEntry | undefined>
  /** A named value kept with the outbox (a service's checkpoint, a silence). */
  meta(name: string): Promise<string | undefined>
  setMeta(name: string, value: string): Promise<void>
  deleteMeta(name: string): Promise<void>
  listMeta(prefix: string): Promise<Array<readonly [string, string]>>
  /** Deletes final entries (sent, dead, silenced) that became final before `before`; answers how many. */
  prune(before: number): Promise<number>
  close(): Promise<void>
}

export type Settlement =
  | { readonly state: 'sent'; readonly at: number; readonly receipt: string; readonly groupSize: number }
  | { readonly state: 'failed'; readonly at: number; readonly reason: string; readonly notBefore: number }
  | { readonly state: 'dead'; readonly at: number; readonly reason: string }
  | { readonly state: 'silenced'; readonly at: number; readonly until: number; readonly reason: string }

/** Retry backoff: 30 s doubling to at most 1 h; past `maxAgeMs` from creation a transient failure is final (dead). */
export interface RetryPolicy {
  readonly baseMs: number
  readonly maxMs: number
  readonly maxAgeMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAgeMs: 24 * 3_600_000 }

/** What a delivery's outcome means for one claimed entry: pure, so the policy is tested without a clock. */
export const settlementOf = (
  outcome: DeliveryOutcome,
  entry: Pick<OutboxEntry, 'attempts' | 'createdAt'>,
  now: number,
  policy: RetryPolicy,
  groupSize: number,
): Settlement => {
  if (outcome.outcome === 'sent') return { state: 'sent', at: now, receipt: outcome.receipt, groupSize }
  if (outcome.outcome === 'dead') return { state: 'dead', at: now, reason: outcome.reason }
  // attempts counts this one (claims count): the first retry waits baseMs.
  const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(0, entry.attempts - 1), 20))
  const notBefore = now + Math.max(backoff, outcome.retryAfterMs ?? 0)
  if (notBefore - entry.createdAt > policy.maxAgeMs) {
    return {
      state: 'dead',
      at: now,
      reason: `${outcome.reason}; still failing ${Math.round((now - entry.createdAt) / 60_000)} min after it was raised, given up`,
    }
  }
  return { state: 'failed', at: now, reason: outcome.reason, notBefore }
}

export const emptyCounts = (): Record<OutboxState, number> => ({
  pending: 0,
  sending: 0,
  sent: 0,
  failed: 0,
  dead: 0,
  silenced: 0,
})

export const FINAL_STATES: readonly OutboxState[] = ['sent', 'dead', 'silenced']

/** A final entry keeps a free-form e-mail's subject, not its text: the outbox holds no mail bodies for good. */
const withoutBody = (entry: Omit<OutboxEntry, 'state'>): Omit<OutboxEntry, 'state'> =>
  entry.email === undefined
    ? entry
    : { ...entry, email: { to: entry.email.to, subject: entry.email.subject, text: '' } }

/** Applies a settlement to one entry (both engines share it). */
const settled = (entry: OutboxEntry, result: Settlement): OutboxEntry => {
  const { leaseUntil: _lease, claimedBy: _holder, ...rest } = entry
  switch (result.state) {
    case 'sent':
      return {
        ...withoutBody(rest),
        state: 'sent',
        sentAt: result.at,
        settledAt: result.at,
        receipt: result.receipt,
        groupSize: result.groupSize,
      }
    case 'failed':
      return { ...rest, state: 'failed', lastError: result.reason, notBefore: result.notBefore }
    case 'dead':
      return { ...withoutBody(rest), state: 'dead', settledAt: result.at, lastError: result.reason }
    case 'silenced':
      return {
        ...withoutBody(rest),
        state: 'silenced',
        settledAt: result.at,
        notBefore: result.until,
        lastError: result.reason,
      }
  }
}

const isDue = (e: OutboxEntry, now: number, holderGone: (claimedBy: string) => boolean = () => false): boolean =>
  ((e.state === 'pending' || e.state === 'failed') && e.notBefore <= now) ||
  (e.state === 'sending' && ((e.leaseUntil ?? 0) <= now || (e.claimedBy !== undefined && holderGone(e.claimedBy))))

/** This process, as a claim names it. */
const HOLDER = `${hostname()}:${process.pid}`

/** A claim by a process on this machine that is no longer running: its send died with it. */
const holderGoneOnThisHost = (claimedBy: string): boolean => {
  const at = claimedBy.lastIndexOf(':')
  if (claimedBy.slice(0, at) !== hostname()) return false
  const pid = Number(claimedBy.slice(at + 1))
  return Number.isInteger(pid) && pid > 0 && !processAlive(pid)
}

/** When an entry next wants attention (the due index's score), or undefined once it is final. */
export const dueAt = (e: OutboxEntry): number | undefined =>
  e.state === 'pending' || e.state === 'failed' ? e.notBefore : e.state === 'sending' ? (e.leaseUntil ?? 0) : undefined

/** Where an entry sorts in listings (newest first) and what retention counts from. */
export const orderAt = (e: OutboxEntry): number => e.settledAt ?? e.sentAt ?? e.createdAt

/**
 * Where entries are kept: the little an engine must do. Every change is a compare-and-set against the entry as it was
 * read, so two workers (two replicas on one Redis, two processes on one SQLite file) can never both claim or both
 * settle one entry.
 */
export interface EntryStore {
  readonly where: string
  /** Inserts entries whose keys it does not hold; answers those inserted. */
  insert(entries: readonly OutboxEntry[]): Promise<string[]>
  getMany(keys: readonly string[]): Promise<Array<OutboxEntry | undefined>>
  /** Replaces each entry only if it is still exactly `expected`; answers the keys replaced. */
  swap(changes: ReadonlyArray<{ readonly expected: OutboxEntry; readonly next: OutboxEntry }>): Promise<string[]>
  /** Keys whose due time is <= now, at most `limit`. */
  dueKeys(now: number, limit: number): Promise<string[]>
  /** Keys in a state (or any), newest first. */
  keysIn(state: OutboxState | undefined, limit: number): Promise<string[]>
  counts(): Promise<Record<OutboxState, number>>
  prune(before: number): Promise<number>
  getMeta(name: string): Promise<string | undefined>
  setMeta(name: string, value: string): Promise<void>
  deleteMeta(name: string): Promise<void>
  listMeta(prefix: string): Promise<Array<readonly [string, string]>>
  close(): Promise<void>
}

const MAX_DUE = 5_000

/**
 * Whether an entry already held gives way to a new one with its key: one silenced when no silence holds it any more
 * (it ended, or was lifted: the caller found none for the new one), or a sent one whose repeat is due.
 */
const replacement = (current: OutboxEntry, fresh: OutboxEntry, e: NewEntry, now: number): OutboxEntry | undefined => {
  if (current.state === 'silenced' && e.silencedUntil === undefined) return { ...fresh, repeats: current.repeats ?? 0 }
  if (
    e.rearmAfterMs !== undefined &&
    current.state === 'sent' &&
    (current.sentAt ?? current.createdAt) + e.rearmAfterMs <= now
  ) {
    const repeats = (current.repeats ?? 0) + 1
    const alert = fresh.alert === undefined ? undefined : { ...fresh.alert, id: `${fresh.alert.id}-r${repeats}` }
    return { ...fresh, repeats, ...(alert !== undefined ? { alert } : {}) }
  }
  return undefined
}

/** The outbox's rules over any EntryStore. */
export const createOutbox = (store: EntryStore): Outbox => {
  const present = (list: Array<OutboxEntry | undefined>): OutboxEntry[] =>
    list.filter((e): e is OutboxEntry => e !== undefined)
  const change = async (
    keys: readonly string[],
    next: (e: OutboxEntry) => OutboxEntry | undefined,
  ): Promise<string[]> => {
    const current = present(await store.getMany(keys))
    const changes = current.flatMap((expected) => {
      const n = next(expected)
      return n === undefined ? [] : [{ expected, next: n }]
    })
    return changes.length === 0 ? [] : store.swap(changes)
  }
  return {
    where: store.where,
    async add(entries, now) {
      const unique = [...new Map(entries.map((e) => [e.key, e])).values()]
      if (unique.length === 0) return []
      const current = await store.getMany(unique.map((e) => e.key))
      const inserts: OutboxEntry[] = []
      const swaps: Array<{ expected: OutboxEntry; next: OutboxEntry }> = []
      unique.forEach((e, i) => {
        const { rearmAfterMs: _rearm, silencedUntil, ...fields } = e
        const fresh: OutboxEntry =
          silencedUntil === undefined
            ? { ...fields, state: 'pending', createdAt: now, notBefore: e.notBefore ?? now, attempts: 0 }
            : { ...fields, state: 'silenced', createdAt: now, notBefore: silencedUntil, settledAt: now, attempts: 0 }
        const held = current[i]
        if (held === undefined) inserts.push(fresh)
        else {
          const next = replacement(held, fresh, e, now)
          if (next !== undefined) swaps.push({ expected: held, next })
        }
      })
      const added = inserts.length > 0 ? await store.insert(inserts) : []
      const rearmed = swaps.length > 0 ? await store.swap(swaps) : []
      return [...added, ...rearmed]
    },
    async due(now) {
      // The due index holds what is due by time; a claim whose process died on this machine is due at once.
      const byTime = await store.dueKeys(now, MAX_DUE)
      const sending = await store.keysIn('sending', MAX_DUE)
      const keys = [...new Set([...byTime, ...sending])]
      return present(await store.getMany(keys)).filter((e) => isDue(e, now, holderGoneOnThisHost))
    },
    async claim(keys, now, leaseUntil, messageId) {
      const taken = new Set(
        await change(keys, (e) =>
          isDue(e, now, holderGoneOnThisHost)
            ? { ...e, state: 'sending', leaseUntil, claimedBy: HOLDER, messageId, attempts: e.attempts + 1 }
            : undefined,
        ),
      )
      return present(await store.getMany([...taken]))
    },
    async settle(claimed, result) {
      const claims = new Map(claimed.map((c) => [c.key, c]))
      const stillOurs = (e: OutboxEntry): boolean => {
        const c = claims.get(e.key)
        return e.state === 'sending' && c !== undefined && e.leaseUntil === c.leaseUntil && e.claimedBy === c.claimedBy
      }
      await change([...claims.keys()], (e) => (stillOurs(e) ? settled(e, result) : undefined))
    },
    async list({ state, limit }) {
      // A limit of 0 asks for the counts only (/health, a run's summary): no listing is read.
      const [counts, keys] = await Promise.all([store.counts(), limit > 0 ? store.keysIn(state, limit) : []])
      return { counts, entries: present(await store.getMany(keys)) }
    },
    get: async (key) => (await store.getMany([key]))[0],
    meta: (name) => store.getMeta(name),
    setMeta: (name, value) => store.setMeta(name, value),
    deleteMeta: (name) => store.deleteMeta(name),
    listMeta: (prefix) => store.listMeta(prefix),
    prune: (before) => store.prune(before),
    close: () => store.close(),
  }
}
