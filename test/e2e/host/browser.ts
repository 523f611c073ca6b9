// Headless Chromium for the e2e tests: Debian's /usr/bin/chromium driven by playwright-core (never
// `playwright install`), a new temporary user-data-dir per launch, no background traffic, and a host resolver that
// knows loopback only, so the page can reach nothing but the test host.

import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { defaultRendererDir, repoRoot } from './test-host.js'

export const chromiumPath = '/usr/bin/chromium'

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  // Every name but the loopback literals fails to resolve: the page cannot reach anything else by accident.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
]

export interface Browser {
  readonly context: BrowserContext
  readonly userDataDir: string
  /** Uncaught errors of every page so far (a test expects none). */
  readonly pageErrors: string[]
  newPage(): Promise<Page>
  close(): Promise<void>
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`test prerequisite missing: Chromium is not at ${chromiumPath}. Install it with: apt-get install -y chromium`)
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'acr-bridge-e2e-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1100, height: 800 },
      locale: 'en-US',
      colorScheme: 'light',
      timeout: 60_000,
    })
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true })
    throw error
  }
  const pageErrors: string[] = []
  context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)))
  return {
    context,
    userDataDir,
    pageErrors,
    async newPage() {
      const page = await context.newPage()
      page.setDefaultTimeout(20_000)
      return page
    },
    async close() {
      await context.close().catch(() => undefined)
      await rm(userDataDir, { recursive: true, force: true })
    },
  }
}

/**
 * After a failed test: a screenshot, the page's aria snapshot and the host's log, in a folder of their own under
 * the temp dir (its path is printed), so the failure can be looked at after the host's temp folder is gone.
 */
export async function keepArtifacts(testName: string, page: Page | undefined, host: { readonly logsDir: string } | undefined): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'acr-bridge-e2e-failure-'))
  await writeFile(join(dir, 'test.txt'), `${testName}\n`)
  if (page !== undefined) {
    await page.screenshot({ path: join(dir, 'page.png'), fullPage: true }).catch(() => undefined)
    await writeFile(join(dir, 'aria.yml'), await page.ariaSnapshot().catch((error: unknown) => String(error)))
  }
  if (host !== undefined) await cp(host.logsDir, join(dir, 'logs'), { recursive: true }).catch(() => undefined)
  process.stderr.write(`e2e: artifacts of the failed test "${testName}" are in ${dir}\n`)
}

const run = promisify(execFile)

async function newestMtime(path: string): Promise<number> {
  const info = await stat(path)
  if (!info.isDirectory()) return info.mtimeMs
  let newest = info.mtimeMs
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)))
  return newest
}

/** `npm run build:renderer` (vite build) when dist/renderer is missing or older than its sources. */
export async function ensureRendererBuilt(): Promise<void> {
  const built = join(defaultRendererDir, 'host.html')
  const sources = [join(repoRoot, 'renderer'), join(repoRoot, 'electron', 'common'), join(repoRoot, 'vite.config.ts')]
  const builtAt = existsSync(built) && existsSync(join(defaultRendererDir, 'index.html')) ? (await stat(built)).mtimeMs : 0
  const sourcesAt = Math.max(...(await Promise.all(sources.map(newestMtime))))
  if (builtAt > sourcesAt) return
  const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js')
  await run(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: repoRoot, timeout: 120_000 })
}
