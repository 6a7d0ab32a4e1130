/**
 * In-memory ThreatConnect data for one sandbox instance: owners, indicators (with tags and attributes) and posts.
 * Mirrors the v3 API's behaviour closely enough to develop and test write-back; it is not the platform.
 */
import { isIP } from 'node:net'

/** Indicator types the sandbox stores, with the body field that carries each one's value. */
export const VALUE_FIELDS = {
  Address: ['ip'],
  Host: ['hostName'],
  URL: ['text'],
  EmailAddress: ['address'],
  File: ['md5', 'sha1', 'sha256'],
  ASN: ['AS Number'],
  CIDR: ['Block'],
} as const satisfies Record<string, readonly string[]>

export type SandboxIndicatorType = keyof typeof VALUE_FIELDS

export const isSandboxIndicatorType = (t: unknown): t is SandboxIndicatorType =>
  typeof t === 'string' && Object.prototype.hasOwnProperty.call(VALUE_FIELDS, t)

export interface SandboxAttribute {
  readonly id: number
  readonly type: string
  readonly value: string
  readonly dateAdded: string
}

export interface SandboxIndicator {
  readonly id: number
  readonly type: SandboxIndicatorType
  readonly ownerName: string
  /** Value fields, e.g. { ip: '8.8.8.8' } or { md5, sha256 }. */
  values: Record<string, string>
  rating: number | null
  confidence: number | null
  tags: string[]
  attributes: SandboxAttribute[]
  /** False once deactivated (a batch with active: false). */
  active: boolean
  /** As a batch sent them (ISO 8601). */
  firstSeen?: string
  lastSeen?: string
  readonly dateAdded: string
  lastModified: string
}

export interface SandboxPost {
  readonly id: number
  readonly objectId: number
  readonly text: string
  readonly author: string
  readonly dateAdded: string
}

/** Why a change was refused: becomes a 400 with this message. */
export class SandboxInputError extends Error {}

const HASH_LENGTH = { md5: 32, sha1: 40, sha256: 64 } as const

/** Checks a value the way the platform would refuse it; returns the problem or undefined. */
export const valueProblem = (type: SandboxIndicatorType, field: string, value: string): string | undefined => {
  switch (type) {
    case 'Address':
      return isIP(value) === 0 ? `'${value}' is not an IP address` : undefined
    case 'Host':
      return /^[A-Za-z0-9_.-]+$/.test(value) && value.includes('.') ? undefined : `'${value}' is not a host name`
    case 'URL':
      return /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(value) ? undefined : `'${value}' is not a URL`
    case 'EmailAddress':
      return /^[^@\s]+@[^@\s]+$/.test(value) ? undefined : `'${value}' is not an email address`
    case 'File': {
      const length = HASH_LENGTH[field as keyof typeof HASH_LENGTH]
      return new RegExp(`^[0-9a-fA-F]{${length}}$`).test(value) ? undefined : `'${value}' is not a valid ${field} hash`
    }
    case 'ASN':
      return /^ASN\d+$/.test(value) ? undefined : `'${value}' is not an AS Number like ASN15169`
    case 'CIDR': {
      const [ip, bits, extra] = value.split('/')
      const version = isIP(ip ?? '')
      const max = version === 6 ? 128 : 32
      const ok = version !== 0 && extra === undefined && /^\d+$/.test(bits ?? '') && Number(bits) <= max
      return ok ? undefined : `'${value}' is not a CIDR block`
    }
  }
}

/** Summary as the platform shows it: the value, or a File's hashes joined by " : ". */
export const summaryOf = (i: Pick<SandboxIndicator, 'type' | 'values'>): string =>
  VALUE_FIELDS[i.type]
    .map((f) => i.values[f])
    .filter((v): v is string => v !== undefined)
    .join(' : ')

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

const valueKey = (owner: string, type: string, field: string, value: string): string =>
  `${owner.toLowerCase()}|${type}|${field}|${value.toLowerCase()}`

/**
 * Tag modes: append (a name already there is not added twice), replace, delete. Attribute modes: `append` (the v3
 * API's: a type+value already there is not added twice), replace, delete, and the v2 Batch API's write types as its
 * documentation gives them: `batch-append` (appended, redundancy not checked: duplicates may be added), `singleton`
 * (the existing attributes of each incoming type are replaced, others stay) and `static` (incoming ignored).
 */
export interface IndicatorChange {
  readonly rating?: number
  readonly confidence?: number
  readonly tags?: { readonly names: readonly string[]; readonly mode: 'append' | 'replace' | 'delete' }
  readonly attributes?: {
    readonly items: ReadonlyArray<{ readonly type: string; readonly value: string }>
    readonly mode: 'append' | 'replace' | 'delete' | 'batch-append' | 'singleton' | 'static'
  }
}

export class SandboxStore {
  readonly owners: readonly string[]
  private readonly indicators = new Map<number, SandboxIndicator>()
  /** owner|type|field|value (lower case) -> indicator id: a batch of 100,000 must not scan them all each time. */
  private readonly byValue = new Map<string, number>()
  private readonly posts: SandboxPost[] = []
  private nextId = 1
  private readonly now: () => number

  constructor(owners: readonly string[], now: () => number) {
    if (owners.length === 0) throw new Error('the sandbox needs at least one owner')
    this.owners = owners
    this.now = now
  }

  /** The API user's own organization: where requests without an owner go. */
  get defaultOwner(): string {
    return this.owners[0] as string
  }

  ownerNamed(name: string): string | undefined {
    return this.owners.find((o) => same(o, name))
  }

