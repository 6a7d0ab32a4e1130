/**
 * Keeps API keys, tokens and passwords out of logs and error messages: secret-looking query parameters are
 * replaced in URLs, and the values of secret-looking headers/params/fields of a request are scrubbed from any
 * text the client writes about that request.
 */
import type { HttpRequest } from './types.js'

const REDACTED = '[redacted]'

/** Names like x-apikey, Key, Auth-Key, Authorization, api_token, client_secret, password, Cookie. */
const SECRET_NAME = /key|auth|token|secret|passw|pwd|cookie|session|signature|credential/i

export const isSecretName = (name: string): boolean => SECRET_NAME.test(name)

/** Shorter values would scrub ordinary text (a key of "1" is not worth mangling every "1" in a message). */
const MIN_SECRET_LENGTH = 4

/** The URL with secret-looking query values and any userinfo password replaced by "[redacted]". */
export const redactUrl = (url: URL | string): string => {
  const u = new URL(url.toString())
  if (u.password !== '') u.password = REDACTED
  for (const name of new Set(u.searchParams.keys())) {
    if (isSecretName(name)) u.searchParams.set(name, REDACTED)
  }
  // URLSearchParams percent-encodes the brackets; keep the marker readable.
  return u.toString().replace(/%5Bredacted%5D/gi, REDACTED)
}

/** An Authorization-style value "Scheme credentials" also yields the credentials alone. */
const withCredentialPart = (value: string): string[] => {
  const m = /^\s*[\w-]+\s+(\S.*)$/.exec(value)
  return m?.[1] !== undefined ? [value, m[1]] : [value]
}

/** Values of the request's secret-looking headers, query params, form fields and top-level JSON fields. */
export const secretValuesOf = (req: Pick<HttpRequest, 'headers' | 'searchParams' | 'form' | 'json'>): string[] => {
  const found: string[] = []
  const scan = (record: Readonly<Record<string, unknown>> | undefined): void => {
    for (const [name, value] of Object.entries(record ?? {})) {
      if (isSecretName(name) && (typeof value === 'string' || typeof value === 'number')) {
        found.push(...withCredentialPart(String(value)))
      }
    }
  }
  scan(req.headers)
  scan(req.searchParams)
  scan(req.form)
  if (req.json !== null && typeof req.json === 'object' && !Array.isArray(req.json)) {
    scan(req.json as Record<string, unknown>)
  }
  return found
}

/** Replaces every occurrence of each secret (as is, and percent-encoded) in `text` with "[redacted]". */
export class Scrubber {
  readonly #needles: readonly string[]

  constructor(secrets: Iterable<string>) {
    const needles = new Set<string>()
    for (const secret of secrets) {
      const trimmed = secret.trim()
      if (trimmed.length < MIN_SECRET_LENGTH) continue
      needles.add(trimmed)
      needles.add(encodeURIComponent(trimmed))
      needles.add(new URLSearchParams({ s: trimmed }).toString().slice(2))
    }
    // Longest first, so a key is not half-replaced by a shorter secret it contains.
    this.#needles = [...needles].sort((a, b) => b.length - a.length)
  }

  scrub(text: string): string {
    let out = text
    for (const needle of this.#needles) out = out.split(needle).join(REDACTED)
    return out
  }
}
