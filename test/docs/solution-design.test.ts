import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { SERVICE_SETTINGS } from '../../src/config/env.js'
import { findProjectRoot } from '../../src/contract/project-root.js'
import { EXIT_MESSAGE_MAX } from '../../src/enrich/exit-status.js'
import { ERRORS, SOURCE_FAILURE_KINDS } from '../../src/errors.js'
import { DEFAULT_BREAKER } from '../../src/http/circuit-breaker.js'
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUTS } from '../../src/http/client.js'
import { DEFAULT_MAX_WAIT_MS } from '../../src/http/quota-gate.js'
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES } from '../../src/http/retry-policy.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'

const root = findProjectRoot()
const DOC = 'docs/solution-design.md'
const docPath = join(root, DOC)
const doc = readFileSync(docPath, 'utf8')

/** The doc without the generated tables, i.e. what a person wrote (and must keep true by hand). */
const handWritten = doc.replace(/<!-- (\w+):begin -->[\s\S]*?<!-- \1:end -->/g, '')

/** The text under a `## heading`, up to the next `## `. */
const section = (heading: string): string => {
  const start = handWritten.indexOf(`\n## ${heading}\n`)
  if (start < 0) throw new Error(`${DOC} has no section "## ${heading}"`)
  const next = handWritten.indexOf('\n## ', start + 1)
  return handWritten.slice(start, next < 0 ? undefined : next)
}

/** The table row whose first cell is `name` (in backticks). */
const row = (text: string, name: string): string | undefined => text.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))

/** Prose wraps at any space; compare it with line breaks as spaces. */
const flat = (text: string): string => text.replace(/\s+/g, ' ')

const seconds = (ms: number): string => `${ms / 1000} s`

const REQUIRED_MEDIA = ['media/integration-flow.svg', 'media/openapi-overview.png', 'media/openapi-run.png'] as const

t.test('mentions every source id in its own words, each with a use-and-limits row', async (t) => {
  const sources = section('Sources: use and limits')
  for (const src of SOURCE_DEFINITIONS) {
    t.ok(row(sources, src.id), `a row for ${src.id} in the use-and-limits table`)
  }
  t.ok(SOURCE_DEFINITIONS.length >= 10, 'the registry is the one being checked')
})

t.test('quotes each vendor cache lifetime as the source defines it', async (t) => {
  const sources = section('Sources: use and limits')
  for (const src of SOURCE_DEFINITIONS.filter((s) => s.cacheTtlMs !== undefined)) {
    const hours = (src.cacheTtlMs ?? 0) / 3_600_000
    t.match(row(sources, src.id) ?? '', `Cache ${hours} h`, `${src.id} caches for ${hours} h`)
  }
})

t.test('mentions every error code, with the errors table present', async (t) => {
  t.match(doc, '<!-- errors:begin -->')
  for (const code of Object.keys(ERRORS)) t.match(doc, `\`${code}\``, code)
})

t.test('explains every source failure kind by hand', async (t) => {
  const errors = section('Error handling and exit codes')
  for (const kind of [...SOURCE_FAILURE_KINDS, 'unsupported_type']) t.ok(row(errors, kind), `a row for ${kind}`)
})

t.test('the numbers it quotes are the code constants', async (t) => {
  const errors = section('Error handling and exit codes')
  t.match(flat(errors), `cut to ${EXIT_MESSAGE_MAX} characters`, 'exit message limit')
  t.match(row(errors, 'timeout') ?? '', seconds(DEFAULT_TIMEOUTS.connectMs), 'connect timeout')
  t.match(row(errors, 'timeout') ?? '', seconds(DEFAULT_TIMEOUTS.responseMs), 'response timeout')
  t.match(row(errors, 'timeout') ?? '', seconds(DEFAULT_TIMEOUTS.totalMs), 'total timeout')
  t.match(row(errors, 'too_large') ?? '', `${DEFAULT_MAX_RESPONSE_BYTES / 1024 / 1024} MiB`, 'answer cap')
  t.match(row(errors, 'circuit_open') ?? '', `${DEFAULT_BREAKER.failureThreshold} consecutive`, 'breaker threshold')
  t.match(row(errors, 'circuit_open') ?? '', seconds(DEFAULT_BREAKER.coolDownMs), 'breaker cool-down')
  t.match(row(errors, 'rate_limited') ?? '', seconds(DEFAULT_MAX_WAIT_MS), 'longest limiter wait')
  t.match(flat(errors), `at most ${DEFAULT_RETRY_POLICY.limit} after the first attempt`, 'retry limit')
  t.match(flat(errors), `from ${DEFAULT_RETRY_POLICY.baseDelayMs} ms up to ${seconds(DEFAULT_RETRY_POLICY.maxDelayMs)}`, 'backoff')
  // 429 ends as rate_limited, the others as http_error.
  const retried = [...RETRYABLE_STATUSES].filter((s) => s !== 429)
  for (const status of retried) t.match(row(errors, 'http_error') ?? '', String(status), `retried status ${status}`)
})