  private stamp(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z')
  }

  allIndicators(): SandboxIndicator[] {
    return [...this.indicators.values()]
  }

  indicator(id: number): SandboxIndicator | undefined {
    return this.indicators.get(id)
  }

  /** The existing indicator these values identify in the owner (a File matches on any shared hash). */
  private existing(
    owner: string,
    type: SandboxIndicatorType,
    values: Record<string, string>,
  ): SandboxIndicator | undefined {
    for (const f of VALUE_FIELDS[type]) {
      const v = values[f]
      if (v === undefined) continue
      const id = this.byValue.get(valueKey(owner, type, f, v))
      const found = id === undefined ? undefined : this.indicators.get(id)
      if (found !== undefined) return found
    }
    return undefined
  }

  private index(indicator: SandboxIndicator): void {
    for (const [f, v] of Object.entries(indicator.values))
      this.byValue.set(valueKey(indicator.ownerName, indicator.type, f, v), indicator.id)
  }

  private unindex(indicator: SandboxIndicator): void {
    for (const [f, v] of Object.entries(indicator.values))
      this.byValue.delete(valueKey(indicator.ownerName, indicator.type, f, v))
  }

  /** Create, or (like the platform) update the one that already exists. */
  upsertIndicator(
    owner: string,
    type: SandboxIndicatorType,
    values: Record<string, string>,
    change: IndicatorChange = {},
  ): { indicator: SandboxIndicator; created: boolean } {
    const fields = VALUE_FIELDS[type] as readonly string[]
    const given = Object.entries(values).filter(([f]) => fields.includes(f))
    if (given.length === 0) throw new SandboxInputError(`a ${type} indicator needs ${fields.join(' or ')}`)
    for (const [f, v] of given) {
      const problem = valueProblem(type, f, v)
      if (problem !== undefined) throw new SandboxInputError(problem)
    }
    const clean = Object.fromEntries(given)
    const found = this.existing(owner, type, clean)
    if (found) {
      this.unindex(found)
      found.values = { ...found.values, ...clean }
      this.index(found)
      this.apply(found, change)
      return { indicator: found, created: false }
    }
    const at = this.stamp()
    const indicator: SandboxIndicator = {
      id: this.nextId++,
      type,
      ownerName: owner,
      values: clean,
      rating: null,
      confidence: null,
      tags: [],
      attributes: [],
      active: true,
      dateAdded: at,
      lastModified: at,
    }
    this.apply(indicator, change)
    this.indicators.set(indicator.id, indicator)
    this.index(indicator)
    return { indicator, created: true }
  }

  /**
   * Rating/confidence set; tags and attributes appended (duplicates of name / type+value ignored), replaced or deleted.
   */
  apply(indicator: SandboxIndicator, change: IndicatorChange): void {
    if (change.rating !== undefined) indicator.rating = change.rating
    if (change.confidence !== undefined) indicator.confidence = change.confidence
    if (change.tags) {
      const { names, mode } = change.tags
      if (mode === 'delete') indicator.tags = indicator.tags.filter((t) => !names.some((n) => same(n, t)))
      else {
        const base = mode === 'replace' ? [] : indicator.tags
        indicator.tags = names.reduce((acc, n) => (acc.some((t) => same(t, n)) ? acc : [...acc, n]), base)
      }
    }
    if (change.attributes) {
      const { items, mode } = change.attributes
      const matches = (a: SandboxAttribute, b: { type: string; value: string }): boolean =>
        same(a.type, b.type) && a.value === b.value
      const fresh = (b: { type: string; value: string }): SandboxAttribute => ({
        id: this.nextId++,
        type: b.type,
        value: b.value,
        dateAdded: this.stamp(),
      })
      if (mode === 'delete')
        indicator.attributes = indicator.attributes.filter((a) => !items.some((b) => matches(a, b)))
      else if (mode === 'batch-append') indicator.attributes = [...indicator.attributes, ...items.map(fresh)]
      else if (mode === 'singleton') {
        const types = items.map((b) => b.type)
        const kept = indicator.attributes.filter((a) => !types.some((t) => same(t, a.type)))
        indicator.attributes = [...kept, ...items.map(fresh)]
      } else if (mode === 'static') {
        // The batch's Static: incoming attributes are ignored, existing ones stay.
      } else {
        const base = mode === 'replace' ? [] : indicator.attributes
        indicator.attributes = items.reduce(
          (acc, b) =>
            acc.some((a) => matches(a, b))
              ? acc
              : [...acc, { id: this.nextId++, type: b.type, value: b.value, dateAdded: this.stamp() }],
          base,
        )
      }
    }
    indicator.lastModified = this.stamp()
  }

  /** A v2 Batch Delete: removes the owner's indicator these values identify (and its posts). */
  deleteMatching(owner: string, type: SandboxIndicatorType, values: Record<string, string>): boolean {
    const found = this.existing(owner, type, values)
    if (found === undefined) return false
    this.indicators.delete(found.id)
    this.unindex(found)
    for (let i = this.posts.length - 1; i >= 0; i--) if (this.posts[i]?.objectId === found.id) this.posts.splice(i, 1)
    return true
  }

  postsFor(objectId: number): SandboxPost[] {
    return this.posts.filter((p) => p.objectId === objectId)
  }

  addPost(objectId: number, text: string, author: string): SandboxPost {
    const post: SandboxPost = { id: this.nextId++, objectId, text, author, dateAdded: this.stamp() }
    this.posts.push(post)
    return post
  }
}
