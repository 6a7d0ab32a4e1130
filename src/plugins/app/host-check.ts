/**
 * The Host check of the operator routes (/alerts, /status): a request must name this service by a loopback name or
 * by PUBLIC_URL's host. A page on another site that points its own name at this address (DNS rebinding) sends its
 * own name as Host, and is refused, so a browser on the operator's machine cannot be used to read or send.
 */
import type { FastifyRequest } from 'fastify'
import { AppError } from '../../errors.js'

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])

export const makeHostCheck = (publicUrl: string | undefined): ((request: FastifyRequest) => void) => {
  const publicHost = publicUrl === undefined ? undefined : new URL(publicUrl).hostname.toLowerCase()
  return (request) => {
    const host = request.hostname.toLowerCase()
    if (!LOOPBACK_NAMES.has(host) && host !== publicHost)
      throw new AppError(
        'HOST_NOT_ALLOWED',
        `Host '${host.slice(0, 100)}' is neither a loopback name nor PUBLIC_URL's host`,
        'host',
      )
  }
}
