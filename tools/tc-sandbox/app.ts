/**
 * A local stand-in for the ThreatConnect v3 API, for development and tests of write-back only: indicators,
 * tags, attributes and posts kept in memory per instance, HMAC/token authentication, owners, paging.
 * Not a product and not a faithful copy of the platform; see docs/platform.md.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { checkCredentials, type SandboxCredentials } from './auth.js'
import {
  isSandboxIndicatorType,
  SandboxInputError,
  SandboxStore,
  summaryOf,
  VALUE_FIELDS,
  type IndicatorChange,
  type SandboxIndicator,
  type SandboxIndicatorType,
  type SandboxPost,
} from './store.js'
import { parseTql } from './tql.js'
import { registerBatchRoutes, type SandboxBatchJob, type SandboxBatchOptions } from './batch.js'

export interface SandboxSeedIndicator {
  readonly type: SandboxIndicatorType
  /** The indicator's value (a File: one hash, its kind told by its length; an ASN: like ASN15169). */
  readonly value: string
  /** Defaults to the first owner. */
  readonly owner?: string
  readonly rating?: number
  readonly confidence?: number
  readonly tags?: readonly string[]
  readonly description?: string
  /** Posts already on the indicator. */
  readonly posts?: readonly string[]
}

export interface SandboxOptions extends SandboxCredentials {
  /** Owner names the API user can reach; the first is its own organization. */
  readonly owners?: readonly string[]
  readonly log?: Logger
  readonly seed?: readonly SandboxSeedIndicator[]
  /** Server clock (ms since epoch) for the Timestamp check and dates. */
  readonly now?: () => number
  /** How the v2 Batch API behaves (polls until done, items it refuses). */
  readonly batch?: SandboxBatchOptions
}

export interface SandboxRequestRecord {
  readonly method: string
  readonly url: string
  readonly status: number
}

export interface SandboxState {
  readonly store: SandboxStore
  /** Every v2 Batch job, in order. */
  readonly batches: SandboxBatchJob[]
  /** Every request answered, in order: for tests that check what went over the wire. */
  readonly requests: SandboxRequestRecord[]
}

export type SandboxApp = FastifyInstance & { readonly sandbox: SandboxState }

const MAX_RESULT_LIMIT = 10_000
const DEFAULT_RESULT_LIMIT = 100
const HASH_FIELD_BY_LENGTH: Readonly<Record<number, string>> = { 32: 'md5', 40: 'sha1', 64: 'sha256' }

class HttpProblem extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The raw query, parsed the way the platform reads it (repeated keys kept). */
const queryOf = (req: FastifyRequest): URLSearchParams =>
  new URL(req.raw.url ?? '/', 'http://sandbox.invalid').searchParams

const valuesFor = (type: SandboxIndicatorType, value: string): Record<string, string> => {
  if (type === 'File') {
    const field = HASH_FIELD_BY_LENGTH[value.length]
    if (field === undefined) throw new Error(`seed: '${value}' is not an MD5, SHA-1 or SHA-256 hash`)
    return { [field]: value }
  }
  return { [VALUE_FIELDS[type][0]]: value }
}

const MODES = ['append', 'replace', 'delete'] as const
type Mode = (typeof MODES)[number]
const modeOf = (v: unknown, what: string): Mode => {
  if (v === undefined) return 'append'
  if (typeof v === 'string' && (MODES as readonly string[]).includes(v)) return v as Mode
  throw new HttpProblem(400, `${what}.mode must be one of ${MODES.join(', ')}`)
}

