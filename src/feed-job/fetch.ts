/**
 * Downloading a feed politely through the one instrumented request client (its proxy settings, retries,
 * Retry-After, size cap and redacted logs): the provider's key in its header, If-None-Match with the last ETag and
 * If-Modified-Since with its Last-Modified (304: nothing changed), a clear error on 401/403. The file feed reads its
 * file.
 */
import { readFile } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { SourceError } from '../errors.js'
import { feedUrlEnv } from '../config/feed-settings.js'
import type { HttpClientFactory } from '../http/types.js'
import type { FeedDefinition } from '../feeds/types.js'
import type { Download, DownloadVersion } from './run-feed.js'

/** The largest feed download accepted (URLhaus's full dump is about 100 MB of CSV). */
const FEED_MAX_BYTES = 256 * 1024 * 1024

/** Base URL (up to the last '/') and the rest, as the request client takes them. */
const baseAndPath = (url: string): { baseUrl: string; path: string } => {
  const u = new URL(url)
  const cut = u.pathname.lastIndexOf('/') + 1
  return { baseUrl: `${u.origin}${u.pathname.slice(0, cut)}`, path: `${u.pathname.slice(cut)}${u.search}` }
}

export interface FetcherOptions {
  readonly http: HttpClientFactory
  readonly env: Readonly<Record<string, string | undefined>>
  /** Relative file paths are read from here (the project root for the shipped sample). */
  readonly root: string
  readonly filePath: string
}

export const createFeedFetcher =
  (options: FetcherOptions) =>
  async (feed: FeedDefinition, since: DownloadVersion | undefined): Promise<Download> => {
    if (feed.defaultUrl === undefined) {
      const path = isAbsolute(options.filePath) ? options.filePath : join(options.root, options.filePath)
      try {
        return { notModified: false, text: await readFile(path, 'utf8') }
      } catch (err) {
        throw new Error(`cannot read ${path} (FEED_FILE_PATH): ${(err as Error).message}`, { cause: err })
      }
    }
    const url = options.env[feedUrlEnv(feed.id)] ?? feed.defaultUrl
    const { baseUrl, path } = baseAndPath(url)
    const client = options.http({
      sourceId: `feed_${feed.id}`,
      baseUrl,
      maxResponseBytes: FEED_MAX_BYTES,
      timeouts: { connectMs: 10_000, responseMs: 60_000, totalMs: 600_000 },
      retry: { limit: 2, baseDelayMs: 1_000, maxDelayMs: 10_000 },
    })
    const key = feed.auth === undefined ? undefined : options.env[feed.auth.env]
    try {
      const res = await client.request({
        method: 'GET',
        path,
        read: 'text',
        headers: {
          accept: '*/*',
          ...(typeof since?.etag === 'string' && since.etag !== '' ? { 'if-none-match': since.etag } : {}),
          ...(typeof since?.lastModified === 'string' && since.lastModified !== ''
            ? { 'if-modified-since': since.lastModified }
            : {}),
          ...(feed.auth !== undefined && key !== undefined && key !== '' ? { [feed.auth.header]: key } : {}),
        },
        answerStatuses: [304],
      })
      if (res.status === 304) return { notModified: true }
      const text = (name: string): string | undefined => {
        const value = res.headers[name]
        return typeof value === 'string' && value !== '' ? value : undefined
      }
      return {
        notModified: false,
        text: String(res.body ?? ''),
        etag: text('etag'),
        lastModified: text('last-modified'),
      }
    } catch (err) {
      if (err instanceof SourceError && err.kind === 'auth') {
        const hint =
          feed.auth === undefined
            ? ''
            : key === undefined || key === ''
              ? `; set ${feed.auth.env} (${feed.title} needs a key)`
              : `; check ${feed.auth.env}`
        throw new Error(`${feed.title} refused the download: ${err.message}${hint}`, { cause: err })
      }
      throw err
    } finally {
      client.close()
    }
  }
