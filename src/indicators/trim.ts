/**
 * Trimming that also drops zero-width characters (copy-paste from reports and chat often carries them).
 * A plain loop rather than a regex: an anchored `\s+$` backtracks quadratically on long inner runs of spaces.
 */
const ZERO_WIDTH = new Set([0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff])

const isTrimmable = (code: number): boolean => ZERO_WIDTH.has(code) || /\s/.test(String.fromCharCode(code))

export const trimIndicator = (text: string): string => {
  let start = 0
  let end = text.length
  while (start < end && isTrimmable(text.charCodeAt(start))) start++
  while (end > start && isTrimmable(text.charCodeAt(end - 1))) end--
  return text.slice(start, end)
}
