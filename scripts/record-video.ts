/**
 * `npm run video` (part of `npm run media`): a short narrated video of the integration, made from real runs. It
 * starts the service and the local ThreatConnect stand-in on 127.0.0.1, makes each call a scene shows, renders
 * each scene (the call, its real answer, a caption) as a picture in headless Chromium, speaks the caption with
 * espeak-ng, and joins the scenes with ffmpeg into docs/media/integration-demo.mp4, with WebVTT captions beside it.
 * Needs Debian's chromium, espeak-ng and ffmpeg (`apt-get install -y chromium espeak-ng ffmpeg`).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { loadServiceConfig } from '../src/config/env.js'
import { findProjectRoot } from '../src/contract/project-root.js'
import { buildSandbox } from '../tools/tc-sandbox/app.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'
import { COMPONENT_FILE, unpackPbxz } from './templates/render.js'
import { withBrowser } from './browser.js'

export const VIDEO_FILE = 'docs/media/integration-demo.mp4'
export const CAPTIONS_FILE = 'docs/media/integration-demo.vtt'
const VIEWPORT = { width: 1280, height: 720 }
const SANDBOX = {
  accessId: 'video-access-id',
  secretKey: 'video-secret-key',
  token: 'video-token',
  owners: ['Demo Organization'],
}
/** Silence after each scene's narration, seconds. */
const PAUSE_S = 0.8
const MAX_LINES = 22

interface Scene {
  readonly title: string
  /** Spoken, and shown as the caption. */
  readonly narration: string
  /** What the terminal panel shows: the call and its real answer. */
  readonly panel: string
}

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

const clip = (text: string): string => {
  const lines = text.split('\n').map((l) => (l.length > 118 ? `${l.slice(0, 117)}…` : l))
  return (lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES - 1), '  …'] : lines).join('\n')
}

const slide = (
  scene: Scene,
  index: number,
  total: number,
): string => `<!doctype html><html><head><meta charset="utf-8"><style>
  body { margin: 0; width: 1280px; height: 720px; font-family: 'DejaVu Sans', sans-serif; background: #f4f6f8; color: #1b2733; }
  header { padding: 22px 40px 8px; font-size: 30px; font-weight: bold; }
  header small { float: right; font-size: 16px; color: #6b7785; font-weight: normal; padding-top: 10px; }
  pre { margin: 0 40px; height: 470px; overflow: hidden; background: #17202a; color: #d7e1ea; border-radius: 8px;
        padding: 16px 20px; font: 15px/1.35 'DejaVu Sans Mono', monospace; white-space: pre; }
  footer { margin: 14px 40px; font-size: 20px; line-height: 1.35; }
</style></head><body>
<header>${escapeHtml(scene.title)}<small>Indicator Enrichment for ThreatConnect · ${index + 1}/${total}</small></header>
<pre>${escapeHtml(clip(scene.panel))}</pre>
<footer>${escapeHtml(scene.narration)}</footer>
</body></html>`

const pretty = (value: unknown): string => JSON.stringify(value, null, 2)

const call = async (url: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
  const res = await fetch(
    url,
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  )
  return { status: res.status, json: await res.json() }
}

const curl = (url: string, body?: unknown): string =>
  body === undefined
    ? `$ curl -s ${url}`
    : `$ curl -s ${url} \\\n    -H 'content-type: application/json' -d '${JSON.stringify(body)}'`

