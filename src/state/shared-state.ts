/**
 * The state one app instance keeps beyond a request: vendor quotas, open circuits, write-back locks (and, in the
 * enrichment system, the finding cache). With REDIS_URL, all of it is shared by every replica through one Redis;
 * without it, in this process. Made once per app by buildApp (no module-level state), closed with the app.
 */
import { localBreakerBus, sharedBreakerBus, type BreakerBus } from './breaker-bus.js'
import { FallbackQuota } from './fallback-quota.js'
import { MemoryLocks, SharedLocks, type Locks } from './locks.js'
import { MemoryQuota, type Quota } from './quota.js'
import { RedisQuota } from './redis-quota.js'
import type { SharedStore, StoreState } from './store.js'

export interface SharedStateSettings {
  readonly redisUrl: string | undefined
  readonly redisPrefix: string
  readonly replicas: number
}

export interface SharedState {
  /** The Redis store, when REDIS_URL is set. */
  readonly store: SharedStore | undefined
  readonly quota: Quota
  readonly breakerBus: BreakerBus
  readonly locks: Locks
  /** For /health: off (in process), ready, or degraded (Redis unreachable: in-process fallbacks in use). */
  state(): StoreState | { readonly status: 'off' }
  close(): Promise<void>
}

export const createSharedState = async (
  settings: SharedStateSettings,
  onError: (operation: string) => void,
): Promise<SharedState> => {
  if (settings.redisUrl === undefined) {
    return {
      store: undefined,
      quota: new MemoryQuota(),
      breakerBus: localBreakerBus,
      locks: new MemoryLocks(),
      state: () => ({ status: 'off' }),
      close: () => Promise.resolve(),
    }
  }
  // Loaded only when Redis is used: a single instance does not pay for the client at start-up.
  const { SharedStore } = await import('./store.js')
  const store = new SharedStore({ url: settings.redisUrl, prefix: settings.redisPrefix, onError })
  return {
    store,
    quota: new FallbackQuota(new RedisQuota(store), settings.replicas),
    breakerBus: sharedBreakerBus(store),
    locks: new SharedLocks(store),
    state: () => store.state(),
    close: () => store.close(),
  }
}
