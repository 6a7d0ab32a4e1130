/** The caller's AbortSignal, honoured the same way in every wait: it becomes SourceError('cancelled'). */
import { SourceError } from '../errors.js'

export const cancelledError = (signal: AbortSignal | undefined): SourceError => {
  const reason: unknown = signal?.reason
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'the caller aborted'
  return new SourceError('cancelled', `cancelled: ${why}`)
}

/** Resolves after `ms`, or rejects with SourceError('cancelled') as soon as `signal` aborts. */
export const abortableDelay = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelledError(signal))
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(cancelledError(signal))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, Math.max(0, ms))
    signal?.addEventListener('abort', onAbort, { once: true })
  })
