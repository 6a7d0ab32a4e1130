import t from 'tap'
import { CircuitBreaker } from '../../src/http/circuit-breaker.js'
import { SourceError } from '../../src/errors.js'

const clock = () => {
  let now = 1000
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

const rejection = (fn: () => unknown): SourceError => {
  try {
    fn()
  } catch (err) {
    return err as SourceError
  }
  throw new Error('expected a throw')
}

t.test('opens after N consecutive failures, skips during the cool-down, then one trial', async (t) => {
  const c = clock()
  const b = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 10_000, now: c.now })
  for (let i = 0; i < 2; i++) b.failure(b.admit())
  t.equal(b.state(), 'closed')
  b.failure(b.admit())
  t.equal(b.state(), 'open')
  const skipped = rejection(() => b.admit())
  t.equal(skipped.kind, 'circuit_open')
  t.equal(skipped.skipped, true)
  t.equal(skipped.message, 'circuit open after 3 consecutive failures; next trial in 10 s')
  c.advance(4_500)
  t.match(rejection(() => b.admit()).message, /next trial in 6 s$/)
  c.advance(5_500)
  t.equal(b.state(), 'half_open')
  const trial = b.admit()
  t.equal(trial.trial, true)
  t.match(rejection(() => b.admit()).message, /a trial call is in progress/, 'only one trial at a time')
  b.success(trial)
  t.equal(b.state(), 'closed')
  t.equal(b.admit().trial, false)
})

t.test('a failed trial re-opens for another cool-down', async (t) => {
  const c = clock()
  const b = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 100, now: c.now })
  b.failure(b.admit())
  c.advance(100)
  b.failure(b.admit())
  t.equal(b.state(), 'open')
  t.match(rejection(() => b.admit()).message, /after 2 consecutive failures; next trial in 1 s/)
  c.advance(100)
  t.equal(b.state(), 'half_open')
})

t.test('an abandoned trial lets the next call be the trial', async (t) => {
  const c = clock()
  const b = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 100, now: c.now })
  b.failure(b.admit())
  c.advance(150)
  b.abandon(b.admit())
  t.equal(b.admit().trial, true)
})

t.test('a success resets the consecutive count', async (t) => {
  const b = new CircuitBreaker({ failureThreshold: 2 })
  b.failure(b.admit())
  b.success(b.admit())
  b.failure(b.admit())
  t.equal(b.state(), 'closed')
  b.failure(b.admit())
  t.equal(b.state(), 'open')
})
