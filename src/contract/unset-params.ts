/**
 * What a playbook sends for an input it leaves unset: `""`, the text `<null>` (tcex renders an unset variable
 * embedded in text that way), or `null` (JSON's, or the word). Each means "not set" for every param: the key is
 * dropped before validation, so an optional param takes its default and a required one is reported missing, rather
 * than `<null>` being read as a profile name or an API key.
 */
const UNSET = new Set(['', '<null>', 'null'])

const isUnset = (value: unknown): boolean => value === null || (typeof value === 'string' && UNSET.has(value.trim()))

/** The body without its unset params; the same object when it has none (a /run pays nothing for the check). */
export const withoutUnsetParams = (body: unknown): unknown => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body
  const entries = Object.entries(body as Record<string, unknown>)
  if (!entries.some(([, v]) => isUnset(v))) return body
  return Object.fromEntries(entries.filter(([, v]) => !isUnset(v)))
}
