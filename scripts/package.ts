/**
 * `npm run package` (after `npm run build`): checks the contract and the playbook templates, then writes ONE
 * versioned archive, dist/package/<slug>-v<programVersion>.tgz, holding what an install needs: the built
 * service, package.json + package-lock.json (`npm ci --omit=dev` installs the runtime deps), app.config.json
 * and the install.json made from it, the layout, the playbook templates, the docs and the sample data.
 * The archive is reproducible: same inputs, same bytes (sorted entries, fixed owner and time, no gzip time).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { gzipSync } from 'node:zlib'
import { loadContract } from '../src/contract/load.js'
import { findProjectRoot } from '../src/contract/project-root.js'
import type { AppConfig, Contract } from '../src/contract/types.js'
import { ContractError, formatContractProblem } from '../src/errors.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'
import { checkTemplateText } from '../src/templates/check.js'
import { formatTemplateProblem } from '../src/templates/problems.js'
import { TEMPLATES_DIR, renderTemplates } from '../src/templates/render.js'

const PACKAGE_DIR = 'dist/package'

/** What goes in, relative to the project root. Optional entries are taken when present. */
const ENTRIES: readonly { path: string; optional?: boolean }[] = [
  { path: 'dist/src' },
  { path: 'package.json' },
  { path: 'package-lock.json' },
  { path: 'app.config.json' },
  { path: 'layouts/layout.json' },
  { path: TEMPLATES_DIR },
  { path: 'data' },
  { path: 'README.md', optional: true },
  { path: 'docs', optional: true },
]

/** 1980-01-01, as zip tools use, unless the build sets SOURCE_DATE_EPOCH. */
const FIXED_MTIME = Number(process.env['SOURCE_DATE_EPOCH'] ?? 315532800)

const fail = (lines: readonly string[]): never => {
  for (const line of lines) console.error(line)
  process.exit(1)
}

const loadCheckedContract = (root: string): Contract => {
  try {
    return loadContract({ root, sources: SOURCE_DEFINITIONS })
  } catch (error) {
    if (!(error instanceof ContractError)) throw error
    return fail([...error.problems.map(formatContractProblem), `contract check failed: ${error.problems.length} problem(s); no package written`])
  }
}

/** Shipped templates must pass their checks and match the contract they ship with. */
const checkTemplates = (root: string, { config, layout }: Contract): void => {
  const dir = join(root, TEMPLATES_DIR)
  const files = readdirSync(dir).filter((f) => f.endsWith('.pbx'))
  const problems = files.flatMap((f) => checkTemplateText(readFileSync(join(dir, f), 'utf8'), config, `${TEMPLATES_DIR}/${f}`).map(formatTemplateProblem))
  for (const { file, text } of renderTemplates(config, layout)) {
    if (!existsSync(join(root, file)) || readFileSync(join(root, file), 'utf8') !== text) problems.push(`${file}: out of date with app.config.json (npm run templates)`)
  }
  if (problems.length > 0) fail([...problems, `template check failed: ${problems.length} problem(s); no package written`])
}

const slugOf = (name: string): string =>
  name
    .toLowerCase()
    .replace(/^@[^/]+\//, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')

/**
 * Leaves out source maps (they point at TypeScript that is not shipped) and compiled files whose source is gone
 * (tsc never deletes: a renamed module would otherwise ship twice).
 */
const shippedFrom = (root: string) => (source: string): boolean => {
  if (source.endsWith('.map') || source.endsWith('.tsbuildinfo')) return false
  const built = relative(join(root, 'dist'), source)
  if (built.startsWith('..') || !built.endsWith('.js')) return true
  return existsSync(join(root, built.replace(/\.js$/, '.ts')))
}

const stage = (root: string, into: string, config: AppConfig): number => {
  const missing = ENTRIES.filter((e) => !e.optional && !existsSync(join(root, e.path))).map((e) => e.path)
  if (missing.length > 0) fail([`missing ${missing.join(', ')} (dist/src comes from npm run build); no package written`])
  for (const entry of ENTRIES) {
    const from = join(root, entry.path)
    if (!existsSync(from)) {
      console.warn(`note: ${entry.path} is not there; packaged without it`)
      continue
    }
    mkdirSync(dirname(join(into, entry.path)), { recursive: true })
    cpSync(from, join(into, entry.path), { recursive: true, filter: shippedFrom(root) })
  }
  writeFileSync(join(into, 'install.json'), `${JSON.stringify(config, null, 2)}\n`)
  if (!existsSync(join(into, config.programMain))) fail([`programMain ${config.programMain} is not in the package; run npm run build first`])
  return countFiles(into)
}

const countFiles = (dir: string): number =>
  readdirSync(dir).reduce((n, name) => n + (statSync(join(dir, name)).isDirectory() ? countFiles(join(dir, name)) : 1), 0)

/** GNU tar can make the archive reproducible; any other tar still makes a good one. */
const tarArgs = (): string[] => {
  const version = execFileSync('tar', ['--version'], { encoding: 'utf8' })
  if (!version.includes('GNU tar')) return []
  return ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${FIXED_MTIME}`, '--mode=u+rwX,go+rX,go-w']
}

const main = (): void => {
  const root = findProjectRoot()
  const contract = loadCheckedContract(root)
  checkTemplates(root, contract)
  const { config } = contract
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string; version?: string }
  if (pkg.version !== config.programVersion) {
    fail([`package.json version ${pkg.version} and app.config.json programVersion ${config.programVersion} differ; make them one version`])
  }
  const name = `${slugOf(pkg.name ?? config.displayName)}-v${config.programVersion}`
  const staging = mkdtempSync(join(tmpdir(), 'package-'))
  try {
    const files = stage(root, join(staging, name), config)
    const tar = execFileSync('tar', [...tarArgs(), '-cf', '-', '-C', staging, name], { maxBuffer: 1 << 30 })
    // zlib writes no file name and a zero time into the gzip header, unlike gzip(1).
    const archive = gzipSync(tar, { level: 9 })
    const out = join(root, PACKAGE_DIR, `${name}.tgz`)
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, archive)
    const sha256 = createHash('sha256').update(archive).digest('hex')
    console.log(`${PACKAGE_DIR}/${name}.tgz: ${files} files, ${archive.length} bytes, sha256 ${sha256}`)
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

main()
