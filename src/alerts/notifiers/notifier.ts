/** What every notifier is: it delivers one formatted message to one destination and says what the third party said. */
import type { Destination, DeliveryOutcome } from '../types.js'

export interface Notifier<M> {
  /** Its name in logs and metrics (never a secret). */
  readonly id: string
  deliver(
    destination: Destination,
    message: M,
    options: { readonly idempotencyKey: string; readonly signal?: AbortSignal },
  ): Promise<DeliveryOutcome>
  close(): Promise<void>
}

/** Notifiers' HTTP calls: one attempt (the outbox owns retries), short timeouts. */
export const NOTIFIER_HTTP = {
  retry: { limit: 0 },
  timeouts: { connectMs: 5_000, responseMs: 10_000, totalMs: 15_000 },
  // A circuit stops hammering a dead endpoint; its skips come back as retries.
  breaker: { failureThreshold: 5, coolDownMs: 30_000 },
  proxyScope: 'external',
  countAs: 'notifier',
  maxResponseBytes: 256 * 1024,
} as const

/** Statuses read as answers (classified by delivery-kind.ts), not thrown as failures. */
export const ALL_STATUSES: readonly number[] = Array.from({ length: 500 }, (_, i) => i + 100)
