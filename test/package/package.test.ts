/**
 * `node dist/scripts/package.js` end to end: the archive has what an install needs, is reproducible, and the
 * service unpacked from it (with the repo's node_modules linked in: no network) starts, is healthy and enriches.
 */
import t, { type Test } from 'tap'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { findProjectRoot } from '../../src/contract/project-root.js'
import type { AppConfig } from '../../src/contract/types.js'

// A cold build (CI has no dist/) on a busy machine can take a while.
t.setTimeout(300_000)

const run = promisify(execFile)
const root = findProjectRoot()
const config = JSON.parse(readFileSync(join(root, 'app.config.json'), 'utf8')) as AppConfig
const packageName = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string }).name

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

/** dist/ is stale when a source is newer than what tsc made of it (or it was never built, as in CI). */
const staleBuild = (): string | undefined => {
  for (const dir of ['src', 'scripts']) {
    for (const source of filesUnder(join(root, dir)).filter((f) => f.endsWith('.ts'))) {
      const built = join(root, 'dist', relative(root, source).replace(/\.ts$/, '.js'))
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) return relative(root, source)
    }
  }
  return undefined
}

const packageOnce = async (): Promise<{ archive: string; stdout: string }> => {
  const { stdout } = await run(process.execPath, [join(root, 'dist/scripts/package.js')], { cwd: root })
  const archive = /^(\S+\.tgz):/m.exec(stdout)?.[1]
  if (archive === undefined) throw new Error(`package.js said: ${stdout}`)
  return { archive: join(root, archive), stdout }
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')

/** Starts `node dist/src/server.js` in `dir`; resolves with its base URL once it logs that it listens. */
const startService = (t: Test, dir: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> => {
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    cwd: dir,
    // Only what the test sets: no vendor keys or platform settings from the developer's shell.
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      }),
  )
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start in 60 s; stderr: ${stderr}`)), 60_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the service exited (${code}) before listening; stderr: ${stderr}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
      if (match?.[1] === undefined) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      resolve({ url: match[1], child })
    })
  })
}

t.test('npm run package: one versioned archive an install can run from', async (t) => {
  const stale = staleBuild()
  if (stale !== undefined) {
    t.comment(`building first (${stale} is newer than its build)`)
    // Other people's files may be mid-edit: tsc still emits, so type errors elsewhere don't stop this test.
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root }).catch(
      (error: { stdout?: string }) => t.comment(`tsc reported errors:\n${error.stdout ?? error}`),
    )
  }

  const first = await packageOnce()
  t.equal(first.archive, join(root, 'dist/package', `${packageName}-v${config.programVersion}.tgz`), 'named <slug>-v<programVersion>.tgz')
  t.match(first.stdout, /\d+ files, \d+ bytes, sha256 [0-9a-f]{64}/)
  const digest = sha256(first.archive)
  const second = await packageOnce()
  t.equal(sha256(second.archive), digest, 'same inputs, same bytes')

  const unpacked = mkdtempSync(join(tmpdir(), 'package-test-'))
  t.teardown(() => rmSync(unpacked, { recursive: true, force: true }))
  await run('tar', ['-xzf', first.archive, '-C', unpacked])
  const top = readdirSync(unpacked)
  t.same(top, [`${packageName}-v${config.programVersion}`], 'one top-level folder')
  const dir = join(unpacked, top[0] ?? '')
  const files = filesUnder(dir).map((f) => relative(dir, f))

  t.test('contents', async (t) => {
    for (const f of ['dist/src/server.js', 'package.json', 'package-lock.json', 'app.config.json', 'install.json', 'layouts/layout.json', 'data/watchlist.sample.csv']) {
      t.ok(files.includes(f), f)
    }
    for (const f of ['README.md', 'docs']) if (existsSync(join(root, f))) t.ok(files.some((p) => p === f || p.startsWith(`${f}/`)), f)
    const templates = readdirSync(join(root, 'playbook-templates'))
    for (const f of templates) t.equal(readFileSync(join(dir, 'playbook-templates', f), 'utf8'), readFileSync(join(root, 'playbook-templates', f), 'utf8'), `playbook-templates/${f}`)
    t.same(JSON.parse(readFileSync(join(dir, 'install.json'), 'utf8')), config, 'install.json is app.config.json')
    t.same(
      files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') || f.startsWith('node_modules/') || f.startsWith('test/') || f.startsWith('src/')),
      [],
      'no sources, maps, tests or node_modules',
    )
    const compiled = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js')).map((f) => f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))
    t.same(compiled.filter((f) => !existsSync(join(root, f))), [], 'every compiled module has its source in the repo (no stale leftovers)')
    t.ok(compiled.every((f) => f.startsWith('src/')), 'only the service (dist/src) is shipped')
  })

  t.test('the unpacked service starts, is healthy and enriches', async (t) => {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir')
    const token = 'package-test-token'
    const { url, child } = await startService(t, dir, { RUN_TOKEN: token })

    const health = await fetch(`${url}/health`)
    t.equal(health.status, 200)
    t.match(await health.json(), { status: 'ready', version: config.programVersion })

    const body = JSON.stringify({ indicator: 'evil[.]example', sources: 'watchlist|classify', write_note: false })
    const refused = await fetch(`${url}/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    t.equal(refused.status, 401, 'RUN_TOKEN is enforced')
    const res = await fetch(`${url}/run`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body })
    t.equal(res.status, 200)
    const reply = (await res.json()) as { exitCode: number; outputs: Record<string, unknown> }
    t.equal(reply.exitCode, 0)
    t.equal(reply.outputs['enrich.results.indicator'], 'evil.example')
    t.equal(reply.outputs['enrich.results.verdict'], 'malicious', 'the packaged sample watchlist is found and used')

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    t.equal(await exited, 0, 'stops cleanly on SIGTERM')
  })
})
