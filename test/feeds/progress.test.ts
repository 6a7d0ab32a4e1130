/** Progress on a long feed run, on a fake clock: a redrawn line on a terminal, a log line every 10 s otherwise. */
import t from 'tap'
import { startProgress } from '../../src/feed-job/progress.js'
import { FakeClock } from '../helpers/fake-clock.js'

t.test('without a terminal: a log line at least every 10 s, with rows, batches and how much came', async (t) => {
  const clock = new FakeClock()
  const logged: string[] = []
  const progress = startProgress({
    feed: 'urlhaus',
    tty: false,
    write: () => t.fail('no redraw without a terminal'),
    log: (l) => logged.push(l),
    clock,
  })
  progress.figures.rows = 1_234
  progress.figures.batches = 2
  progress.figures.bytes = 512 * 1024
  progress.figures.expectedBytes = 1024 * 1024
  await clock.advance(9_999)
  t.same(logged, [], 'nothing before 10 s')
  await clock.advance(1)
  t.same(logged, ['urlhaus: 1,234 rows read, 2 batches uploaded, 50% of the download, about 10 s left'])
  await clock.advance(10_000)
  t.equal(logged.length, 2, 'and again, even when nothing moved')
  progress.stop()
  await clock.advance(30_000)
  t.equal(logged.length, 2, 'stopped')
})

t.test('on a terminal: one line redrawn in place, at most every 250 ms, ended by a line break', async (t) => {
  const clock = new FakeClock()
  const written: string[] = []
  const progress = startProgress({
    feed: 'threatfox',
    tty: true,
    write: (w) => written.push(w),
    log: () => t.fail('no log lines on a terminal'),
    clock,
  })
  progress.figures.rows = 10
  progress.tick()
  progress.figures.rows = 20
  progress.tick()
  t.equal(written.length, 1, 'not redrawn within 250 ms')
  await clock.advance(250)
  progress.tick()
  t.match(written, [/^\rthreatfox: 10 rows read, 0 batches uploaded, 0 KiB read/, /^\rthreatfox: 20 rows read/])
  progress.stop()
  t.match(written.at(-1), /\n$/)
})