/** rating/confidence/tags/attributes of a POST or PUT body, checked like the platform would. */
const parseChange = (body: Record<string, unknown>): IndicatorChange => {
  const change: { -readonly [K in keyof IndicatorChange]: IndicatorChange[K] } = {}
  if (body['rating'] !== undefined) {
    const r = body['rating']
    if (typeof r !== 'number' || !(r >= 0 && r <= 5)) throw new HttpProblem(400, 'rating must be a number from 0 to 5')
    change.rating = r
  }
  if (body['confidence'] !== undefined) {
    const c = body['confidence']
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 100) {
      throw new HttpProblem(400, 'confidence must be a whole number from 0 to 100')
    }
    change.confidence = c
  }
  if (body['tags'] !== undefined) {
    const tags = body['tags']
    if (!isRecord(tags) || !Array.isArray(tags['data']))
      throw new HttpProblem(400, 'tags must be {"data": [{"name": ...}]}')
    const names = tags['data'].map((t) => {
      if (!isRecord(t) || typeof t['name'] !== 'string' || t['name'].trim() === '')
        throw new HttpProblem(400, 'every tag needs a name')
      return t['name'].trim()
    })
    change.tags = { names, mode: modeOf(tags['mode'], 'tags') }
  }
  if (body['attributes'] !== undefined) {
    const attrs = body['attributes']
    if (!isRecord(attrs) || !Array.isArray(attrs['data'])) {
      throw new HttpProblem(400, 'attributes must be {"data": [{"type": ..., "value": ...}]}')
    }
    const items = attrs['data'].map((a) => {
      if (!isRecord(a) || typeof a['type'] !== 'string' || a['type'] === '' || typeof a['value'] !== 'string') {
        throw new HttpProblem(400, 'every attribute needs a type and a string value')
      }
      return { type: a['type'], value: a['value'] }
    })
    change.attributes = { items, mode: modeOf(attrs['mode'], 'attributes') }
  }
  return change
}

const renderIndicator = (i: SandboxIndicator, fields: readonly string[]): Record<string, unknown> => ({
  id: i.id,
  ownerName: i.ownerName,
  dateAdded: i.dateAdded,
  lastModified: i.lastModified,
  type: i.type,
  summary: summaryOf(i),
  ...(i.rating === null ? {} : { rating: i.rating }),
  ...(i.confidence === null ? {} : { confidence: i.confidence }),
  privateFlag: false,
  active: true,
  ...i.values,
  webLink: `https://app.threatconnect.com/auth/indicators/details/indicator.xhtml?id=${i.id}`,
  ...(fields.includes('tags') ? { tags: i.tags.length === 0 ? {} : { data: i.tags.map((name) => ({ name })) } } : {}),
  ...(fields.includes('attributes')
    ? {
        attributes:
          i.attributes.length === 0
            ? {}
            : { data: i.attributes.map((a) => ({ id: a.id, type: a.type, value: a.value, dateAdded: a.dateAdded })) },
      }
    : {}),
})

const renderPost = (p: SandboxPost): Record<string, unknown> => ({
  id: p.id,
  text: p.text,
  author: p.author,
  dateAdded: p.dateAdded,
  objectId: p.objectId,
  objectType: 'Indicator',
})

/** `{data, status, count?, next?}` for one page; `next` is an absolute URL like the platform's. */
const page = <T>(req: FastifyRequest, items: readonly T[], render: (t: T) => unknown): Record<string, unknown> => {
  const q = queryOf(req)
  const start = Number(q.get('resultStart') ?? 0)
  const limit = Number(q.get('resultLimit') ?? DEFAULT_RESULT_LIMIT)
  if (!Number.isInteger(start) || start < 0) throw new HttpProblem(400, 'resultStart must be a whole number >= 0')
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RESULT_LIMIT) {
    throw new HttpProblem(400, `resultLimit must be a whole number from 1 to ${MAX_RESULT_LIMIT}`)
  }
  const slice = items.slice(start, start + limit)
  let next: string | undefined
  if (start + limit < items.length) {
    q.set('resultStart', String(start + limit))
    q.set('resultLimit', String(limit))
    next = `${req.protocol}://${req.headers.host ?? 'localhost'}${req.url.split('?')[0]}?${q.toString()}`
  }
  return {
    ...(next === undefined ? {} : { next }),
    data: slice.map(render),
    // Like the platform: the count is only given on the first page.
    ...(start === 0 ? { count: items.length } : {}),
    status: 'Success',
  }
}