t.test('the security section names real settings', async (t) => {
  const security = section('Security')
  const known = new Set(Object.values(SERVICE_SETTINGS).map((s) => s.env))
  const named = ['RUN_TOKEN', 'RUN_RATE_LIMIT', 'TC_PROXY_HOST', 'TC_PROXY_PORT', 'TC_PROXY_USERNAME', 'TC_PROXY_PASSWORD', 'TC_PROXY_EXTERNAL', 'TC_PROXY_TC', 'TC_VERIFY', 'BODY_LIMIT']
  for (const env of named) {
    t.ok(known.has(env), `${env} is a setting of the service`)
    t.match(security, `\`${env}\``, `security names ${env}`)
  }
  t.match(flat(security), 'timingSafeEqual', 'says how the token is compared')
  t.match(flat(security), '<path with encoded query>:<METHOD>:<unix seconds>', 'gives the HMAC string to sign')
})

t.test('embeds the diagram and both screenshots, and every embedded image exists', async (t) => {
  const images = [...doc.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '')
  for (const media of REQUIRED_MEDIA) t.ok(images.includes(media), `embeds ${media}`)
  for (const image of images) {
    t.notOk(/^[a-z]+:/i.test(image), `${image} is a file in the repo, not a URL`)
    t.ok(existsSync(resolve(dirname(docPath), image)), `${image} exists`)
  }
})

t.test('every relative link resolves to a file', async (t) => {
  const links = [...doc.matchAll(/(?<!!)\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '')
  const files = links.filter((l) => !/^[a-z]+:/i.test(l) && !l.startsWith('#')).map((l) => l.replace(/#.*$/, ''))
  t.ok(files.length > 0, 'the doc links to other docs')
  for (const file of files) t.ok(existsSync(resolve(dirname(docPath), file)), `${file} exists`)
})

t.test('the diagram SVG was rendered from the current DOT source', async (t) => {
  const dotPath = join(root, 'docs/media/integration-flow.dot')
  const svg = readFileSync(join(root, 'docs/media/integration-flow.svg'), 'utf8')
  const dot = readFileSync(dotPath)
  const marker = /<!-- rendered from integration-flow\.dot sha256:([0-9a-f]{64}) /.exec(svg)
  t.ok(marker, 'the SVG carries the render marker (run scripts/render-diagram.sh)')
  t.equal(marker?.[1], createHash('sha256').update(dot).digest('hex'), 'the SVG is current (run scripts/render-diagram.sh)')
  const nodes = [...dot.toString('utf8').matchAll(/^\s*([a-z_]+)\s+\[label=/gm)].map((m) => m[1] ?? '')
  t.ok(nodes.length >= 8, 'the DOT declares the integration parts')
  for (const node of nodes) t.match(svg, `<title>${node}</title>`, `node ${node} is drawn`)
})

t.test('the screenshots are real PNG pictures of a page', async (t) => {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const shots = REQUIRED_MEDIA.filter((m) => m.endsWith('.png')).map((m) => readFileSync(join(root, 'docs', m)))
  for (const png of shots) {
    t.ok(png.subarray(0, 8).equals(signature), 'PNG signature')
    t.equal(png.subarray(12, 16).toString('latin1'), 'IHDR', 'header chunk first')
    const width = png.readUInt32BE(16)
    const height = png.readUInt32BE(20)
    t.ok(width >= 800 && height >= 400, `a page-sized picture (${width}x${height})`)
  }
  t.notOk(shots[0]?.equals(shots[1] ?? Buffer.alloc(0)), 'two different pictures')
})
