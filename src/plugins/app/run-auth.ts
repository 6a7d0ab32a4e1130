/**
 * Optional bearer auth for a group of routes (/run with RUN_TOKEN): `Authorization: Bearer <token>` is required.
 * Compared in constant time over SHA-256 digests (equal lengths whatever the caller sends). Health stays open.
 *
 * Failed authentications are limited per client address (AUTH_FAILURE_LIMIT), not per token: a guesser sending a
 * new token each time is one address. Failures are counted in the shared quota (every replica together when
 * REDIS_URL is set); once an address is over, this replica answers every call from it 429 with Retry-After until
 * the window frees up, whatever token it sends, so a right guess cannot be told from a wrong one meanwhile. The
 * block is checked in process: a /run costs no store round trip for it.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { AppError } from '../../errors.js'
import { formatRateLimit, type RateLimit } from '../../config/rate-limit.js'
import type { Quota } from '../../state/quota.js'

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** Addresses remembered as blocked; a flood of distinct addresses forgets the oldest, never grows without bound. */
const MAX_BLOCKED = 10_000

export interface BearerAuthOptions {
  readonly token: string | undefined
  /** The env variable that sets it, for messages. */
  readonly setting: string
  /** Failed authentications allowed per client address and window; undefined: no limit. */
  readonly failureLimit: RateLimit | undefined
  readonly quota: Quota
  /** Wall-clock ms (tests move it). */
  readonly now?: () => number
}

/** The routes' onRequest hooks: none without a token (a hook that does nothing still costs a promise a request). */
export const makeBearerAuth = (options: BearerAuthOptions): onRequestAsyncHookHandler[] => {
  const { token, failureLimit, quota } = options
  if (token === undefined) return []
  const now = options.now ?? Date.now
  const expected = digest(token)
  const blockedUntil = new Map<string, number>()

  const refuse = (reply: FastifyReply, waitMs: number): AppError => {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000))
    void reply.header('retry-after', String(seconds))
    const limit = failureLimit === undefined ? '' : ` (${formatRateLimit(failureLimit)}, AUTH_FAILURE_LIMIT)`
    return new AppError(
      'TOO_MANY_REQUESTS',
      `too many failed authentications from this address${limit}; retry in ${seconds} s`,
      'authorization',
    )
  }

  /** Counts one failure of `address`; answers how long it is blocked when this one took it over the limit. */
  const countFailure = async (address: string): Promise<number | undefined> => {
    if (failureLimit === undefined) return undefined
    const key = `auth-failures:${address}`
    const answer = await quota.take(key, [failureLimit], 0).catch(() => undefined)
    if (answer === undefined || answer.granted) return undefined
    if (blockedUntil.size >= MAX_BLOCKED) blockedUntil.delete(blockedUntil.keys().next().value as string)
    blockedUntil.set(address, now() + answer.waitMs)
    return answer.waitMs
  }

  const check = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const address = request.ip
    const until = blockedUntil.get(address)
    if (until !== undefined) {
      if (until > now()) throw refuse(reply, until - now())
      blockedUntil.delete(address)
    }
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header)
    const given = match?.[1]?.trim() ?? ''
    if (match && timingSafeEqual(digest(given), expected)) return
    const blockedMs = await countFailure(address)
    if (blockedMs !== undefined) throw refuse(reply, blockedMs)
    throw new AppError(
      'UNAUTHORIZED',
      match ? 'the bearer token is not valid' : `this service needs Authorization: Bearer <${options.setting}>`,
      'authorization',
    )
  }
  return [check]
}
