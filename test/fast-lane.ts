/**
 * `npm run test:fast`: the unit and component tests in one process, for daily work. Most of a full run's time is each
 * test file's own process compiling the same TypeScript again; here every module is compiled once. The end-to-end
 * suites (test/hardening: child processes, soaks; test/package: the build and the archive) stay in `npm test`, which
 * is still the whole suite (CI).
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))
const SLOW = new Set(['hardening', 'package'])

const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts') && !SLOW.has(f.split(/[\\/]/)[0] ?? ''))
  .sort()
for (const file of files) await import(pathToFileURL(join(root, file)).href)
