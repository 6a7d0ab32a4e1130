/**
 * A Uint32Array with room for at least `atLeast` items, its contents kept (doubling, so appends stay amortised O(1)).
 */
export const grow = (arr: Uint32Array, atLeast: number): Uint32Array<ArrayBuffer> => {
  const bigger = new Uint32Array(Math.max(atLeast, arr.length * 2))
  bigger.set(arr)
  return bigger
}
