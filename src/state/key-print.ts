/**
 * A fingerprint of an API key: what quotas and cache entries are keyed by, so two keys never share a count or a
 * finding, while the key itself never reaches a store, a log or a metric. One-way and short.
 */
import { hash } from 'node:crypto'

const NO_KEY = 'nokey'

export const keyPrint = (secret: string | undefined): string =>
  secret === undefined || secret === '' ? NO_KEY : hash('sha256', secret, 'hex').slice(0, 16)
