/**
 * Checks a request's ThreatConnect credentials the way the platform does: an HMAC signature recomputed over the
 * raw path+query, method and Timestamp (at most 5 minutes off), or a TC-Token.
 */
import { timingSafeEqual } from 'node:crypto'
import { hmacSignature, stringToSign } from '../../src/platform/hmac.js'

export interface SandboxCredentials {
  readonly accessId?: string | undefined
  readonly secretKey?: string | undefined
  readonly token?: string | undefined
}

export const MAX_CLOCK_SKEW_SECONDS = 300

export type AuthCheck = { ok: true; user: string } | { ok: false; message: string }

const equalSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)

export const checkCredentials = (
  creds: SandboxCredentials,
  req: { method: string; rawUrl: string; headers: Readonly<Record<string, string | string[] | undefined>> },
  nowMs: number,
): AuthCheck => {
  const authorization = header(req.headers['authorization'])
  if (authorization === undefined || authorization === '') return { ok: false, message: 'No Authorization header' }

  const token = /^TC-Token\s+(.+)$/.exec(authorization)
  if (token) {
    return creds.token !== undefined && equalSecret(token[1] as string, creds.token)
      ? { ok: true, user: 'token user' }
      : { ok: false, message: 'Invalid or expired token' }
  }

  const hmac = /^TC\s+([^:\s]+):(\S+)$/.exec(authorization)
  if (!hmac) return { ok: false, message: 'Unsupported Authorization scheme' }
  const [, accessId, signature] = hmac as unknown as [string, string, string]
  if (creds.accessId === undefined || creds.secretKey === undefined || accessId !== creds.accessId) {
    return { ok: false, message: 'Unknown Access ID' }
  }
  const timestampText = header(req.headers['timestamp'])
  if (timestampText === undefined || !/^\d+$/.test(timestampText))
    return { ok: false, message: 'Missing or invalid Timestamp header' }
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestampText)) > MAX_CLOCK_SKEW_SECONDS) {
    return { ok: false, message: 'Timestamp is more than 5 minutes from the server clock' }
  }
  const expected = hmacSignature(creds.secretKey, stringToSign(req.rawUrl, req.method, Number(timestampText)))
  return equalSecret(signature, expected)
    ? { ok: true, user: accessId }
    : { ok: false, message: 'Signature does not match the request' }
}
