/**
 * How replicas tell each other a vendor's circuit opened: the one that opens it announces how long; the others hold
 * theirs open as long, so they skip at once instead of each spending its own failures on a vendor that is down.
 * In one process there is nobody to tell (localBreakerBus); with Redis it is a pub/sub channel.
 */
import type { SharedStore } from './store.js'

export interface BreakerBus {
  announce(sourceId: string, openMs: number): void
  /** `hold` is called when ANOTHER replica opened `sourceId`'s circuit. */
  listen(sourceId: string, hold: (openMs: number) => void): void
}

export const localBreakerBus: BreakerBus = { announce: () => undefined, listen: () => undefined }

const CHANNEL = 'circuit-open'

interface Announcement {
  readonly from: string
  readonly source: string
  readonly openMs: number
}

export const sharedBreakerBus = (store: SharedStore): BreakerBus => {
  const listeners = new Map<string, ((openMs: number) => void)[]>()
  let subscribed = false
  return {
    announce(sourceId, openMs) {
      const message: Announcement = { from: store.instanceId, source: sourceId, openMs }
      // Not reaching Redis only means the others find out by themselves.
      store.publish(CHANNEL, JSON.stringify(message)).catch(() => undefined)
    },
    listen(sourceId, hold) {
      listeners.set(sourceId, [...(listeners.get(sourceId) ?? []), hold])
      if (subscribed) return
      subscribed = true
      store.subscribe(CHANNEL, (text) => {
        try {
          const m = JSON.parse(text) as Announcement
          if (m.from === store.instanceId || typeof m.openMs !== 'number') return
          for (const h of listeners.get(m.source) ?? []) h(m.openMs)
        } catch {
          // Not an announcement of ours: ignored.
        }
      })
    },
  }
}
