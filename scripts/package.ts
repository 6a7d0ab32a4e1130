/**
 * `npm run package` (after `npm run build`): checks the contract and the playbook templates, then writes what a
 * partner hands over, named as ThreatConnect's packaging guide asks (`<company>_<product>_v<major>`, the technical
 * name in package.json's `threatconnect.packageName`; the version is package.json's, which app.config.json must match):
 * - dist/package/<name>_service_v<major>.tgz, the service's deployment archive: the built service with its
 *   production dependencies, so `node dist/src/server.js` runs on a machine with no registry access; the contract
 *   (app.config.json, the service's spec; no install.json: nothing here is installed on the platform) and the data.
 * - dist/package/<name>_v<major>.zip, the ThreatConnect bundle: the .pbxz templates to import, the user guide, the
 *   design documents, the QA plan, the change log, and every file those link to (so every link resolves inside it).
 * Both are reproducible: same inputs, same bytes (sorted entries, fixed owner and time, no gzip time).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { gzipSync } from 'node:zlib'
import { loadContract } from '../src/contract/load.js'
import { findProjectRoot } from '../src/contract/project-root.js'
import type { AppConfig, Contract } from '../src/contract/types.js'
import { ContractError, formatContractProblem } from '../src/errors.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'
import { checkTemplateText } from './templates/check.js'
import { formatTemplateProblem } from './templates/problems.js'
import { strToU8, zipSync, type Zippable } from 'fflate'
import { TEMPLATES_DIR, renderTemplates, unpackPbxz } from './templates/render.js'
import { BUNDLE_DOCUMENTS, BUNDLE_README } from './docs/bundle.js'
import { linkClosure } from './docs/links.js'

const PACKAGE_DIR = 'dist/package'

/** The deployment archive, relative to the project root. Optional entries are taken when present. */
const SERVICE_ENTRIES: readonly { path: string; optional?: boolean }[] = [
  { path: 'dist/src' },
  { path: 'package.json' },
  { path: 'package-lock.json' },
  { path: 'app.config.json' },
  { path: 'layouts/layout.json' },
  { path: 'data' },
  { path: 'README.md', optional: true },
  { path: 'CHANGELOG.md', optional: true },
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
    return fail([
      ...error.problems.map(formatContractProblem),
      `contract check failed: ${error.problems.length} problem(s); no package written`,
    ])
  }
}

/** Shipped templates must pass their checks and match the contract they ship with. */
const checkTemplates = (root: string, { config, layout }: Contract): void => {
  const shipped = new Map<string, string>(
    readdirSync(join(root, TEMPLATES_DIR))
      .filter((f) => f.endsWith('.pbxz'))
      .map((f) => [`${TEMPLATES_DIR}/${f}`, unpackPbxz(readFileSync(join(root, TEMPLATES_DIR, f)))]),
  )
  const problems = [...shipped].flatMap(([file, text]) =>
    checkTemplateText(text, config, file).map(formatTemplateProblem),
  )
  for (const { file, text } of renderTemplates(config, layout)) {
    if (shipped.get(file) !== text) problems.push(`${file}: out of date with app.config.json (npm run templates)`)
  }
  if (problems.length > 0)
    fail([...problems, `template check failed: ${problems.length} problem(s); no package written`])
}

/** `<company>_<product>`: lower case, words joined by `_` (ThreatConnect's packaging guide). */
const technicalNameOf = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')

/**
 * Leaves out source maps (they point at TypeScript that is not shipped) and compiled files whose source is gone
 * (tsc never deletes: a renamed module would otherwise ship twice).
 */
const shippedFrom =
  (root: string) =>
  (source: string): boolean => {
    if (source.endsWith('.map') || source.endsWith('.tsbuildinfo') || source.endsWith('.d.ts')) return false
    const built = relative(join(root, 'dist'), source)
    if (built.startsWith('..') || !built.endsWith('.js')) return true
    return existsSync(join(root, built.replace(/\.js$/, '.ts')))
  }

/** The installed production dependencies (npm's own list), each copied without its nested node_modules (listed too). */
const productionDependencies = (root: string): string[] => {
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  })
  return listed
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== root)
    .map((line) => relative(root, line))
    .filter((path) => path.startsWith('node_modules'))
    .sort()
}

