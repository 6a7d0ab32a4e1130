/** An embedded source's instance: answers at once, and an unexpected error names what failed with which indicator. */
import t from 'tap'
import { SourceError } from '../../src/errors.js'
import { normaliseIndicator } from '../../src/indicators/normalise.js'
import type { Indicator } from '../../src/indicators/types.js'
import { answeringInstance } from '../../src/sources/answering-instance.js'
import type { LookupContext } from '../../src/sources/types.js'
import { finding } from '../helpers/findings.js'

const address = (): Indicator => {
  const result = normaliseIndicator('1.2.3.4', 'Auto')
  if (!result.ok) throw new Error(result.reason)
  return result.indicator
}
const ctx = {} as LookupContext
const health = () => ({ state: 'ready' as const, detail: 'test' })

t.test('an answer comes back as it is, at once and as a promise', async (t) => {
  const answer = finding('benign')
  const instance = answeringInstance(health, () => answer, 'test')
  t.equal(instance.answer?.(address(), ctx), answer)
  t.equal(await instance.lookup(address(), ctx), answer)
})

t.test(
  "an unexpected error becomes 'internal', naming the doing and the indicator; a SourceError passes as it is",
  async (t) => {
    const broken = answeringInstance(
      health,
      () => {
        throw new TypeError('no ranges loaded')
      },
      'classify',
    )
    const thrown = (() => {
      try {
        broken.answer?.(address(), ctx)
      } catch (err) {
        return err
      }
      return undefined
    })()
    t.ok(thrown instanceof SourceError)
    t.match(thrown, { kind: 'internal', message: "cannot classify Address '1.2.3.4': no ranges loaded" })
    await t.rejects(broken.lookup(address(), ctx), {
      kind: 'internal',
      message: "cannot classify Address '1.2.3.4': no ranges loaded",
    })
    const refusing = answeringInstance(
      health,
      () => {
        throw new SourceError('not_configured', 'no list loaded')
      },
      'match',
    )
    await t.rejects(refusing.lookup(address(), ctx), { kind: 'not_configured', message: 'no list loaded' })
  },
)
