// The window, for real: the BUILT renderer in Debian's headless Chromium (playwright-core), served by the test host
// (test/e2e/host), which answers the IPC contract with main's own handlers and the real core: a real session
// controller on a temporary hosts file, the real tunnel, our relay as the ECS and a loopback origin as ACR.

import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import type { Config, SessionState } from '../../electron/common/ipc-contract.js'
import { hostEntriesForConfig } from '../../electron/core/catalog/index.js'
import { parseConfig } from '../../electron/core/config/schema.js'
import { planHostsBytes } from '../../electron/core/hosts/index.js'
import { ensureRendererBuilt, keepArtifacts, launchBrowser, type Browser } from './host/browser.js'
import { defaultConfig, defaultHostsText, startTestHost, type TestHost, type TestHostOptions } from './host/test-host.js'

const names = ['registry-vpc.cn-beijing.aliyuncs.com', 'dockerauth-vpc.cn-beijing.aliyuncs.com', 'oss-cn-beijing-internal.aliyuncs.com']

let browser: Browser
let host: TestHost | undefined
let page: Page | undefined

beforeAll(async () => {
  await ensureRendererBuilt()
  browser = await launchBrowser()
})

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await keepArtifacts(context.task.name, page, host)
  await page?.close().catch(() => undefined)
  page = undefined
  await host?.cleanup()
  host = undefined
})

afterAll(async () => {
  await browser?.close()
})

async function open(options: TestHostOptions = {}): Promise<{ host: TestHost; page: Page }> {
  host = await startTestHost(options)
  page = await browser.newPage()
  await page.goto(host.url)
  await page.getByRole('heading', { name: 'ACR Bridge' }).waitFor()
  return { host, page }
}

/** Waits (bounded) until `check` holds. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const headerState = (p: Page) => p.locator('header [role="status"]')

/** The config with cn-beijing's VPC trio picked, as the window saves it. */
function beijingConfig(peers: Parameters<typeof defaultConfig>[0]): Config {
  return parseConfig({ ...(defaultConfig(peers) as object), regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }] })
}

