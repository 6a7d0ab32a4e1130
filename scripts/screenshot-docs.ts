/**
 * `npm run screenshots`: screenshots of the OpenAPI page (GET /docs) and the status page (GET /status) taken in a
 * real headless browser, for docs/media/ (embedded by docs/solution-design.md and docs/user-guide.md). It starts its
 * own service instance on 127.0.0.1 (a free port, default settings from a fixed environment so the pictures do not
 * depend on the shell), opens /docs in Debian's Chromium through playwright-core, and saves the overview and the
 * expanded POST /run operation; then it sends the sample watchlist's indicators through /run and saves /status.
 * Runs from dist/ after `tsc -p tsconfig.build.json`; needs `apt-get install -y chromium`.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { loadServiceConfig } from '../src/config/env.js'
import { findProjectRoot } from '../src/contract/project-root.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'
import { withBrowser } from './browser.js'

const SCREENSHOTS = {
  overview: 'docs/media/openapi-overview.png',
  run: 'docs/media/openapi-run.png',
  status: 'docs/media/status-page.png',
} as const

/** The sample list's indicators and a few unlisted ones: the runs the status page shows. */
const STATUS_TRAFFIC = [
  '203.0.113.9',
  '198.51.100.7',
  'evil.example',
  'login.phish.example',
  'hxxp://bad[.]example/login',
  '44d88612fea8a8f36de82e1278abb02f',
  '8.8.8.8',
  '1.1.1.1',
  '192.0.2.44',
  'example.org',
] as const

const shootStatus = async (page: Page, baseUrl: string, file: string): Promise<void> => {
  for (let round = 0; round < 3; round++)
    for (const indicator of STATUS_TRAFFIC) {
      const res = await fetch(`${baseUrl}/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ indicator, write_note: false }),
      })
      if (res.status >= 400) throw new Error(`/run ${indicator}: ${res.status} ${await res.text()}`)
    }
  // The size the status page is made for on a desk (the 1280x800); the picture is the whole page.
  await page.setViewportSize({ width: 1280, height: 800 })
  await page.goto(`${baseUrl}/status`, { waitUntil: 'load', timeout: WAIT_MS })
  await page.waitForSelector('body[data-generated-at]', { timeout: WAIT_MS })
  await page.screenshot({ path: file, fullPage: true })
}

/** Swagger UI's element id for an untagged operation: operations-<tag>-<method>_<path>. */
const RUN_OPERATION = '#operations-default-post_run'
/** Tall enough for the overview without a band of empty page under it. */
const VIEWPORT = { width: 1280, height: 720 }
const WAIT_MS = 20_000

/** The service as a playbook would reach it, minus anything from this shell (no RUN_TOKEN, no vendor keys). */
const SERVICE_ENV = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' } as const

const openDocs = async (page: Page, baseUrl: string): Promise<void> => {
  await page.goto(`${baseUrl}/docs`, { waitUntil: 'networkidle', timeout: WAIT_MS })
  await page.waitForSelector(`${RUN_OPERATION} .opblock-summary`, { timeout: WAIT_MS })
}

const shootOverview = async (page: Page, file: string): Promise<void> => {
  await page.screenshot({ path: file, fullPage: true })
}

const shootRunOperation = async (page: Page, file: string): Promise<void> => {
  const operation = page.locator(RUN_OPERATION)
  await operation.locator('.opblock-summary').first().click()
  await operation.locator('.opblock-body').waitFor({ state: 'visible', timeout: WAIT_MS })
  // Swagger UI renders the example bodies after the panel opens; let that finish before the picture.
  await page.waitForLoadState('networkidle', { timeout: WAIT_MS })
  await operation.locator('.responses-wrapper').waitFor({ state: 'visible', timeout: WAIT_MS })
  // No hover controls or focus ring from the click in the picture.
  await page.mouse.move(0, 0)
  await page.evaluate('document.activeElement instanceof HTMLElement && document.activeElement.blur()')
  await operation.screenshot({ path: file })
}

const main = async (): Promise<void> => {
  const root = findProjectRoot(import.meta.url)
  await mkdir(join(root, 'docs/media'), { recursive: true })

  const config = loadServiceConfig(SERVICE_ENV, SOURCE_DEFINITIONS)
  const app = await buildApp({ config, logger: pino({ level: config.logLevel }) })
  try {
    const baseUrl = await app.listen({ host: config.host, port: config.port })
    await withBrowser(VIEWPORT, async (context) => {
      const page = context.pages()[0] ?? (await context.newPage())
      await openDocs(page, baseUrl)
      await shootOverview(page, join(root, SCREENSHOTS.overview))
      process.stdout.write(`screenshot-docs: ${SCREENSHOTS.overview}\n`)
      await shootRunOperation(page, join(root, SCREENSHOTS.run))
      process.stdout.write(`screenshot-docs: ${SCREENSHOTS.run}\n`)
      await shootStatus(page, baseUrl, join(root, SCREENSHOTS.status))
      process.stdout.write(`screenshot-docs: ${SCREENSHOTS.status}\n`)
    })
  } finally {
    await app.close().catch(() => undefined)
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshot-docs: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
