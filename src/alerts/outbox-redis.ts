/**
 * The outbox in Redis (REDIS_URL), shared by every replica. Each entry is a JSON string under its dedup key; a sorted
 * set orders what is due (score: notBefore, or a claim's lease end), and one sorted set per state lists entries newest
 * first (score: when it became final, else when it was raised). Every change is a compare-and-set in one Lua script,
 * so two replicas can never both claim one entry. Final entries are deleted ALERTS_RETENTION after they became final
 * (prune). Named values (checkpoints, silences) are one hash.
 *
 * Redis keeps all of it in memory: without an append-only file a Redis restart loses what was acknowledged and what
 * was sent (so it is sent again). `redisDurability` reads how the server persists, for /health and the log.
 */
import { readRedisPersistence } from '../state/persistence.js'
import type { SharedStore } from '../state/store.js'
import { emptyCounts, dueAt, FINAL_STATES, orderAt, type EntryStore } from './outbox.js'
import { OUTBOX_STATES, type OutboxEntry, type OutboxState } from './types.js'

/**
 * KEYS: due, meta prefix unused; ARGV: entry-key prefix, state-set prefix, then (key, expected|'', next, due|'', state,
 * score) groups.
 */
const SWAP = `
local out = {}
local n = (#ARGV - 2) / 6
for i = 0, n - 1 do
  local key, expected, nextv, due, state, score = ARGV[3 + i*6], ARGV[4 + i*6], ARGV[5 + i*6], ARGV[6 + i*6], ARGV[7 + i*6], ARGV[8 + i*6]
  local ek = ARGV[1] .. key
  local current = redis.call('GET', ek)
  local ok
  if expected == '' then ok = (current == false) else ok = (current == expected) end
  if ok then
    redis.call('SET', ek, nextv)
    if due == '' then redis.call('ZREM', KEYS[1], key) else redis.call('ZADD', KEYS[1], tonumber(due), key) end
    for _, s in ipairs({'pending', 'sending', 'sent', 'failed', 'dead', 'silenced'}) do
      if s ~= state then redis.call('ZREM', ARGV[2] .. s, key) end
    end
    redis.call('ZADD', ARGV[2] .. state, tonumber(score), key)
    table.insert(out, key)
  end
end
return out
`

/** KEYS: the state set; ARGV: entry-key prefix, before, limit. Deletes the entries the set lists up to `before`. */
const PRUNE = `
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, key in ipairs(keys) do
  redis.call('DEL', ARGV[1] .. key)
  redis.call('ZREM', KEYS[1], key)
end
return #keys
`

export interface Durability {
  readonly durable: boolean
  /** How the server persists, in a line (what /health and the log say). */
  readonly detail: string
}

/**
 * Whether acknowledged alerts survive a Redis restart: only with the append-only file (`appendonly yes`); RDB
 * snapshots alone (`save …`, the default) lose what came since the last one. A server that refuses CONFIG (a managed
 * Redis may) is said to be unknown, not assumed durable.
 */
export const redisDurability = async (store: SharedStore): Promise<Durability> => {
  const p = await readRedisPersistence(store)
  if ('unknown' in p)
    return {
      durable: false,
      detail: `Redis persistence could not be read (${p.unknown}); make sure appendonly is yes (docs/alerts.md, "Redis")`,
    }
  if (p.appendonly) return { durable: true, detail: 'Redis keeps an append-only file (appendonly yes)' }
  return {
    durable: false,
    detail:
      p.save !== ''
        ? `Redis has no append-only file (appendonly no; snapshots only, save "${p.save}"): a Redis restart loses the alerts acknowledged since the last snapshot and what was sent (sent again). Set appendonly yes (docs/alerts.md, "Redis")`
        : 'Redis persists nothing (appendonly no, no save): a Redis restart loses every alert in the outbox. Set appendonly yes (docs/alerts.md, "Redis")',
  }
}

const PRUNE_BATCH = 1_000

