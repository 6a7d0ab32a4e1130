import t from 'tap'
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
  quotaResetWaitMs,
  RETRYABLE_STATUSES,
} from '../../src/http/retry-policy.js'

const policy = { limit: 5, baseDelayMs: 200, maxDelayMs: 1000 }

t.test('backoff doubles from the base, stays in the upper half with jitter, and is capped', async (t) => {
  t.equal(
    backoffDelayMs(1, policy, () => 0),
    100,
  )
  t.equal(
    backoffDelayMs(1, policy, () => 1),
    200,
  )
  t.equal(
    backoffDelayMs(2, policy, () => 1),
    400,
  )
  t.equal(
    backoffDelayMs(3, policy, () => 0.5),
    600,
  )
  t.equal(
    backoffDelayMs(4, policy, () => 1),
    1000,
    'capped at maxDelayMs',
  )
  t.equal(
    backoffDelayMs(30, policy, () => 1),
    1000,
  )
  for (let i = 0; i < 50; i++) {
    const d = backoffDelayMs(2, policy)
    t.ok(d >= 200 && d <= 400, `jittered delay ${d} within [200, 400]`)
  }
  t.same(DEFAULT_RETRY_POLICY, { limit: 2, baseDelayMs: 200, maxDelayMs: 5000 })
})

t.test('retryable statuses', async (t) => {
  t.same([...RETRYABLE_STATUSES].sort(), [408, 429, 500, 502, 503, 504])
})

t.test('Retry-After: seconds or HTTP date', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  t.equal(parseRetryAfterMs('3', now), 3000)
  t.equal(parseRetryAfterMs(' 0 ', now), 0)
  t.equal(parseRetryAfterMs('1.5', now), 1500)
  t.equal(parseRetryAfterMs(['2', '9'], now), 2000, 'first of repeated headers')
  t.equal(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:07 GMT', now), 7000)
  t.equal(parseRetryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a past date means no wait')
  t.equal(parseRetryAfterMs(undefined, now), undefined)
  t.equal(parseRetryAfterMs('', now), undefined)
  t.equal(parseRetryAfterMs('soon', now), undefined)
  t.equal(parseRetryAfterMs('-5', now), undefined)
})

t.test('quota reset: only with remaining 0; epoch seconds, epoch ms or seconds from now', async (t) => {
  const now = 1_800_000_000_000
  t.equal(quotaResetWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2' }, now), 2000)
  t.equal(quotaResetWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1800000005' }, now), 5000)
  t.equal(quotaResetWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1800000000250' }, now), 250)
  t.equal(quotaResetWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1700000000' }, now), 0, 'past reset')
  t.equal(quotaResetWaitMs({ 'ratelimit-remaining': '0', 'ratelimit-reset': '4' }, now), 4000, 'IETF draft names')
  t.equal(quotaResetWaitMs({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': '2' }, now), undefined)
  t.equal(quotaResetWaitMs({ 'x-ratelimit-remaining': '0' }, now), undefined)
  t.equal(quotaResetWaitMs({ 'x-ratelimit-reset': '2' }, now), undefined)
  t.equal(quotaResetWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': 'later' }, now), undefined)
})
