/**
 * Optional bearer auth for POST /run: when RUN_TOKEN is set, `Authorization: Bearer <token>` is required.
 * Compared in constant time over SHA-256 digests (equal lengths whatever the caller sends). Health stays open.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { AppError } from '../../errors.js'

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** The routes' onRequest hooks: none without a token (a hook that does nothing still costs a promise a request). */
export const makeRunAuth = (token: string | undefined): onRequestAsyncHookHandler[] => {
  if (token === undefined) return []
  const expected = digest(token)
  const check = async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header)
    const given = match?.[1]?.trim() ?? ''
    if (!match || !timingSafeEqual(digest(given), expected)) {
      throw new AppError('UNAUTHORIZED', match ? 'the bearer token is not valid' : 'this service needs Authorization: Bearer <RUN_TOKEN>', 'authorization')
    }
  }
  return [check]
}
