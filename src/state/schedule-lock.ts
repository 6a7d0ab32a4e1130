/**
 * One scheduled run per tick across replicas. Every replica's cron fires at the same tick; the first to take the tick
 * runs it, the others skip it. The tick stays taken for a day (a replica whose clock is a little late cannot run it
 * again), and while a run goes on it holds the schedule's lease (renewed every third of it), so a replica whose next
 * tick comes while another still runs skips that tick too. Each run gets a fence, a number that only grows: before a
 * run commits anything it checks it still holds the lease under its own fence, so a run that lost its lease (a long
 * pause, a partition) and was overtaken writes nothing more. Without Redis, one process: every tick is taken.
 */
import { hostname } from 'node:os'
import type { SharedStore } from './store.js'

interface TickLease {
  /** This run's fence: higher than any run of this schedule before it. */
  readonly fence: number
  /** Throws when this run no longer holds the schedule (its lease lapsed, another run took over): write nothing. */
  assertHeld(): Promise<void>
  /** The run ended: the lease goes (the tick stays taken). */
  finish(): Promise<void>
}

export interface ScheduleLock {
  /** The tick's lease, or why not: another replica took this tick, or still runs an earlier one. */
  acquire(name: string, tick: string): Promise<TickLease | { readonly skipped: string }>
}

export class LeaseLost extends Error {
  constructor(name: string, fence: number) {
    super(`the ${name} run (fence ${fence}) lost its lease to another replica; it writes nothing more`)
    this.name = 'LeaseLost'
  }
}

const TICK_KEPT_MS = 24 * 3_600_000

/**
 * KEYS: tick, running, fence; ARGV: holder, lease ms, tick kept ms. Answers the fence, or 'taken' / 'busy' (a tick that
 * comes while a run goes on is skipped by every replica, not run late by one).
 */
const ACQUIRE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[3]) then return 'taken' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'busy' end
local fence = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. fence, 'PX', ARGV[2])
return fence
`
/** KEYS: running; ARGV: holder|fence, lease ms. 1 while held (and renewed). */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`

export const redisScheduleLock = (store: SharedStore, options: { readonly leaseMs?: number } = {}): ScheduleLock => {
  const leaseMs = options.leaseMs ?? 60_000
  const holder = `${hostname()}:${process.pid}`
  return {
    async acquire(name, tick) {
      const running = store.key('schedule', name, 'running')
      const answer = await store.eval(
        ACQUIRE,
        [store.key('schedule', name, 'tick', tick), running, store.key('schedule', name, 'fence')],
        [holder, String(leaseMs), String(TICK_KEPT_MS)],
      )
      if (answer === 'taken') return { skipped: `tick ${tick} was taken by another replica` }
      if (answer === 'busy') return { skipped: `another replica still runs an earlier tick of ${name}` }
      const fence = Number(answer)
      const mine = `${holder}|${fence}`
      const held = async (): Promise<boolean> => (await store.eval(RENEW, [running], [mine, String(leaseMs)])) === 1
      const renewal = setInterval(() => void held().catch(() => undefined), Math.max(1_000, leaseMs / 3))
      renewal.unref()
      return {
        fence,
        async assertHeld() {
          if (!(await held())) throw new LeaseLost(name, fence)
        },
        async finish() {
          clearInterval(renewal)
          await store.eval(RELEASE, [running], [mine]).catch(() => undefined)
        },
      }
    },
  }
}

/** One process: every tick is its own (the cron's own protection skips a tick while a run goes on). */
export const processScheduleLock = (): ScheduleLock => {
  let fence = 0
  return {
    acquire: async () => ({ fence: ++fence, assertHeld: async () => undefined, finish: async () => undefined }),
  }
}