export const openRedisEntryStore = (store: SharedStore): EntryStore => {
  const entryPrefix = store.key('alerts', 'entry', '')
  const statePrefix = store.key('alerts', 'state', '')
  const dueKey = store.key('alerts', 'due')
  const metaKey = store.key('alerts', 'meta')
  // Every command through the store, so a failing Redis is counted (enrich_shared_store_errors_total) and shown.
  const run = store.run.bind(store)
  const parse = (raw: string | null): OutboxEntry | undefined =>
    raw === null ? undefined : (JSON.parse(raw) as OutboxEntry)
  // What was read, byte for byte: the compare-and-set compares against it.
  const readAs = new WeakMap<OutboxEntry, string>()

  const write = async (
    groups: ReadonlyArray<{ readonly expected: string; readonly next: OutboxEntry }>,
  ): Promise<string[]> => {
    if (groups.length === 0) return []
    const args = groups.flatMap(({ expected, next }) => {
      const due = dueAt(next)
      return [
        next.key,
        expected,
        JSON.stringify(next),
        due === undefined ? '' : String(due),
        next.state,
        String(orderAt(next)),
      ]
    })
    return (await store.eval(SWAP, [dueKey], [entryPrefix, statePrefix, ...args])) as string[]
  }

  const getMany = async (keys: readonly string[]): Promise<Array<OutboxEntry | undefined>> => {
    if (keys.length === 0) return []
    const raws = await run('outbox_mget', (r) => r.mget(...keys.map((k) => entryPrefix + k)))
    return raws.map((raw) => {
      const e = parse(raw)
      if (e !== undefined && raw !== null) readAs.set(e, raw)
      return e
    })
  }

  return {
    where: `redis ${store.key('alerts')}`,
    insert: (entries) => write(entries.map((next) => ({ expected: '', next }))),
    getMany,
    swap: (changes) =>
      write(
        changes.map(({ expected, next }) => {
          const raw = readAs.get(expected)
          if (raw === undefined) throw new Error('outbox: an entry changed that was not read from Redis')
          return { expected: raw, next }
        }),
      ),
    dueKeys: (now, limit) => run('outbox_due', (r) => r.zrangebyscore(dueKey, '-inf', String(now), 'LIMIT', 0, limit)),
    keysIn: async (state: OutboxState | undefined, limit) => {
      if (state !== undefined) return run('outbox_list', (r) => r.zrevrange(statePrefix + state, 0, limit - 1))
      const all = await Promise.all(
        OUTBOX_STATES.map((s) => run('outbox_list', (r) => r.zrevrange(statePrefix + s, 0, limit - 1, 'WITHSCORES'))),
      )
      const scored: Array<[string, number]> = []
      for (const list of all)
        for (let i = 0; i < list.length; i += 2) scored.push([list[i] as string, Number(list[i + 1])])
      return scored
        .sort((a, b) => b[1] - a[1])
        .slice(0, limit)
        .map(([k]) => k)
    },
    async counts() {
      const counts = emptyCounts()
      const sizes = await Promise.all(OUTBOX_STATES.map((s) => run('outbox_counts', (r) => r.zcard(statePrefix + s))))
      OUTBOX_STATES.forEach((s, i) => (counts[s] = sizes[i] ?? 0))
      return counts
    },
    async prune(before) {
      let pruned = 0
      for (const state of FINAL_STATES) {
        for (;;) {
          const n = (await store.eval(
            PRUNE,
            [statePrefix + state],
            [entryPrefix, String(before), String(PRUNE_BATCH)],
          )) as number
          pruned += n
          if (n < PRUNE_BATCH) break
        }
      }
      return pruned
    },
    getMeta: async (name) => (await run('outbox_meta', (r) => r.hget(metaKey, name))) ?? undefined,
    async setMeta(name, value) {
      await run('outbox_meta', (r) => r.hset(metaKey, name, value))
    },
    async deleteMeta(name) {
      await run('outbox_meta', (r) => r.hdel(metaKey, name))
    },
    async listMeta(prefix) {
      const all = await run('outbox_meta', (r) => r.hgetall(metaKey))
      return Object.entries(all)
        .filter(([name]) => name.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : 1))
    },
    close: () => Promise.resolve(),
  }
}