/** The scenes, each from a real call against the running service and stand-in. */
const recordScenes = async (root: string, serviceUrl: string, sandboxUrl: string): Promise<Scene[]> => {
  const scenes: Scene[] = []
  const health = await call(`${serviceUrl}/health`)
  const sources = (health.json as { sources: { id: string; state: string }[] }).sources.map(
    (s) => `${s.id.padEnd(11)} ${s.state}`,
  )
  scenes.push({
    title: 'A service beside ThreatConnect',
    narration:
      'Indicator Enrichment runs on your own infrastructure. A playbook component calls it over HTTPS; it asks offline datasets and threat intelligence vendors and answers with a verdict.',
    panel: `${curl(`${serviceUrl}/health`)}\nHTTP ${health.status}\n\nsource      state\n${sources.join('\n')}`,
  })

  const urlBody = { indicator: 'hxxp://bad[.]example/login' }
  const urlRun = await call(`${serviceUrl}/run`, urlBody)
  const results = urlRun.json as { exitMessage: string; outputs: { enrich: { results: Record<string, unknown> } } }
  const { json: _json, note: _note, ...shown } = results.outputs.enrich.results
  scenes.push({
    title: 'Enrich an indicator',
    narration:
      'Send an indicator as it was reported, even defanged. It is normalised, the sources are asked, and the reply carries the verdict, score, threat rating and confidence, named as the platform names outputs.',
    panel: `${curl(`${serviceUrl}/run`, urlBody)}\nHTTP ${urlRun.status}\n\nexitMessage: ${results.exitMessage}\noutputs.enrich.results:\n${pretty(shown)}`,
  })

  const component = JSON.parse(unpackPbxz(readFileSync(join(root, COMPONENT_FILE)))) as {
    jobList: { name: string; jobParameterList: { appCatalogItemParameter: { paramName: string }; value?: string }[] }[]
  }
  const param = (job: string, name: string): string =>
    component.jobList
      .find((j) => j.name === job)
      ?.jobParameterList.find((p) => p.appCatalogItemParameter.paramName === name)?.value ?? ''
  const rows = (JSON.parse(param('Map the outputs', 'string_expressions')) as { key: string; value: string }[]).slice(
    0,
    8,
  )
  scenes.push({
    title: 'The playbook component',
    narration:
      'In ThreatConnect, the component posts its inputs with the HTTP Client app, using organization variables for the address and the keychain token, and maps each output with a plain JMESPath expression.',
    panel: [
      `HTTP Client v3.0   url: ${param('POST /run', 'url')}`,
      `                   Authorization: \${ORGANIZATION:KEYCHAIN:enrich_run_token}`,
      `                   fail_on_error: ${param('POST /run', 'fail_on_error')}`,
      '',
      'JMESPath v3.0      output                              expression',
      ...rows.map((r) => `                   ${r.key.padEnd(36)}${r.value}`),
    ].join('\n'),
  })

  const noteBody = { indicator: '203.0.113.9', write_note: true, apply_rating: true }
  const noteRun = await call(`${serviceUrl}/run`, noteBody)
  const writeback = (
    noteRun.json as { outputs: { enrich: { results: { writeback: { status: string; indicator_id: string } } } } }
  ).outputs.enrich.results.writeback
  const posts = await fetch(`${sandboxUrl}/api/v3/posts?objectId=${writeback.indicator_id}&objectType=Indicator`, {
    headers: { authorization: `TC-Token ${SANDBOX.token}` },
  })
  const post = ((await posts.json()) as { data: { text: string }[] }).data[0]?.text ?? ''
  scenes.push({
    title: 'A note on the indicator, when asked',
    narration:
      'When a playbook asks for it, the service writes its note onto the indicator, through the API user configured in its own settings. Here, a local ThreatConnect stand-in shows the note it received.',
    panel: `${curl(`${serviceUrl}/run`, noteBody)}\nwriteback: ${pretty(writeback)}\n\n$ curl -s '${sandboxUrl}/api/v3/posts?objectId=${writeback.indicator_id}&objectType=Indicator'\n${post}`,
  })

  const failBody = { indicator: '198.51.100.23', sources: 'virustotal' }
  const failRun = await call(`${serviceUrl}/run`, failBody)
  scenes.push({
    title: 'Failures are named, never hidden',
    narration:
      'A source that fails is reported with the reason. When no source could answer, the reply is a 502, so the HTTP Client step fails the playbook step through its own failure handling.',
    panel: `${curl(`${serviceUrl}/run`, failBody)}\nHTTP ${failRun.status}\n\nexitMessage: ${(failRun.json as { exitMessage: string }).exitMessage}\nsources.failed: ${pretty((failRun.json as { outputs: { enrich: { results: { sources: { failed: string[] } } } } }).outputs.enrich.results.sources.failed)}`,
  })

  const hostileBody = { indicator: '203.0.113.9', write_note: true, tc_api_path: 'http://attacker.example' }
  const hostile = await call(`${serviceUrl}/run`, hostileBody)
  scenes.push({
    title: 'Safe by default',
    narration:
      'No request field chooses where the service connects. The ThreatConnect address and credentials come only from its settings, so a request naming another host is refused.',
    panel: `${curl(`${serviceUrl}/run`, hostileBody)}\nHTTP ${hostile.status}\n${pretty(hostile.json)}`,
  })

  scenes.push({
    title: 'Set it up',
    narration:
      'To set it up: run the service behind TLS with a run token, create two organization variables, import the sample playbook, and run the Enrich action on an indicator. The user guide walks through each step.',
    panel: [
      '1  host the service      node dist/src/server.js   (HTTPS in front, RUN_TOKEN set)',
      '2  org variables         enrich_service_url (Text), enrich_run_token (Keychain: "Bearer <token>")',
      '3  import                playbook-templates/enrich-on-demand.playbook.pbxz',
      '4  run                   User Action "Enrich this indicator" on Address, Host, URL, File',
      '',
      'docs/user-guide.md        requirements, hosting, ThreatConnect set-up, support',
      'docs/solution-design.md   architecture, data model, error handling, security',
    ].join('\n'),
  })
  return scenes
}

