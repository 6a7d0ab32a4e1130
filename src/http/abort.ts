/** The caller's AbortSignal, honoured the same way in every wait: it becomes SourceError('cancelled'). */
import { setTimeout as sleep } from 'node:timers/promises'
import { SourceError } from '../errors.js'

export const cancelledError = (signal: AbortSignal | undefined): SourceError => {
  const reason: unknown = signal?.reason
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'the caller aborted'
  return new SourceError('cancelled', `cancelled: ${why}`)
}

/** Resolves after `ms`, or rejects with SourceError('cancelled') as soon as `signal` aborts. */
export const abortableDelay = async (ms: number, signal: AbortSignal | undefined): Promise<void> => {
  try {
    await sleep(Math.max(0, ms), undefined, signal === undefined ? undefined : { signal })
  } catch (err) {
    if (signal?.aborted) throw cancelledError(signal)
    throw err
  }
}
