/** Maps items with at most `limit` calls in flight; results keep the input order. */
export const mapConcurrent = async <T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  // One item (a /run of one indicator, the usual case) needs no workers.
  if (items.length === 1) return [await fn(items[0] as T, 0)]
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker))
  return results
}