const requireId = (raw: string): number => {
  if (!/^\d+$/.test(raw)) throw new HttpProblem(404, `No indicator with id '${raw}'`)
  return Number(raw)
}

export const buildSandbox = (options: SandboxOptions): SandboxApp => {
  const now = options.now ?? Date.now
  const store = new SandboxStore(options.owners ?? ['Sandbox Organization'], now)
  const state: SandboxState = { store, requests: [], batches: [] }
  const creds: SandboxCredentials = { accessId: options.accessId, secretKey: options.secretKey, token: options.token }

  for (const s of options.seed ?? []) {
    const owner = s.owner === undefined ? store.defaultOwner : store.ownerNamed(s.owner)
    if (owner === undefined) throw new Error(`seed: owner '${s.owner}' is not one of the sandbox owners`)
    const { indicator } = store.upsertIndicator(owner, s.type, valuesFor(s.type, s.value), {
      ...(s.rating === undefined ? {} : { rating: s.rating }),
      ...(s.confidence === undefined ? {} : { confidence: s.confidence }),
      ...(s.tags === undefined ? {} : { tags: { names: s.tags, mode: 'append' } }),
      ...(s.description === undefined
        ? {}
        : { attributes: { items: [{ type: 'Description', value: s.description }], mode: 'append' } }),
    })
    for (const text of s.posts ?? []) store.addPost(indicator.id, text, 'seed')
  }

  const app = (options.log
    ? Fastify({ loggerInstance: options.log })
    : Fastify({ logger: false })) as unknown as FastifyInstance
  app.decorate('sandbox', state)
  const users = new WeakMap<FastifyRequest, string>()

  const fail = (reply: FastifyReply, status: number, message: string): FastifyReply =>
    reply.code(status).send({ status: 'Error', message })

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof HttpProblem) return fail(reply, err.statusCode, err.message)
    if (err instanceof SandboxInputError) return fail(reply, 400, err.message)
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    return fail(reply, status, status === 500 ? 'Internal error' : err.message)
  })
  app.setNotFoundHandler((req, reply) => fail(reply, 404, `Not found: ${req.method} ${req.url.split('?')[0]}`))

  app.addHook('onRequest', async (req, reply) => {
    const check = checkCredentials(
      creds,
      { method: req.method, rawUrl: req.raw.url ?? '/', headers: req.headers },
      now(),
    )
    if (!check.ok) return fail(reply, 401, check.message)
    users.set(req, check.user)
    return undefined
  })
  app.addHook('onResponse', async (req, reply) => {
    state.requests.push({ method: req.method, url: req.raw.url ?? '', status: reply.statusCode })
  })

  /** The `owner` query param (or a body ownerName) resolved to a known owner; 403 like the platform when unknown. */
  const ownerFor = (req: FastifyRequest, fallback?: unknown): string | undefined => {
    const asked = queryOf(req).get('owner') ?? (typeof fallback === 'string' ? fallback : undefined)
    if (asked === undefined || asked === '') return undefined
    const owner = store.ownerNamed(asked)
    if (owner === undefined)
      throw new HttpProblem(403, `Owner '${asked}' does not exist or the API user has no access to it`)
    return owner
  }

  const indicatorById = (raw: string): SandboxIndicator => {
    const found = store.indicator(requireId(raw))
    if (found === undefined) throw new HttpProblem(404, `No indicator with id '${raw}'`)
    return found
  }

  registerBatchRoutes(app, store, state.batches, options.batch)

  app.get('/api/v3/security/owners', async (req) =>
    page(req, store.owners, (name) => ({ id: store.owners.indexOf(name) + 1, name, type: 'Organization' })),
  )

  app.get('/api/v3/indicators', async (req) => {
    const q = queryOf(req)
    const owner = ownerFor(req)
    const tql = q.get('tql')
    const parsed = tql === null ? { ok: true as const, matches: () => true } : parseTql(tql)
    if (!parsed.ok) throw new HttpProblem(400, parsed.problem)
    const items = store
      .allIndicators()
      .filter((i) => (owner === undefined || i.ownerName === owner) && parsed.matches(i))
    const sorting = q.get('sorting')
    if (sorting !== null) {
      // `sorting=<field> asc|desc` (v3 "Sort Results"); the sandbox sorts on the date fields and id.
      const m = /^\s*(lastModified|dateAdded|id)\s+(asc|desc)\s*$/i.exec(sorting)
      if (m === null)
        throw new HttpProblem(
          400,
          `Invalid sorting '${sorting}' (the sandbox sorts by lastModified, dateAdded or id, asc or desc)`,
        )
      const field = (m[1] as string).toLowerCase()
      const key = (i: SandboxIndicator): number =>
        field === 'id' ? i.id : Date.parse(field === 'lastmodified' ? i.lastModified : i.dateAdded)
      const sign = (m[2] as string).toLowerCase() === 'asc' ? 1 : -1
      items.sort((a, b) => sign * (key(a) - key(b) || a.id - b.id))
    }
    const fields = q.getAll('fields')
    return page(req, items, (i) => renderIndicator(i, fields))
  })

  app.get<{ Params: { id: string } }>('/api/v3/indicators/:id', async (req) => ({
    data: renderIndicator(indicatorById(req.params.id), queryOf(req).getAll('fields')),
    status: 'Success',
  }))

  app.post('/api/v3/indicators', async (req, reply) => {
    const body = req.body
    if (!isRecord(body)) throw new HttpProblem(400, 'The body must be a JSON object')
    if (!isSandboxIndicatorType(body['type'])) {
      throw new HttpProblem(
        400,
        `Unsupported indicator type '${String(body['type'])}' (sandbox: ${Object.keys(VALUE_FIELDS).join(', ')})`,
      )
    }
    const type = body['type']
    const owner = ownerFor(req, body['ownerName']) ?? store.defaultOwner
    const values = Object.fromEntries(
      VALUE_FIELDS[type].flatMap((f) =>
        typeof body[f] === 'string' && body[f] !== '' ? [[f, (body[f] as string).trim()]] : [],
      ),
    )
    const { indicator, created } = store.upsertIndicator(owner, type, values, parseChange(body))
    return reply.code(created ? 201 : 200).send({
      data: renderIndicator(indicator, queryOf(req).getAll('fields')),
      message: created ? 'Created' : 'Updated',
      status: 'Success',
    })
  })

  app.put<{ Params: { id: string } }>('/api/v3/indicators/:id', async (req) => {
    const indicator = indicatorById(req.params.id)
    if (!isRecord(req.body)) throw new HttpProblem(400, 'The body must be a JSON object')
    store.apply(indicator, parseChange(req.body))
    return { data: renderIndicator(indicator, queryOf(req).getAll('fields')), message: 'Updated', status: 'Success' }
  })

  app.get('/api/v3/posts', async (req) => {
    const q = queryOf(req)
    const objectId = q.get('objectId')
    if (objectId === null || !/^\d+$/.test(objectId))
      throw new HttpProblem(400, 'objectId is required and must be a number')
    if (q.get('objectType') !== 'Indicator')
      throw new HttpProblem(400, "objectType must be 'Indicator' (the sandbox keeps posts on indicators only)")
    const indicator = indicatorById(objectId)
    return page(req, store.postsFor(indicator.id), renderPost)
  })

  app.post('/api/v3/posts', async (req, reply) => {
    const body = req.body
    if (!isRecord(body)) throw new HttpProblem(400, 'The body must be a JSON object')
    if (typeof body['objectId'] !== 'number') throw new HttpProblem(400, 'objectId is required and must be a number')
    if (body['objectType'] !== 'Indicator') throw new HttpProblem(400, "objectType must be 'Indicator'")
    if (typeof body['text'] !== 'string' || body['text'].trim() === '') throw new HttpProblem(400, 'text is required')
    const indicator = indicatorById(String(body['objectId']))
    const post = store.addPost(indicator.id, body['text'], users.get(req) ?? 'unknown')
    return reply.code(201).send({ data: renderPost(post), message: 'Created', status: 'Success' })
  })

  return app as SandboxApp
}
