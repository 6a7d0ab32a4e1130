/**
 * Downloading a feed politely through the one instrumented request client (its proxy settings, retries,
 * Retry-After, size cap and redacted logs), streamed: the provider's key in its header, If-None-Match and
 * If-Modified-Since from the last download that landed whole (304: nothing changed), a clear error on 401/403. The
 * body is unpacked and decoded as it comes (./unpack.ts); a connection cut short fails the download, never ends it
 * early. The file feed reads its file.
 */
import { createReadStream } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import type { Readable } from 'node:stream'
import { SourceError } from '../errors.js'
import { feedUrlEnv } from '../config/feed-settings.js'
import type { HttpClientFactory } from '../http/types.js'
import type { FeedDefinition } from '../feeds/types.js'
import { unpackText } from './unpack.js'

/** The largest feed download accepted, decoded (URLhaus's full dump is about 100 MB of CSV). */
const FEED_MAX_BYTES = 512 * 1024 * 1024

export interface Validators {
  readonly etag?: string | undefined
  readonly lastModified?: string | undefined
}

export type Download =
  | { readonly notModified: true }
  | {
      readonly notModified: false
      /** The feed's text as it streams in. */
      readonly text: AsyncIterable<string>
      readonly validators: Validators
      /** Bytes as they came (before unpacking), and how many the server said to expect. */
      readonly received: () => number
      readonly expected: number | undefined
    }

/** Base URL (up to the last '/') and the rest, as the request client takes them. */
const baseAndPath = (url: string): { baseUrl: string; path: string } => {
  const u = new URL(url)
  const cut = u.pathname.lastIndexOf('/') + 1
  return { baseUrl: `${u.origin}${u.pathname.slice(0, cut)}`, path: `${u.pathname.slice(cut)}${u.search}` }
}

export interface DownloaderOptions {
  readonly http: HttpClientFactory
  readonly env: Readonly<Record<string, string | undefined>>
  /** Relative file paths are read from here (the project root for the shipped sample). */
  readonly root: string
  readonly filePath: string
}

/** Counts the bytes that pass. */
const counted = (body: AsyncIterable<Buffer>, count: (n: number) => void): AsyncIterable<Buffer> => ({
  [Symbol.asyncIterator]: async function* () {
    for await (const chunk of body) {
      count(chunk.length)
      yield chunk
    }
  },
})

export const createFeedDownloader =
  (options: DownloaderOptions) =>
  async (feed: FeedDefinition, since: Validators | undefined): Promise<Download> => {
    let received = 0
    if (feed.defaultUrl === undefined) {
      const path = isAbsolute(options.filePath) ? options.filePath : join(options.root, options.filePath)
      const file = createReadStream(path)
      await new Promise<void>((resolve, reject) => {
        file.once('open', () => resolve())
        file.once('error', (err) =>
          reject(new Error(`cannot read ${path} (FEED_FILE_PATH): ${err.message}`, { cause: err })),
        )
      })
      const text = unpackText(
        counted(file as AsyncIterable<Buffer>, (n) => (received += n)),
        undefined,
        path,
      )
      return { notModified: false, text, validators: {}, received: () => received, expected: undefined }
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
    // The client (its keep-alive sockets) lives until the body has been read, or the download failed.
    let handedOver = false
    try {
      const res = await client.request({
        method: 'GET',
        path,
        read: 'stream',
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
      const body = res.body as Readable
      if (res.status === 304) {
        body.destroy()
        return { notModified: true }
      }
      handedOver = true
      const header = (name: string): string | undefined => {
        const value = res.headers[name]
        return typeof value === 'string' && value !== '' ? value : undefined
      }
      const length = Number(header('content-length') ?? Number.NaN)
      const unpacked = unpackText(
        counted(body as AsyncIterable<Buffer>, (n) => (received += n)),
        header('content-type'),
        url,
      )
      const text: AsyncIterable<string> = {
        [Symbol.asyncIterator]: async function* () {
          try {
            yield* unpacked
          } finally {
            body.destroy()
            client.close()
          }
        },
      }
      return {
        notModified: false,
        text,
        validators: { etag: header('etag'), lastModified: header('last-modified') },
        received: () => received,
        expected: Number.isFinite(length) ? length : undefined,
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
      if (!handedOver) client.close()
    }
  }