const stage = (root: string, into: string, config: AppConfig): number => {
  const missing = SERVICE_ENTRIES.filter((e) => !e.optional && !existsSync(join(root, e.path))).map((e) => e.path)
  if (missing.length > 0)
    fail([`missing ${missing.join(', ')} (dist/src comes from npm run build); no package written`])
  for (const entry of SERVICE_ENTRIES) {
    const from = join(root, entry.path)
    if (!existsSync(from)) {
      console.warn(`note: ${entry.path} is not there; packaged without it`)
      continue
    }
    mkdirSync(dirname(join(into, entry.path)), { recursive: true })
    cpSync(from, join(into, entry.path), { recursive: true, filter: shippedFrom(root) })
  }
  for (const dep of productionDependencies(root)) {
    cpSync(join(root, dep), join(into, dep), {
      recursive: true,
      filter: (source) => !relative(join(root, dep), source).startsWith('node_modules'),
    })
  }
  if (!existsSync(join(into, config.programMain)))
    fail([`programMain ${config.programMain} is not in the package; run npm run build first`])
  return countFiles(into)
}

/** Every file under the bundle entries, in name order, as zip entries with a fixed time. */
const bundleOf = (root: string, top: string): Zippable => {
  const files: Zippable = {}
  const missing = BUNDLE_DOCUMENTS.filter((d) => !existsSync(join(root, d)))
  if (missing.length > 0) fail([`missing ${missing.join(', ')}; no bundle written`])
  const { files: reached, missing: broken } = linkClosure(root, [...BUNDLE_DOCUMENTS, TEMPLATES_DIR])
  if (broken.length > 0) fail([...broken.map((b) => `a link points at nothing: ${b}`), 'no bundle written'])
  for (const path of reached)
    files[`${top}/${path}`] = [readFileSync(join(root, path)), { mtime: new Date(FIXED_MTIME * 1000) }]
  files[`${top}/README.txt`] = [strToU8(BUNDLE_README), { mtime: new Date(FIXED_MTIME * 1000) }]
  return files
}

const countFiles = (dir: string): number =>
  readdirSync(dir).reduce(
    (n, name) => n + (statSync(join(dir, name)).isDirectory() ? countFiles(join(dir, name)) : 1),
    0,
  )

/** GNU tar can make the archive reproducible; any other tar still makes a good one. */
const tarArgs = (): string[] => {
  const version = execFileSync('tar', ['--version'], { encoding: 'utf8' })
  if (!version.includes('GNU tar')) return []
  return [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    `--mtime=@${FIXED_MTIME}`,
    '--mode=u+rwX,go+rX,go-w',
  ]
}

const main = (): void => {
  const root = findProjectRoot()
  const contract = loadCheckedContract(root)
  checkTemplates(root, contract)
  const { config } = contract
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version?: string
    threatconnect?: { packageName?: string }
  }
  const version = pkg.version ?? ''
  if (version !== config.programVersion) {
    fail([
      `package.json version ${version} and app.config.json programVersion ${config.programVersion} differ; package.json's is the version: set programVersion to it`,
    ])
  }
  const technical = technicalNameOf(pkg.threatconnect?.packageName ?? config.displayName)
  const major = `v${version.split('.')[0] ?? '0'}`
  const name = `${technical}_service_${major}`
  const staging = mkdtempSync(join(tmpdir(), 'package-'))
  mkdirSync(join(root, PACKAGE_DIR), { recursive: true })
  const report = (file: string, files: number, bytes: Uint8Array): void =>
    console.log(
      `${PACKAGE_DIR}/${file}: ${files} files, ${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}`,
    )
  try {
    const files = stage(root, join(staging, name), config)
    const tar = execFileSync('tar', [...tarArgs(), '-cf', '-', '-C', staging, name], { maxBuffer: 1 << 30 })
    // zlib writes no file name and a zero time into the gzip header, unlike gzip(1).
    const archive = gzipSync(tar, { level: 6 })
    writeFileSync(join(root, PACKAGE_DIR, `${name}.tgz`), archive)
    report(`${name}.tgz`, files, archive)
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  const bundleName = `${technical}_${major}`
  const entries = bundleOf(root, bundleName)
  const bundle = zipSync(entries, { level: 9 })
  writeFileSync(join(root, PACKAGE_DIR, `${bundleName}.zip`), bundle)
  report(`${bundleName}.zip`, Object.keys(entries).length, bundle)
}

main()
