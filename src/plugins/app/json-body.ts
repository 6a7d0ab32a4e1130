/**
 * The JSON body parser of the service. Bodies are parsed with JSON.parse (which only ever makes own properties),
 * then refused when they hold a prototype key (`__proto__`, or `constructor` with a `prototype`), naming the key's
 * path; Fastify's own parser would say only "not valid JSON". A `Content-Encoding` the service does not decode is
 * a 415 naming it, instead of a body read as garbage.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../errors.js'

/** Where the first prototype key sits (e.g. `indicator.__proto__`), or undefined. Iterative: any depth is safe. */
const prototypeKeyPath = (value: unknown): string | undefined => {
  const stack: { node: unknown; path: string }[] = [{ node: value, path: '' }]
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: unknown; path: string }
    if (typeof node !== 'object' || node === null) continue
    const isArray = Array.isArray(node)
    for (const [key, child] of Object.entries(node)) {
      const at = isArray ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`
      if (key === '__proto__') return at
      if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype'))
        return `${at}.prototype`
      stack.push({ node: child, path: at })
    }
  }
  return undefined
}

const parseJsonBody = (text: string): unknown => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    // Bad syntax, or nested past what the parser can hold: either way not a body this service can read.
    throw new AppError(
      'INVALID_JSON',
      text.trim() === '' ? 'the body is empty; send a JSON object of params' : 'the body is not valid JSON',
    )
  }
  // Only a body that names one of the keys can hold it: the walk is skipped for every other body.
  if (text.includes('__proto__') || text.includes('constructor')) {
    const path = prototypeKeyPath(body)
    if (path !== undefined)
      throw new AppError('INVALID_PARAM', `${path}: a prototype key is not accepted in a body`, path)
  }
  return body
}

export default fp(
  async function jsonBody(app: FastifyInstance) {
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
      try {
        done(null, parseJsonBody(text as string))
      } catch (err) {
        done(err as Error, undefined)
      }
    })
    // Callback style: it runs on every request, and an async hook costs a promise each time.
    app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
      const encoding = request.headers['content-encoding']
      if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
        done(
          new AppError(
            'UNSUPPORTED_MEDIA_TYPE',
            `content encoding '${encoding}' is not accepted; send the body uncompressed`,
            'content-encoding',
          ),
        )
        return
      }
      done()
    })
  },
  { name: 'json-body' },
)