describe('Apply and Revert through the window, against the real core', () => {
  test('pick cn-beijing VPC, see the three names, Apply → the block is written → healthy → Revert → byte-identical', async () => {
    const { host, page } = await open()
    const before = await readFile(host.hostsPath)

    // Regions: search, tick China (Beijing); the window saves the VPC trio.
    await page.getByRole('tab', { name: 'Regions' }).click()
    await page.getByRole('searchbox', { name: 'Search regions' }).fill('cn-beijing')
    await page.getByRole('checkbox', { name: /China \(Beijing\).*cn-beijing/ }).check()
    await until('the config is saved with cn-beijing', async () => {
      const saved = JSON.parse(await readFile(join(host.dataDir, 'config.json'), 'utf8')) as Config
      return saved.regions.some((r) => r.id === 'cn-beijing')
    })
    const saved = JSON.parse(await readFile(join(host.dataDir, 'config.json'), 'utf8')) as Config
    expect(saved.regions).toEqual([{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }])

    // Hosts: the exact block, the three names.
    await page.getByRole('tab', { name: 'Hosts' }).click()
    const block = page.getByRole('region', { name: 'Managed hosts block' })
    await expect.poll(() => block.textContent()).toContain(names[2])
    const shown = ((await block.textContent()) ?? '').trim().split('\n')
    expect(shown.slice(1, -1)).toEqual(names.map((n) => `127.0.0.1 ${n}`))
    expect(await readFile(host.hostsPath)).toEqual(before)

    // Apply: the temp hosts file holds the block, and the probes (through the real tunnel) say healthy.
    await page.getByRole('button', { name: 'Apply (connect)' }).click()
    await until('the hosts file holds the block', async () => (await readFile(host.hostsPath, 'utf8')).includes(names[0]))
    const applied = await readFile(host.hostsPath, 'utf8')
    expect(applied.startsWith(before.toString('utf8'))).toBe(true)
    for (const name of names) expect(applied).toContain(`127.0.0.1 ${name}`)
    await expect.poll(() => headerState(page).textContent(), { timeout: 30_000 }).toContain('Healthy')

    // Healthy is honest: every hop of every name passed, through the tunnel to the origin.
    const state: SessionState = host.controller.state
    expect(state.kind).toBe('healthy')
    for (const name of names) {
      const hops = state.checks.filter((c) => c.name === name)
      expect(hops.every((c) => c.ok)).toBe(true)
      expect(hops.map((c) => c.hop)).toContain('resolve')
      expect(hops.map((c) => c.hop)).toContain('tls')
    }
    expect(state.checks.find((c) => c.name === names[0] && c.hop === 'registry')?.ok).toBe(true)
    expect(state.checks.find((c) => c.name === names[0] && c.hop === 'realm-covered')?.ok).toBe(true)
    expect(state.checks.find((c) => c.name === names[1] && c.hop === 'realm')?.ok).toBe(true)
    expect(state.checks.find((c) => c.name === names[2] && c.hop === 'oss')?.ok).toBe(true)
    expect(state.checks.find((c) => c.name === names[0] && c.hop === 'resolve')?.reason).toContain(host.hostsPath)
    expect(host.relay.stats().forwarded).toBeGreaterThan(0)
    expect(host.acr.requests.some((r) => r.startsWith(`${names[0]} GET /v2/`))).toBe(true)

    // The Tunnel tab shows where the session listens, as the core reports it (the test host runs as root: bound
    // directly on its own ports).
    expect(state.listening?.mechanism).toBe('direct')
    await page.getByRole('tab', { name: 'Tunnel' }).click()
    const inUse = page.getByRole('region', { name: 'In use now' })
    await expect.poll(() => inUse.textContent(), { timeout: 10_000 }).toContain('Bound directly')
    expect(await inUse.textContent()).toContain(`${state.listening?.bound.address} : ${state.listening?.bound.tls}`)
    await page.getByRole('tab', { name: 'Hosts' }).click()

    // Revert: back to the very same bytes.
    await page.getByRole('button', { name: 'Revert (disconnect)' }).click()
    await expect.poll(() => headerState(page).textContent(), { timeout: 30_000 }).toContain('Off')
    expect(await readFile(host.hostsPath)).toEqual(before)
    expect(browser.pageErrors).toEqual([])
  })
})

