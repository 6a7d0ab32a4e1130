/** A job's process context for a test (as `npm run feed` opens one), closed at teardown. */
import { openJobContext, type ProcessContext } from '../../src/context/process-context.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export const jobContext = async (
  t: Teardown,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<ProcessContext> => {
  const context = await openJobContext({ LOG_LEVEL: 'error', ...env }, 'tc-enrich-test/1.0')
  t.teardown(() => context.close())
  return context
}
