/**
 * `node dist/scripts/package.js` end to end: the deployment archive has what a deployment needs (its production
 * dependencies included, no install.json), is reproducible, and the service unpacked from it starts with `node`
 * alone (nothing linked in, no registry), is healthy and enriches; the ThreatConnect bundle holds what an admin
 * imports and reads.
 */
import t, { type Test } from 'tap'
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { unzipSync } from 'fflate'
import { tmpdir } from 'node:os'
import { join, posix, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { findProjectRoot } from '../../src/contract/project-root.js'
import type { AppConfig } from '../../src/contract/types.js'
import { relativeLinks } from '../../scripts/docs/links.js'
import { dockerfileOf } from '../helpers/dockerfile.js'

// A cold build (CI has no dist/) on a busy machine can take a while.
t.setTimeout(300_000)

const run = promisify(execFile)
const root = findProjectRoot()
const config = JSON.parse(readFileSync(join(root, 'app.config.json'), 'utf8')) as AppConfig
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
const major = `v${pkg.version.split('.')[0]}`

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

const packageOnce = async (): Promise<{ archive: string; bundle: string; stdout: string }> => {
  const { stdout } = await run(process.execPath, [join(root, 'dist/scripts/package.js')], {
    cwd: root,
    maxBuffer: 1 << 24,
  })
  const archive = /^(\S+\.tgz):/m.exec(stdout)?.[1]
  const bundle = /^(\S+\.zip):/m.exec(stdout)?.[1]
  if (archive === undefined || bundle === undefined) throw new Error(`package.js said: ${stdout}`)
  return { archive: join(root, archive), bundle: join(root, bundle), stdout }
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')

/**
 * The command, run as `user` (uid:gid) through setpriv when one is given. Without the NODE_OPTIONS the test runner
 * adds to every child (its process tracking, which writes under the project's .tap/ and so fails as another user):
 * an image has none.
 */
const asUser = (user: string | undefined, command: readonly string[]): [string, string[]] => {
  const [file = '', ...args] = command
  const bin = file === 'node' ? process.execPath : file
  if (user === undefined) return [bin, args]
  const [uid = '', gid = uid] = user.split(':')
  return [
    'env',
    ['-u', 'NODE_OPTIONS', 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', bin, ...args],
  ]
}

/** Starts `node dist/src/server.js` in `dir`; resolves with its base URL once it logs that it listens. */
const startService = (
  t: Test,
  dir: string,
  env: Record<string, string>,
  options: { command?: readonly string[]; user?: string } = {},
): Promise<{ url: string; child: ChildProcess }> => {
  const [bin, args] = asUser(options.user, options.command ?? ['node', 'dist/src/server.js'])
  const child = spawn(bin, args, {
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
    // A build that fails fails this test: a package of a half-built service is no package.
    const built = await run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      { cwd: root },
    ).then(
      () => true,
      (error: { stdout?: string }) => t.fail(`the build failed:\n${error.stdout ?? String(error)}`),
    )
    if (!built) return
  }

  const first = await packageOnce()
  t.equal(config.programVersion, pkg.version, "one version: package.json's")
  t.equal(
    first.archive,
    join(root, 'dist/package', `tcenrich_indicator_enrichment_service_${major}.tgz`),
    'named <company>_<product>_service_v<major>.tgz, as ThreatConnect names packages',
  )
  t.equal(
    first.bundle,
    join(root, 'dist/package', `tcenrich_indicator_enrichment_${major}.zip`),
    'named <company>_<product>_v<major>.zip',
  )
  t.match(first.stdout, /\d+ files, \d+ bytes, sha256 [0-9a-f]{64}/)
  const digests = [sha256(first.archive), sha256(first.bundle)]
  const second = await packageOnce()
  t.same([sha256(second.archive), sha256(second.bundle)], digests, 'same inputs, same bytes')

  t.test('the ThreatConnect bundle: the templates to import and the documents, nothing of the service', async (t) => {
    const entries = Object.keys(unzipSync(readFileSync(first.bundle))).map((e) => e.split('/').slice(1).join('/'))
    for (const f of [
      'playbook-templates/enrich-indicator.component.pbxz',
      'playbook-templates/enrich-on-demand.playbook.pbxz',
      'docs/user-guide.md',
      'docs/solution-design.md',
      'CHANGELOG.md',
    ]) {
      t.ok(entries.includes(f), f)
    }
    t.ok(
      entries.some((e) => e.startsWith('docs/media/')),
      'the media',
    )
    t.notOk(
      entries.some((e) => e.endsWith('install.json') || e.startsWith('dist/') || e.startsWith('node_modules/')),
      'no install.json, no service code',
    )
    for (const f of ['docs/feed-job-design.md', 'docs/alerts-design.md', 'docs/qa-plan.md'])
      t.ok(entries.includes(f), f)
    t.notOk(entries.includes('docs/media/integration-flow.dot'), 'no file nothing links to (the diagram source)')
  })

  t.test("every link in the bundle resolves inside it; one import instruction, the guide's", async (t) => {
    const zip = unzipSync(readFileSync(first.bundle))
    const entries = new Set(Object.keys(zip).map((e) => e.split('/').slice(1).join('/')))
    const folders = new Set(
      [...entries].flatMap((e) =>
        e
          .split('/')
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
      ),
    )
    let links = 0
    for (const [name, bytes] of Object.entries(zip)) {
      const path = name.split('/').slice(1).join('/')
      if (!path.endsWith('.md')) continue
      for (const target of relativeLinks(new TextDecoder().decode(bytes))) {
        links++
        const resolved = posix.normalize(posix.join(posix.dirname(path), target)).replace(/\/$/, '')
        t.ok(entries.has(resolved) || folders.has(resolved), `${path} -> ${target}`)
      }
    }
    t.ok(links > 40, `${links} links followed`)
    const readme = new TextDecoder().decode(zip[Object.keys(zip).find((e) => e.endsWith('/README.txt')) ?? ''])
    t.match(readme, 'enrich-on-demand.playbook.pbxz')
    t.match(readme, 'do not import the component file as well')
    const guide = new TextDecoder().decode(zip[Object.keys(zip).find((e) => e.endsWith('/docs/user-guide.md')) ?? ''])
    t.match(guide, 'import only this file', 'the guide says the same')
  })

  const unpacked = mkdtempSync(join(tmpdir(), 'package-test-'))
  t.teardown(() => rmSync(unpacked, { recursive: true, force: true }))
  await run('tar', ['-xzf', first.archive, '-C', unpacked])
  const top = readdirSync(unpacked)
  t.same(top, [`tcenrich_indicator_enrichment_service_${major}`], 'one top-level folder')
  const dir = join(unpacked, top[0] ?? '')
  const files = filesUnder(dir).map((f) => relative(dir, f))

  t.test('contents', async (t) => {
    for (const f of [
      'dist/src/server.js',
      'package.json',
      'package-lock.json',
      'app.config.json',
      'layouts/layout.json',
      'data/watchlist.sample.csv',
      'node_modules/fastify/package.json',
    ]) {
      t.ok(files.includes(f), f)
    }
    t.notOk(
      files.some((f) => f.endsWith('install.json')),
      'no install.json: nothing here is installed on the platform',
    )
    t.same(JSON.parse(readFileSync(join(dir, 'app.config.json'), 'utf8')), config, 'the contract ships as itself')
    for (const dev of ['typescript', 'tap', 'jmespath', 'autocannon'])
      t.notOk(existsSync(join(dir, 'node_modules', dev)), `no dev dependency ${dev}`)
    t.same(
      files.filter(
        (f) =>
          (f.endsWith('.map') && !f.startsWith('node_modules/')) ||
          (f.endsWith('.ts') && !f.startsWith('node_modules/')) ||
          f.startsWith('test/') ||
          f.startsWith('src/') ||
          f.startsWith('scripts/'),
      ),
      [],
      'no sources, maps, tests or tools',
    )
    const compiled = files
      .filter((f) => f.startsWith('dist/') && f.endsWith('.js'))
      .map((f) => f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))
    t.same(
      compiled.filter((f) => !existsSync(join(root, f))),
      [],
      'every compiled module has its source in the repo (no stale leftovers)',
    )
    t.ok(
      compiled.every((f) => f.startsWith('src/')),
      'only the service (dist/src) is shipped',
    )
  })

  t.test('the unpacked service starts with node alone, is healthy and enriches', async (t) => {
    const token = 'package-test-token'
    const { url, child } = await startService(t, dir, { RUN_TOKEN: token })

    const health = await fetch(`${url}/health`)
    t.equal(health.status, 200)
    t.match(await health.json(), { status: 'ready', version: config.programVersion })

    const body = JSON.stringify({ indicator: 'evil[.]example', sources: 'watchlist|classify', write_note: false })
    const refused = await fetch(`${url}/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    t.equal(refused.status, 401, 'RUN_TOKEN is enforced')
    const res = await fetch(`${url}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    })
    t.equal(res.status, 200)
    const reply = (await res.json()) as { exitCode: number; outputs: { enrich: { results: Record<string, unknown> } } }
    t.equal(reply.exitCode, 0)
    t.equal(reply.outputs.enrich.results['indicator'], 'evil.example')
    t.equal(reply.outputs.enrich.results['verdict'], 'malicious', 'the packaged sample watchlist is found and used')

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    t.equal(await exited, 0, 'stops cleanly on SIGTERM')
  })

  t.test("the image's start: its CMD from the archive as its user, writing only in the state volume", async (t) => {
    // No container engine here: the image's /app is this archive, its ENV, USER, VOLUME, HEALTHCHECK and CMD are
    // read from deploy/Dockerfile and applied as the engine would (the volume mapped to a folder of the test's).
    const image = dockerfileOf(readFileSync(join(root, 'deploy/Dockerfile'), 'utf8'))
    const root0 = process.getuid?.() === 0
    // As root the test switches to the image's user; otherwise it already runs as a user that is not root.
    const user = root0 ? `${image.user.uid}:${image.user.gid ?? image.user.uid}` : undefined
    const volume = mkdtempSync(join(tmpdir(), 'image-volume-'))
    t.teardown(() => rmSync(volume, { recursive: true, force: true }))
    if (root0) {
      chownSync(volume, Number(image.user.uid), Number(image.user.gid ?? image.user.uid))
      // The app is root's and only readable by the service, as COPY leaves it in the image.
      for (const d of [unpacked, dir]) chmodSync(d, 0o755)
    } else chmodSync(dir, 0o555)
    const [mount = ''] = image.volumes
    const env = Object.fromEntries(
      Object.entries(image.env).map(([k, v]) => [
        k,
        v.startsWith(`${mount}/`) ? join(volume, v.slice(mount.length)) : v,
      ]),
    )
    const before = snapshotOf(dir)

    const [bin, args] = asUser(user, image.cmd)
    const refused = spawnSync(bin, args, {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      encoding: 'utf8',
    })
    t.not(refused.status, 0, `HOST=${image.env['HOST']} without RUN_TOKEN: it does not start`)
    t.match(refused.stderr + refused.stdout, /RUN_TOKEN/, 'and says which setting it needs')

    const { url, child } = await startService(
      t,
      dir,
      { ...env, HOST: '127.0.0.1', PORT: '0', RUN_TOKEN: 'image-test-token' },
      { command: image.cmd, ...(user !== undefined ? { user } : {}) },
    )
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]
    t.not(uid, '0', `it runs as uid ${uid}, not root`)
    if (user !== undefined) t.equal(uid, image.user.uid, "the Dockerfile's USER")
    t.equal((await fetch(`${url}/health`)).status, 200)
    const [hcBin, hcArgs] = asUser(user, image.healthcheck)
    const port = new URL(url).port
    const health = spawnSync(hcBin, hcArgs, { env: { PATH: process.env['PATH'] ?? '', PORT: port }, encoding: 'utf8' })
    t.equal(health.status, 0, 'the HEALTHCHECK command says healthy')
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    t.equal(await exited, 0, 'stops cleanly on SIGTERM')
    t.same(snapshotOf(dir), before, 'nothing in the app was written')
    t.ok(
      filesUnder(volume).some((f) => f.includes('asn-cache')),
      'what it keeps (the ASN tables) went to the state volume',
    )
  })
})

/** Every file under `dir` with its size and modification time. */
const snapshotOf = (dir: string): string[] =>
  filesUnder(dir).map((f) => {
    const s = statSync(f)
    return `${relative(dir, f)} ${s.size} ${s.mtimeMs}`
  })
