/**
 * Writes requested playbook variables to the playbook's key-value store (Redis) as a native app does:
 * HSET <context> <full variable> <JSON value>. One short-lived connection per call; never throws, never hangs
 * (one deadline covers connect, write and close), and leaves no reconnect loop behind (the client's retry
 * strategy is off: a failed connection is reported, not retried).
 */
import type { createClient } from 'redis'

export interface WriteVariablesOptions {
  readonly host: string
  readonly port: number
  /** The hash the variables go into (tc_playbook_kvstore_context). */
  readonly context: string
  /** Full variable -> encoded value (see encodeValue); null values are not written. */
  readonly values: Readonly<Record<string, string | null>>
  /** The whole call's deadline: connect, HSET and close. */
  readonly timeoutMs: number
  /** Connecting alone; defaults to timeoutMs. */
  readonly connectTimeoutMs?: number
  /** Gives up early (e.g. the /run request was cancelled). */
  readonly signal?: AbortSignal
}

export type WriteVariablesResult = { readonly ok: true; readonly written: number } | { readonly ok: false; readonly reason: string }

const endpoint = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`

/** The most telling short text of a connection or command error: a system code (ECONNREFUSED) when there is one. */
export const describeRedisError = (err: unknown): string => {
  if (err instanceof AggregateError) {
    // Node tries each address of a name in turn; they usually fail the same way.
    const codes = [...new Set(err.errors.map(describeRedisError))]
    if (codes.length > 0) return codes.join(', ')
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    if (typeof code === 'string' && code !== '') return code
    if (err.message !== '') return err.message
    return err.name
  }
  return String(err)
}

class Deadline extends Error {}

export const writeVariables = async (options: WriteVariablesOptions): Promise<WriteVariablesResult> => {
  const { host, port, context, timeoutMs } = options
  const where = `key-value store at ${endpoint(host, port)}`
  const fields = Object.entries(options.values).filter((e): e is [string, string] => e[1] !== null && e[1] !== undefined)
  // Nothing to write: no connection at all.
  if (fields.length === 0) return { ok: true, written: 0 }
  if (options.signal?.aborted) return { ok: false, reason: `${where}: not written, cancelled` }

  let client: ReturnType<typeof createClient>
  try {
    // Loaded on first use: most services never write to a KV store, and the client costs ~150 ms of start-up.
    const { createClient } = await import('redis')
    client = createClient({
      socket: { host, port, connectTimeout: options.connectTimeoutMs ?? timeoutMs, reconnectStrategy: false },
      // Commands fail at once when there is no connection instead of queueing for one that will not come.
      disableOfflineQueue: true,
    })
  } catch (err) {
    return { ok: false, reason: `${where} unusable: ${describeRedisError(err)}` }
  }
  // The client reports connection trouble as 'error' events too; without a listener they would crash the process.
  // The promise rejections below carry the same errors, so nothing is lost.
  client.on('error', () => {})
  // Tells "nothing listens there" from "something listens but does not answer the handshake".
  let connected = false
  client.on('connect', () => {
    connected = true
  })

  let phase: 'connect' | 'write' | 'close' = 'connect'
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Deadline(`no answer within ${timeoutMs} ms`)), timeoutMs)
    onAbort = () => reject(new Deadline('cancelled'))
    options.signal?.addEventListener('abort', onAbort, { once: true })
  })
  stop.catch(() => {})

  try {
    await Promise.race([client.connect(), stop])
    phase = 'write'
    await Promise.race([client.hSet(context, Object.fromEntries(fields)), stop])
    phase = 'close'
    await Promise.race([client.close(), stop])
    return { ok: true, written: fields.length }
  } catch (err) {
    const why = describeRedisError(err)
    if (phase === 'connect') return { ok: false, reason: connected ? `${where} is not answering: ${why}` : `${where} unreachable: ${why}` }
    if (phase === 'write') return { ok: false, reason: `${where}: HSET ${context} failed: ${why}` }
    // The values were written; only the goodbye went wrong.
    return { ok: true, written: fields.length }
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort)
    // Drops the socket and rejects anything still pending, so nothing outlives the call.
    try {
      client.destroy()
    } catch {
      // Already torn down.
    }
  }
}
