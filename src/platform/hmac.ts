/**
 * ThreatConnect API authentication headers: HMAC (API user Access ID + Secret Key) or a TC-Token.
 * The signature covers the exact path and query that go on the wire, so callers must sign what they send.
 */
import { createHmac } from 'node:crypto'
import type { PlatformCredentials } from '../config/platform.js'

export interface SignRequestInput {
  readonly accessId: string
  readonly secretKey: string
  /** Path plus percent-encoded query exactly as sent, e.g. `/api/v3/indicators?tql=summary%20EQ%20%228.8.8.8%22`. */
  readonly pathWithQuery: string
  readonly method: string
  /** Unix time in whole seconds. */
  readonly timestamp: number
}

export interface AuthHeaders {
  readonly Authorization: string
  readonly Timestamp?: string
}

/** `<path with encoded query>:<METHOD>:<unix seconds>` */
export const stringToSign = (pathWithQuery: string, method: string, timestamp: number): string =>
  `${pathWithQuery}:${method.toUpperCase()}:${timestamp}`

export const hmacSignature = (secretKey: string, message: string): string =>
  createHmac('sha256', secretKey).update(message, 'utf8').digest('base64')

export const signRequest = (input: SignRequestInput): { Authorization: string; Timestamp: string } => {
  const timestamp = Math.floor(input.timestamp)
  const signature = hmacSignature(input.secretKey, stringToSign(input.pathWithQuery, input.method, timestamp))
  return { Authorization: `TC ${input.accessId}:${signature}`, Timestamp: String(timestamp) }
}

export const tokenHeaders = (token: string): { Authorization: string } => ({ Authorization: `TC-Token ${token}` })

export type { PlatformCredentials } from '../config/platform.js'

/** Headers for one request. HMAC credentials are chosen over a token when both exist (see settings.ts). */
export const authHeaders = (
  credentials: PlatformCredentials,
  pathWithQuery: string,
  method: string,
  nowMs: number,
): AuthHeaders =>
  credentials.kind === 'hmac'
    ? signRequest({
        accessId: credentials.accessId,
        secretKey: credentials.secretKey,
        pathWithQuery,
        method,
        timestamp: Math.floor(nowMs / 1000),
      })
    : tokenHeaders(credentials.token)
