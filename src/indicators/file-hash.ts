/**
 * File hashes: one hex hash, or ThreatConnect's File summary `md5 : sha1 : sha256` (what a playbook's File
 * indicator renders as, tcex's expand_indicators): each part a hash of another kind. The strongest names the
 * indicator; every one is kept, so each source looks up the hash it takes.
 */
import { type Check, fail, pass, quote } from './check.js'

export type HashKind = 'md5' | 'sha1' | 'sha256' | 'sha512'
/** Hash lengths in hex characters. */
const KIND_BY_LENGTH: Readonly<Record<number, HashKind>> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' }
/** Weakest to strongest. */
const STRENGTH: readonly HashKind[] = ['md5', 'sha1', 'sha256', 'sha512']
const HEX = /^[0-9a-f]+$/i

/** The hashes of one File indicator, by kind (lower case). */
export type FileHashes = Readonly<Partial<Record<HashKind, string>>>

const EXPECTED =
  'expected a hex MD5 (32), SHA-1 (40), SHA-256 (64) or SHA-512 (128) hash, or a summary "md5 : sha1 : sha256"'

export const hashKindOf = (hash: string): HashKind | undefined =>
  HEX.test(hash) ? KIND_BY_LENGTH[hash.length] : undefined

const checkOne = (text: string): Check => {
  if (!HEX.test(text)) {
    const bad = [...text].find((ch) => !/[0-9a-f]/i.test(ch)) ?? ''
    return fail(`${EXPECTED}; ${quote(bad)} is not a hex digit`)
  }
  if (hashKindOf(text) === undefined) return fail(`${EXPECTED}; got ${text.length} hex digits`)
  return pass(text.toLowerCase())
}

/** A summary's parts, each checked, at most one of each kind; undefined when the text is not a summary. */
export const parseFileSummary = (
  text: string,
): { readonly hashes: FileHashes; readonly strongest: string } | { readonly why: string } | undefined => {
  if (!text.includes(':')) return undefined
  const parts = text.split(':').map((p) => p.trim())
  const hashes: Partial<Record<HashKind, string>> = {}
  for (const part of parts) {
    if (part === '') continue
    const check = checkOne(part)
    if (!check.ok) return { why: `in the File summary ${quote(text)}: ${check.why}` }
    const kind = hashKindOf(check.value) as HashKind
    if (hashes[kind] !== undefined && hashes[kind] !== check.value)
      return { why: `the File summary ${quote(text)} has two different ${kind} hashes` }
    hashes[kind] = check.value
  }
  const strongest = [...STRENGTH].reverse().find((k) => hashes[k] !== undefined)
  if (strongest === undefined) return { why: `the File summary ${quote(text)} holds no hash` }
  return { hashes, strongest: hashes[strongest] as string }
}

export const checkFileHash = (text: string): Check => {
  const summary = parseFileSummary(text)
  if (summary === undefined) return checkOne(text)
  return 'why' in summary ? fail(summary.why) : pass(summary.strongest)
}

/** Every hash of a File indicator: those of its summary, or its one value. */
export const hashesOf = (value: string, hashes: FileHashes | undefined): FileHashes => {
  if (hashes !== undefined) return hashes
  const kind = hashKindOf(value)
  return kind === undefined ? {} : { [kind]: value.toLowerCase() }
}

/** The strongest of the indicator's hashes that `accepted` lists, or undefined when it has none of them. */
export const strongestOf = (
  hashes: FileHashes,
  accepted: readonly HashKind[],
): { readonly kind: HashKind; readonly hash: string } | undefined => {
  for (const kind of [...STRENGTH].reverse()) {
    const hash = hashes[kind]
    if (hash !== undefined && accepted.includes(kind)) return { kind, hash }
  }
  return undefined
}
