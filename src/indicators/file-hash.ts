import { type Check, fail, pass, quote } from './check.js'

/** Hash lengths in hex characters: MD5, SHA-1, SHA-256, SHA-512. */
const HASH_LENGTHS = [32, 40, 64, 128]
const HEX = /^[0-9a-f]+$/i

const EXPECTED = 'expected a hex MD5 (32), SHA-1 (40), SHA-256 (64) or SHA-512 (128) hash'

export const checkFileHash = (text: string): Check => {
  if (!HEX.test(text)) {
    const bad = [...text].find((ch) => !/[0-9a-f]/i.test(ch)) ?? ''
    return fail(`${EXPECTED}; ${quote(bad)} is not a hex digit`)
  }
  if (!HASH_LENGTHS.includes(text.length)) return fail(`${EXPECTED}; got ${text.length} hex digits`)
  return pass(text.toLowerCase())
}
