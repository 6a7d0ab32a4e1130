/**
 * The integration video `npm run video` makes (docs/media/integration-demo.mp4): a real MP4 under three minutes,
 * its WebVTT captions covering it, and the documents pointing at it.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { findProjectRoot } from '../../src/contract/project-root.js'

const root = findProjectRoot()
const video = readFileSync(join(root, 'docs/media/integration-demo.mp4'))
const captions = readFileSync(join(root, 'docs/media/integration-demo.vtt'), 'utf8')

/** The movie's length from its `mvhd` box (ISO base media file format), in seconds. */
const mp4Seconds = (mp4: Buffer): number => {
  const at = mp4.indexOf('mvhd')
  if (at < 0) throw new Error('no mvhd box: not an MP4')
  const version = mp4.readUInt8(at + 4)
  return version === 1
    ? Number(mp4.readBigUInt64BE(at + 28)) / mp4.readUInt32BE(at + 24)
    : mp4.readUInt32BE(at + 20) / mp4.readUInt32BE(at + 16)
}

const cueSeconds = (stamp: string): number => {
  const [h, m, s] = stamp.split(':').map(Number) as [number, number, number]
  return h * 3600 + m * 60 + s
}

t.test('the video is an MP4 of the integration, under three minutes', async (t) => {
  t.equal(video.subarray(4, 8).toString('latin1'), 'ftyp', 'an ISO media file')
  const seconds = mp4Seconds(video)
  t.ok(seconds > 30 && seconds < 180, `${seconds.toFixed(1)} s`)
})

t.test('its captions are WebVTT and cover it to the end', async (t) => {
  t.match(captions, /^WEBVTT\n/)
  const ends = [...captions.matchAll(/--> (\d\d:\d\d:\d\d\.\d{3})/g)].map((m) => cueSeconds(m[1] ?? ''))
  t.ok(ends.length >= 5, `${ends.length} captions`)
  t.ok(Math.abs((ends.at(-1) ?? 0) - mp4Seconds(video)) < 2, 'the last caption ends with the video')
})

t.test('the user guide and the solution design point to it', async (t) => {
  for (const doc of ['docs/user-guide.md', 'docs/solution-design.md']) t.match(readFileSync(join(root, doc), 'utf8'), 'media/integration-demo.mp4', doc)
})
