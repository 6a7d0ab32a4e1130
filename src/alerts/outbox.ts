/**
 * The durable outbox every alert goes through: one entry per dedup key, ever (a key seen again is not added again),
 * moving pending -> sending -> sent | failed (will be retried) | dead (will not). Two engines behind one interface:
 * a JSON file (one process; src/alerts/outbox-file.ts) and Redis (replicas; src/alerts/outbox-redis.ts).
 *
 * At-least-once: an entry is claimed (`sending`, with a lease) before the third party is called and recorded after it
 * answers. A crash between the two leaves it `sending`; once its lease passes it is sent again. That crash between the
 * third party's acceptance and the record is the one way a message can go out twice.
 */
import { hostname } from 'node:os'
import { processAlive } from '../util/process-alive.js'
import type { DeliveryOutcome, OutboxEntry, OutboxState } from './types.js'

export type NewEntry = Pick<OutboxEntry, 'key' | 'destination'> &
  Partial<Pick<OutboxEntry, 'alert' | 'email' | 'notBefore'>>

interface OutboxListing {
  readonly counts: Readonly<Record<OutboxState, number>>
  /** The newest entries first. */
  readonly entries: readonly OutboxEntry[]
}

export interface Outbox {
  /** Where it is kept, for messages. */
  readonly where: string
  /** Adds the entries whose keys it has never held; answers the keys it added. */
  add(entries: readonly NewEntry[], now: number): Promise<string[]>
  /** Entries that may be sent now: pending or failed with notBefore <= now, or sending with a lapsed lease. */
  due(now: number): Promise<OutboxEntry[]>
  /** Takes these keys for sending until `leaseUntil`; answers the entries it took (another worker may have some). */
  claim(keys: readonly string[], now: number, leaseUntil: number): Promise<OutboxEntry[]>
  /**
   * Records what the delivery of these claimed entries came to; only while the claim is still this one (same holder,
   * same lease): a worker whose lease lapsed and was taken over changes nothing.
   */
  settle(claimed: readonly OutboxEntry[], result: Settlement): Promise<void>
  list(options: { readonly state?: OutboxState; readonly limit: number }): Promise<OutboxListing>
  get(key: string): Promise<OutboxEntry | undefined>
  /** A service's checkpoint (the watchlist's last lastModified), kept with the outbox. */
  checkpoint(name: string): Promise<string | undefined>
  setCheckpoint(name: string, value: string): Promise<void>
  close(): Promise<void>
}

export type Settlement =
  | { readonly state: 'sent'; readonly at: number; readonly receipt: string; readonly groupSize: number }
  | { readonly state: 'failed'; readonly at: number; readonly reason: string; readonly notBefore: number }
  | { readonly state: 'dead'; readonly at: number; readonly reason: string }

/** Retry backoff: 30 s doubling to at most 1 h; past `maxAgeMs` from creation a transient failure is final (dead). */
export interface RetryPolicy {
  readonly baseMs: number
  readonly maxMs: number
  readonly maxAgeMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAgeMs: 24 * 3_600_000 }

/** What a delivery's outcome means for its entries: pure, so the policy is tested without a clock. */
export const settlementOf = (
  outcome: DeliveryOutcome,
  entry: Pick<OutboxEntry, 'attempts' | 'createdAt'>,
  now: number,
  policy: RetryPolicy,
  groupSize: number,
): Settlement => {
  if (outcome.outcome === 'sent') return { state: 'sent', at: now, receipt: outcome.receipt, groupSize }
  if (outcome.outcome === 'dead') return { state: 'dead', at: now, reason: outcome.reason }
  const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(entry.attempts, 20))
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

export const emptyCounts = (): Record<OutboxState, number> => ({ pending: 0, sending: 0, sent: 0, failed: 0, dead: 0 })

/** Applies a settlement to one entry (both engines share it). */
const settled = (entry: OutboxEntry, result: Settlement): OutboxEntry => {
  const { leaseUntil: _lease, claimedBy: _holder, ...rest } = entry
  switch (result.state) {
    case 'sent':
      return {
        ...rest,
        state: 'sent',
        attempts: entry.attempts + 1,
        sentAt: result.at,
        receipt: result.receipt,
        groupSize: result.groupSize,
      }
    case 'failed':
      return {
        ...rest,
        state: 'failed',
        attempts: entry.attempts + 1,
        lastError: result.reason,
        notBefore: result.notBefore,
      }
    case 'dead':
      return { ...rest, state: 'dead', attempts: entry.attempts + 1, lastError: result.reason }
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

/**
 * Where entries are kept: the little an engine must do. Every change is a compare-and-set against the entry as it was
 * read, so two workers (two replicas on one Redis) can never both claim or both settle one entry.
 */
export interface EntryStore {
  readonly where: string
  /** Inserts entries whose keys it never held; answers those inserted. */
  insert(entries: readonly OutboxEntry[]): Promise<string[]>
  getMany(keys: readonly string[]): Promise<Array<OutboxEntry | undefined>>
  /** Replaces each entry only if it is still exactly `expected`; answers the keys replaced. */
  swap(changes: ReadonlyArray<{ readonly expected: OutboxEntry; readonly next: OutboxEntry }>): Promise<string[]>
  /** Keys whose due time is <= now, at most `limit`. */
  dueKeys(now: number, limit: number): Promise<string[]>
  /** Keys in a state, newest first; and how many each state holds. */
  keysIn(state: OutboxState | undefined, limit: number): Promise<string[]>
  counts(): Promise<Record<OutboxState, number>>
  getMeta(name: string): Promise<string | undefined>
  setMeta(name: string, value: string): Promise<void>
  close(): Promise<void>
}

const MAX_DUE = 5_000

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
    add: (entries, now) =>
      store.insert(
        entries.map((e) => ({
          ...e,
          state: 'pending' as const,
          createdAt: now,
          notBefore: e.notBefore ?? now,
          attempts: 0,
        })),
      ),
    async due(now) {
      // The due index holds what is due by time; a claim whose process died on this machine is due at once.
      const byTime = await store.dueKeys(now, MAX_DUE)
      const sending = await store.keysIn('sending', MAX_DUE)
      const keys = [...new Set([...byTime, ...sending])]
      return present(await store.getMany(keys)).filter((e) => isDue(e, now, holderGoneOnThisHost))
    },
    async claim(keys, now, leaseUntil) {
      const taken = new Set(
        await change(keys, (e) =>
          isDue(e, now, holderGoneOnThisHost) ? { ...e, state: 'sending', leaseUntil, claimedBy: HOLDER } : undefined,
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
    checkpoint: (name) => store.getMeta(`checkpoint:${name}`),
    setCheckpoint: (name, value) => store.setMeta(`checkpoint:${name}`, value),
    close: () => store.close(),
  }
}
