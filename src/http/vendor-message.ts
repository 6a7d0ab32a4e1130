/** A short human snippet of a vendor's error body, for SourceError messages (e.g. "Daily rate limit ... exceeded"). */

const MAX_SNIPPET = 160
const MESSAGE_FIELDS = [
  'message',
  'detail',
  'error_description',
  'error',
  'errors',
  'msg',
  'title',
  'verbose_msg',
  'query_status',
]

const clip = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > MAX_SNIPPET ? `${flat.slice(0, MAX_SNIPPET - 1)}…` : flat
}

const messageIn = (value: unknown, depth: number): string | undefined => {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value
  if (depth > 2 || value === null || typeof value !== 'object') return undefined
  if (Array.isArray(value)) return value.length > 0 ? messageIn(value[0], depth + 1) : undefined
  const record = value as Record<string, unknown>
  for (const field of MESSAGE_FIELDS) {
    const found = messageIn(record[field], depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/** The vendor's own error message when the body is JSON carrying one, else undefined. */
export const vendorErrorSnippet = (body: Buffer): string | undefined => {
  if (body.length === 0) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  const message = messageIn(parsed, 0)
  return message === undefined ? undefined : clip(message)
}
