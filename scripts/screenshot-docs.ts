/**
 * `npm run screenshots`: screenshots of the OpenAPI page (GET /docs) taken in a real headless browser, for
 * docs/media/ (embedded by docs/solution-design.md). It starts its own service instance on 127.0.0.1 (a free
 * port, default settings from a fixed environment so the pictures do not depend on the shell), opens /docs in
 * Debian's Chromium through playwright-core, and saves the overview and the expanded POST /run operation.
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
} as const

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
    })
  } finally {
    await app.close().catch(() => undefined)
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshot-docs: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
