/**
 * How the shared Redis persists, as the server says (CONFIG GET appendonly, save): what the alert outbox's durability
 * and the status page's warning are worked out from. A server that refuses CONFIG (a managed Redis may) is said to
 * be unknown, never assumed durable.
 */
import type { SharedStore } from './store.js'

export type RedisPersistence = { readonly appendonly: boolean; readonly save: string } | { readonly unknown: string }

export const readRedisPersistence = async (store: SharedStore): Promise<RedisPersistence> => {
  try {
    const [, appendonly] = (await store.run('config_get', (r) => r.config('GET', 'appendonly'))) as string[]
    const [, save] = (await store.run('config_get', (r) => r.config('GET', 'save'))) as string[]
    return { appendonly: appendonly === 'yes', save: save ?? '' }
  } catch (err) {
    return { unknown: `CONFIG GET: ${(err as Error).message.slice(0, 120)}` }
  }
}
