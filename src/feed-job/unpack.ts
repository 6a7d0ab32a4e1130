/**
 * A download's bytes -> the feed's text, as it streams in: a ZIP (URLhaus's full dump is a ZIP holding csv.txt)
 * unpacked with fflate, a gzip file gunzipped, UTF-8 decoded without splitting a character across chunks. Anything
 * that is not text (binary, or an HTML page where a feed was expected) is a clear error naming the URL and the
 * content type it came with, never rows.
 */
import { createGunzip } from 'node:zlib'
import { Readable } from 'node:stream'
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate'

/** How much of the text is looked at to tell a feed from binary or a page. */
const SNIFF_BYTES = 4096

class NotAFeedError extends Error {}

const isZip = (head: Buffer): boolean => head.length >= 4 && head.readUInt32BE(0) === 0x504b0304
const isGzip = (head: Buffer): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b

/** The first file of a ZIP, streamed out as it inflates. */
async function* unzipFirst(body: AsyncIterable<Buffer>, where: string): AsyncGenerator<Buffer> {
  const out: Buffer[] = []
  let failure: Error | undefined
  let chosen: UnzipFile | undefined
  let done = false
  const unzip = new Unzip((file) => {
    if (chosen !== undefined) return
    chosen = file
    file.ondata = (err, data, final) => {
      if (err) failure = new NotAFeedError(`${where}: the ZIP's ${file.name} cannot be unpacked (${err.message})`)
      else out.push(Buffer.from(data))
      if (final) done = true
    }
    file.start()
  })
  unzip.register(UnzipInflate)
  for await (const chunk of body) {
    unzip.push(chunk)
    if (failure !== undefined) throw failure
    while (out.length > 0) yield out.shift() as Buffer
    if (done) return
  }
  unzip.push(new Uint8Array(0), true)
  if (failure !== undefined) throw failure
  while (out.length > 0) yield out.shift() as Buffer
  if (chosen === undefined) throw new NotAFeedError(`${where}: the ZIP holds no file`)
  if (!done)
    throw new NotAFeedError(`${where}: the ZIP ends before its ${chosen.name} does (the download is cut short)`)
}

/** Reads `body` as the feed's text. `where` names the URL and what it was served as, for messages. */
export async function* unpackText(
  body: AsyncIterable<Buffer>,
  contentType: string | undefined,
  url: string,
): AsyncGenerator<string> {
  const where = `${url} (served as ${contentType ?? 'no content type'})`
  const iterator = body[Symbol.asyncIterator]()
  // Enough of the start to know what it is.
  let head = Buffer.alloc(0)
  while (head.length < 4) {
    const next = await iterator.next()
    if (next.done === true) break
    head = Buffer.concat([head, next.value])
  }
  const rest: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: async function* () {
      if (head.length > 0) yield head
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value
    },
  }
  let bytes: AsyncIterable<Buffer> = rest
  if (isZip(head) || /zip/i.test(contentType ?? '')) bytes = unzipFirst(rest, where)
  else if (isGzip(head)) bytes = Readable.from(rest).pipe(createGunzip())

  const decoder = new TextDecoder('utf-8')
  let sniffed = 0
  for await (const chunk of bytes) {
    const buffer = chunk as Buffer
    if (sniffed < SNIFF_BYTES) {
      const look = buffer.subarray(0, SNIFF_BYTES - sniffed)
      if (look.includes(0)) throw new NotAFeedError(`${where} is binary, not the feed's text`)
      if (sniffed === 0 && /^\s*<(!doctype|html)/i.test(look.toString('utf8'))) {
        throw new NotAFeedError(`${where} is an HTML page, not the feed (a login or error page?)`)
      }
      sniffed += look.length
    }
    const text = decoder.decode(buffer, { stream: true })
    if (text !== '') yield text
  }
  const tail = decoder.decode()
  if (tail !== '') yield tail
}