const seconds = (wav: string): number =>
  Number(
    execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', wav], {
      encoding: 'utf8',
    }).trim(),
  )

const timestamp = (s: number): string => {
  const ms = Math.round(s * 1000)
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`
}

const render = async (root: string, scenes: readonly Scene[], work: string): Promise<{ duration: number }> => {
  await withBrowser(VIEWPORT, async (context) => {
    const page = context.pages()[0] ?? (await context.newPage())
    for (const [i, scene] of scenes.entries()) {
      await page.setContent(slide(scene, i, scenes.length))
      await page.screenshot({ path: join(work, `scene-${i}.png`) })
    }
  })
  const cues: string[] = ['WEBVTT', '']
  const list: string[] = []
  let at = 0
  for (const [i, scene] of scenes.entries()) {
    const wav = join(work, `scene-${i}.wav`)
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '165', '-w', wav, scene.narration])
    const length = seconds(wav) + PAUSE_S
    const segment = join(work, `scene-${i}.mp4`)
    execFileSync('ffmpeg', [
      ...['-y', '-loglevel', 'error', '-loop', '1', '-framerate', '2', '-i', join(work, `scene-${i}.png`), '-i', wav],
      ...['-af', `apad=pad_dur=${PAUSE_S}`, '-t', length.toFixed(2)],
      ...[
        '-c:v',
        'libx264',
        '-tune',
        'stillimage',
        '-pix_fmt',
        'yuv420p',
        '-r',
        '2',
        '-c:a',
        'aac',
        '-b:a',
        '64k',
        '-ar',
        '22050',
        segment,
      ],
    ])
    list.push(`file '${segment}'`)
    cues.push(String(i + 1), `${timestamp(at)} --> ${timestamp(at + length)}`, scene.narration, '')
    at += length
  }
  writeFileSync(join(work, 'list.txt'), `${list.join('\n')}\n`)
  execFileSync('ffmpeg', [
    '-y',
    '-loglevel',
    'error',
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    join(work, 'list.txt'),
    '-c',
    'copy',
    '-movflags',
    '+faststart',
    join(root, VIDEO_FILE),
  ])
  writeFileSync(join(root, CAPTIONS_FILE), cues.join('\n'))
  return { duration: at }
}

const main = async (): Promise<void> => {
  const root = findProjectRoot(import.meta.url)
  // The failure scene's vendor call logs a warning by design; only errors are worth showing here.
  const log = pino({ level: 'error' })
  const sandbox = buildSandbox({ ...SANDBOX, log, seed: [{ type: 'Address', value: '203.0.113.9' }] })
  const work = await mkdtemp(join(tmpdir(), 'record-video-'))
  let app: Awaited<ReturnType<typeof buildApp>> | undefined
  try {
    const sandboxUrl = await sandbox.listen({ host: '127.0.0.1', port: 0 })
    // A vendor source pointed at a closed port: the failure scene shows how a down vendor is reported.
    const env = {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      TC_API_PATH: sandboxUrl,
      TC_API_ACCESS_ID: SANDBOX.accessId,
      TC_API_SECRET_KEY: SANDBOX.secretKey,
      VIRUSTOTAL_API_KEY: 'video-demo-key',
      VIRUSTOTAL_BASE_URL: 'http://127.0.0.1:9/api/v3',
    }
    const config = loadServiceConfig(env, SOURCE_DEFINITIONS)
    app = await buildApp({ config, logger: log })
    const serviceUrl = await app.listen({ host: config.host, port: config.port })
    const scenes = await recordScenes(root, serviceUrl, sandboxUrl)
    const { duration } = await render(root, scenes, work)
    process.stdout.write(
      `record-video: ${VIDEO_FILE} (${scenes.length} scenes, ${duration.toFixed(1)} s) and ${CAPTIONS_FILE}\n`,
    )
  } finally {
    await app?.close().catch(() => undefined)
    await sandbox.close().catch(() => undefined)
    await rm(work, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`record-video: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