describe('nothing is written for a bad input', () => {
  test('an invalid instance name shows an inline error and writes nothing', async () => {
    const { host, page } = await open()
    const hostsBefore = await readFile(host.hostsPath)
    const configBefore = await readFile(join(host.dataDir, 'config.json'))
    const configMtime = (await stat(join(host.dataDir, 'config.json'))).mtimeMs

    await page.getByRole('tab', { name: 'Regions' }).click()
    const form = page.getByRole('region', { name: 'Enterprise Edition instances' })
    const name = form.getByRole('textbox', { name: 'Instance name' })
    await name.fill('Bad_Name!')
    await form.getByRole('combobox', { name: 'Region', exact: true }).selectOption('cn-beijing')
    await form.getByRole('button', { name: 'Add instance' }).click()

    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true')
    const describedBy = await name.getAttribute('aria-describedby')
    expect(describedBy).toBeTruthy()
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toBe(
      'Use 1 to 63 lowercase letters, digits or hyphens; start with a letter and do not end with a hyphen.',
    )
    await form.getByText('Fix the highlighted fields; nothing was saved.').waitFor()

    expect(await readFile(join(host.dataDir, 'config.json'))).toEqual(configBefore)
    expect((await stat(join(host.dataDir, 'config.json'))).mtimeMs).toBe(configMtime)
    expect(await readFile(host.hostsPath)).toEqual(hostsBefore)
    expect(host.logger.tail(1000).some((e) => e.message.includes('config:set'))).toBe(false)
  })

  test('a bad payload sent straight to the host’s invoke endpoint is refused, and nothing is written', async () => {
    host = await startTestHost()
    const h = host
    const hostsBefore = await readFile(h.hostsPath)
    const configBefore = await readFile(join(h.dataDir, 'config.json'))
    const post = async (channel: string, args: unknown[], headers: Record<string, string> = {}) => {
      const response = await fetch(`${h.origin}/invoke/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: h.origin, ...headers },
        body: JSON.stringify({ args }),
      })
      return { status: response.status, body: (await response.json()) as { ok: boolean; error?: { code: string; field?: string } } }
    }
    const good = JSON.parse(configBefore.toString('utf8')) as Record<string, unknown>

    // A config that would inject a hosts line: INVALID_CONFIG naming the field (the core's schema, as over IPC).
    const injected = await post('config:set', [{ config: { ...good, extraHosts: ['a.aliyuncs.com\n1.2.3.4 evil.example.com'] } }])
    expect(injected.body).toMatchObject({ ok: false, error: { code: 'INVALID_CONFIG' } })
    expect(injected.body.error?.field).toContain('extraHosts')
    // An unknown key, a payload where none is taken, a second argument: refused by main's validators.
    expect((await post('config:set', [{ config: { ...good, sudo: true } }])).body).toMatchObject({ ok: false, error: { code: 'INVALID_CONFIG' } })
    expect((await post('session:connect', [{ force: true }])).body).toMatchObject({ ok: false, error: { code: 'USAGE' } })
    expect((await post('session:connect', [undefined, 'extra'])).body).toMatchObject({ ok: false, error: { code: 'USAGE' } })
    expect((await post('ssh:trust-host-key', [{ host: 'x', port: 22 }])).body).toMatchObject({ ok: false, error: { code: 'USAGE' } })
    // Not from the host's own page (another origin, or a plain form post): FORBIDDEN before anything is parsed.
    const foreign = await post('session:connect', [], { origin: 'http://127.0.0.1:1' })
    expect(foreign).toEqual({ status: 403, body: { ok: false, error: { code: 'FORBIDDEN', message: 'This request did not come from the ACR Bridge window.' } } })
    expect((await post('session:connect', [], { 'content-type': 'text/plain' })).status).toBe(403)
    expect((await post('no:such-channel', [])).body).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })

    expect(await readFile(h.hostsPath)).toEqual(hostsBefore)
    expect(await readFile(join(h.dataDir, 'config.json'))).toEqual(configBefore)
    expect(h.controller.state.kind).toBe('off')
    expect(h.relay.stats().accepted).toBe(0)
  })
})

describe('the quit sequence and a crash left behind', () => {
  test('quit reverts the hosts block: the host’s shutdown is main’s quit sequence around controller.dispose()', async () => {
    const { host, page } = await open({ config: beijingConfig })
    const before = await readFile(host.hostsPath)
    await page.getByRole('tab', { name: 'Hosts' }).click()
    await page.getByRole('button', { name: 'Apply (connect)' }).click()
    await expect.poll(() => headerState(page).textContent(), { timeout: 30_000 }).toContain('Healthy')
    expect((await readFile(host.hostsPath, 'utf8')).includes(names[0])).toBe(true)

    await host.quit()
    expect(await host.exited).toBe(0)
    expect(await readFile(host.hostsPath)).toEqual(before)
    const log = await readFile(join(host.logsDir, 'main.log'), 'utf8')
    expect(log).toMatch(/\[app\] shutting down \(quit\)[\s\S]*\[session\] down[\s\S]*\[host\] exiting \(0\)/)
    expect(host.server.eventClients()).toBe(0)
    // The host is gone, so every connection it held (pooled ones too) closes; the relay sees each FIN shortly after.
    await expect.poll(() => host.relay.stats().open, { timeout: 5_000 }).toBe(0)
  })

  test('a block left by a crash is detected at start and offered for revert; revert gives the original bytes back', async () => {
    const original = Buffer.from(defaultHostsText)
    const withStaleBlock = (peers: Parameters<typeof defaultConfig>[0]) =>
      planHostsBytes(original, hostEntriesForConfig(beijingConfig(peers)), { takeOver: false, platform: 'linux' }).newBytes
    const { host, page } = await open({ hostsFile: withStaleBlock })
    expect((await readFile(host.hostsPath, 'utf8')).includes(names[0])).toBe(true)

    const banner = page.getByRole('alert').filter({ hasText: 'A hosts block left by an earlier run is still in place' })
    await banner.waitFor()
    expect(await banner.textContent()).toContain(`${host.hostsPath} still maps 3 names: ${names.join(', ')}`)
    await banner.getByRole('button', { name: 'Revert the leftover block' }).click()
    await page.getByText('The leftover block was removed.').waitFor()
    expect(await readFile(host.hostsPath)).toEqual(original)
    expect(await host.controller.findStaleLease()).toBeUndefined()
  })
})

describe('language, keyboard and screen readers', () => {
  test('switching to Chinese changes the labels, and the choice is saved', async () => {
    const { host, page } = await open()
    await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN')
    await page.getByRole('tab', { name: '状态' }).waitFor()
    for (const label of ['地域', '隧道', '日志']) expect(await page.getByRole('tab', { name: label }).count()).toBe(1)
    expect(await page.getByRole('combobox', { name: '语言' }).count()).toBe(1)
    expect(await page.getByRole('tab', { name: 'Status' }).count()).toBe(0)
    await until('the language is saved', async () => {
      const text = await readFile(join(host.dataDir, 'settings.json'), 'utf8').catch(() => '{}')
      return (JSON.parse(text) as { language?: string }).language === 'zh-CN'
    })
    // A new window starts in Chinese: the setting came from the host's settings.json, not from the page.
    await page.reload()
    await page.getByRole('tab', { name: '状态' }).waitFor()
  })

  test('Tab reaches every control of every section, and each has an accessible name', async () => {
    const { page } = await open({ config: beijingConfig })
    const sections = ['Status', 'Regions', 'Tunnel', 'Hosts', 'Log']
    const unnamed: string[] = []
    for (const [index, section] of sections.entries()) {
      if (index === 0) {
        await page.getByRole('tab', { name: 'Status' }).waitFor()
      } else {
        // The tab list is one stop in the tab order; arrow keys move between its tabs (WAI-ARIA tabs).
        await page.getByRole('tab', { selected: true }).focus()
        await page.keyboard.press('ArrowRight')
        await expect.poll(() => page.getByRole('tab', { selected: true }).textContent()).toBe(section)
      }
      await page.getByRole('tabpanel', { name: section }).waitFor()
      if (section === 'Regions' || section === 'Tunnel' || section === 'Hosts') {
        await page.getByRole('tabpanel', { name: section }).getByRole('heading').first().waitFor()
      }
      const visited = await tabThrough(page)
      const missed = await page.evaluate(() => {
        const selector = 'a[href], button, input, select, textarea, [tabindex]'
        const out: string[] = []
        const radioGroupsReached = new Set<string>()
        const all = Array.from(document.querySelectorAll<HTMLElement>(selector)).filter((el) => {
          if ((el as HTMLButtonElement).disabled || el.getAttribute('tabindex') === '-1' || el.getClientRects().length === 0) return false
          return true
        })
        for (const el of all) if (el instanceof HTMLInputElement && el.type === 'radio' && el.dataset['e2eTab'] !== undefined) radioGroupsReached.add(el.name)
        for (const el of all) {
          if (el.dataset['e2eTab'] !== undefined) continue
          // A radio group is one stop: Tab reaches its checked radio, arrows the others.
          if (el instanceof HTMLInputElement && el.type === 'radio' && radioGroupsReached.has(el.name)) continue
          out.push(el.outerHTML.slice(0, 160))
        }
        return out
      })
      expect(missed, `controls of ${section} that Tab never reached`).toEqual([])
      expect(visited.length).toBeGreaterThan(3)
      for (const stop of visited) if (stop.name === undefined || stop.name.trim() === '') unnamed.push(`${section}: ${stop.snapshot}`)
      await page.evaluate(() => document.querySelectorAll('[data-e2e-tab]').forEach((el) => el.removeAttribute('data-e2e-tab')))
    }
    expect(unnamed, 'focusable elements without an accessible name').toEqual([])
  })
})

describe('Tunnel → Listening: the listen overrides and "Connect when ACR Bridge starts"', () => {
  test('the overrides are saved to the host\'s config.json through main\'s config:set; nonsense is refused inline; the toggle is saved to settings.json', async () => {
    const { host, page } = await open({ config: beijingConfig })
    const configPath = join(host.dataDir, 'config.json')
    const savedListen = async (): Promise<Config['listen']> => (JSON.parse(await readFile(configPath, 'utf8')) as Config).listen
    const initial = await savedListen()
    await page.getByRole('tab', { name: 'Tunnel' }).click()
    await page.getByRole('heading', { name: 'Listening' }).waitFor()
    expect(await page.getByRole('region', { name: 'In use now' }).textContent()).toContain('Not connected')

    await page.getByRole('combobox', { name: 'Loopback alias' }).selectOption('never')
    await page.getByRole('combobox', { name: 'How ports 443 and 80 reach the tunnel' }).selectOption('redirect')
    await page.getByRole('textbox', { name: 'Fixed high TLS port (optional)' }).fill('14443')
    await page.getByRole('textbox', { name: 'Fixed high HTTP port (optional)' }).fill('14080')
    await page.getByRole('button', { name: 'Save tunnel settings' }).click()
    await until('the overrides are in config.json', async () => (await savedListen()).mechanism === 'redirect')
    // The test host's own listen ports stay; only the overrides are added.
    expect(await savedListen()).toEqual({ ...initial, alias: false, mechanism: 'redirect', highPorts: { tls: 14443, http: 14080 } })
    // The saved file is a valid config for the CLI too.
    expect(parseConfig(JSON.parse(await readFile(configPath, 'utf8'))).listen.highPorts).toEqual({ tls: 14443, http: 14080 })

    // An IPv6 address with the alias on Always: refused at the field, nothing written.
    const before = await readFile(configPath)
    await page.getByRole('textbox', { name: 'Listen address' }).fill('::1')
    await page.getByRole('combobox', { name: 'Loopback alias' }).selectOption('always')
    await page.getByRole('button', { name: 'Save tunnel settings' }).click()
    await page.getByText('Only IPv4 addresses can be added to the loopback interface').waitFor()
    expect(await page.getByRole('combobox', { name: 'Loopback alias' }).getAttribute('aria-invalid')).toBe('true')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await readFile(configPath)).equals(before)).toBe(true)

    const toggle = page.getByRole('checkbox', { name: 'Connect when ACR Bridge starts' })
    await expect.poll(() => toggle.isEnabled()).toBe(true)
    expect(await toggle.isChecked()).toBe(false)
    await toggle.check()
    await until('connectAtStart is saved', async () => {
      const text = await readFile(join(host.dataDir, 'settings.json'), 'utf8').catch(() => '{}')
      return (JSON.parse(text) as { connectAtStart?: boolean }).connectAtStart === true
    })
    expect(browser.pageErrors).toEqual([])
  })
})

describe('the page runs under the production CSP', () => {
  test('an injected inline script does not run, and the app still works (it needs nothing the policy forbids)', async () => {
    const { page } = await open()
    const violations = await page.evaluate(async () => {
      const seen: string[] = []
      document.addEventListener('securitypolicyviolation', (event) => seen.push(event.violatedDirective))
      const script = document.createElement('script')
      script.textContent = 'window.__e2eInlineRan = true'
      document.body.append(script)
      await new Promise((resolve) => setTimeout(resolve, 100))
      return { seen, ran: (window as { __e2eInlineRan?: boolean }).__e2eInlineRan === true }
    })
    expect(violations.ran).toBe(false)
    expect(violations.seen.some((d) => d.startsWith('script-src'))).toBe(true)
    expect(browser.pageErrors).toEqual([])
  })
})

interface TabStop {
  readonly snapshot: string
  readonly role: string | undefined
  readonly name: string | undefined
}

/**
 * Presses Tab from the top of the page until focus comes back to where it started; marks every element it reaches
 * (data-e2e-tab) and returns each stop's role and accessible name from Playwright's aria snapshot.
 */
async function tabThrough(page: Page): Promise<TabStop[]> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
  const stops: TabStop[] = []
  for (let step = 0; step < 400; step++) {
    await page.keyboard.press('Tab')
    const seenBefore = await page.evaluate((n) => {
      const el = document.activeElement as HTMLElement | null
      if (el === null || el === document.body) return 'none'
      if (el.dataset['e2eTab'] !== undefined) return 'seen'
      el.dataset['e2eTab'] = String(n)
      return 'new'
    }, step)
    if (seenBefore === 'seen') return stops
    if (seenBefore === 'none') continue
    const snapshot = (await page.locator(`[data-e2e-tab="${step}"]`).ariaSnapshot()).split('\n')[0] ?? ''
    const match = /^- ([a-z]+)(?: "((?:[^"\\]|\\.)*)")?/.exec(snapshot)
    stops.push({ snapshot, role: match?.[1], name: match?.[2] })
  }
  throw new Error('Tab never came back to the first control within 400 presses')
}

describe('screenshots', () => {
  test('the main states in light and dark (saved in the test’s temp folder; ACR_BRIDGE_SCREENSHOTS=<dir> keeps them)', async () => {
    const { host, page } = await open({ config: beijingConfig })
    const dir = await mkdtemp(join(tmpdir(), 'acr-bridge-e2e-screenshots-'))
    const keep = process.env['ACR_BRIDGE_SCREENSHOTS']
    const shots: string[] = []
    const shoot = async (name: string, forDocs = true): Promise<void> => {
      // Let transitions settle; the files are compared by a person, not by pixels.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))
      const path = join(dir, `${name}.png`)
      await page.screenshot({ path, fullPage: false })
      shots.push(path)
      if (forDocs && keep !== undefined && keep !== '') await cp(path, join(keep, `${name}.png`))
    }
    try {
      await page.getByRole('tab', { name: 'Hosts' }).click()
      await page.getByRole('region', { name: 'Managed hosts block' }).waitFor()
      await page.getByRole('combobox', { name: 'Theme' }).selectOption('light')
      await shoot('hosts-preview-light')
      await page.getByRole('button', { name: 'Apply (connect)' }).click()
      await expect.poll(() => headerState(page).textContent(), { timeout: 30_000 }).toContain('Healthy')
      await page.getByRole('tab', { name: 'Status' }).click()
      await page.getByRole('table').first().waitFor()
      await shoot('status-healthy-light')
      await page.getByRole('combobox', { name: 'Theme' }).selectOption('dark')
      await expect.poll(() => page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark')
      await shoot('status-healthy-dark')
      await page.getByRole('tab', { name: 'Regions' }).click()
      await page.getByRole('searchbox', { name: 'Search regions' }).waitFor()
      // Not for the docs: the region names' Chinese needs a CJK font, which a build machine may not have.
      await shoot('regions-dark', false)
      for (const path of shots) expect((await stat(path)).size).toBeGreaterThan(10_000)
      expect(host.controller.state.kind).toBe('healthy')
      expect(browser.pageErrors).toEqual([])
    } finally {
      if (process.env['E2E_KEEP_SCREENSHOTS'] === undefined) await rm(dir, { recursive: true, force: true })
      else process.stderr.write(`e2e: screenshots in ${dir}\n`)
    }
  })
})
