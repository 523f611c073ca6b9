import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventEmitter } from 'node:events'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import * as electron from '../fakes/electron.js'
import type { ConfigView, Result } from '../../electron/common/ipc-contract.js'
import { parseConfig } from '../../electron/core/config/schema.js'
import { createApp, type AppDeps, type BridgeApp } from '../../electron/main/app.js'
import type { ElectronSurface, IpcMainInvokeEventLike } from '../../electron/main/electron-surface.js'
import { memoryLogger, recordingController, sampleConfigInput, stateOf, type RecordingController } from './helpers.js'

function surface(): ElectronSurface {
  return {
    app: electron.app,
    BrowserWindow: electron.BrowserWindow,
    Tray: electron.Tray,
    Menu: electron.Menu,
    ipcMain: electron.ipcMain,
    dialog: electron.dialog,
    Notification: electron.Notification,
    safeStorage: electron.safeStorage,
    powerMonitor: electron.powerMonitor,
    defaultSession: electron.session.defaultSession,
  }
}

const regions = [
  { id: 'cn-beijing', nameEn: 'China (Beijing)', nameZh: '华北2（北京）', status: 'available' as const },
  { id: 'cn-hangzhou', nameEn: 'China (Hangzhou)', nameZh: '华东1（杭州）', status: 'available' as const },
]

interface Harness {
  readonly bridge: BridgeApp
  readonly controller: RecordingController
  readonly logger: ReturnType<typeof memoryLogger>
  readonly processEvents: EventEmitter
  readonly dir: string
  window(): electron.BrowserWindow
  tray(): electron.Tray
  call(channel: string, ...args: unknown[]): Promise<Result<unknown>>
}

let cleanup: (() => Promise<void>) | undefined

/** settings.json (and a config.json, unless told not to) in the app's data folder, before start(). */
async function savedSettings(h: Harness, settings: Record<string, unknown>, options: { config?: boolean } = {}): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises')
  await mkdir(join(h.dir, 'data'), { recursive: true })
  await writeFile(join(h.dir, 'data', 'settings.json'), JSON.stringify(settings))
  if (options.config !== false) await writeFile(join(h.dir, 'data', 'config.json'), JSON.stringify(sampleConfigInput))
}

async function harness(overrides: Partial<AppDeps> = {}, configure?: (c: RecordingController) => void): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'acr-bridge-app-'))
  cleanup = () => rm(dir, { recursive: true, force: true })
  const controller = recordingController()
  configure?.(controller)
  const logger = memoryLogger()
  const processEvents = new EventEmitter()
  const bridge = createApp({
    electron: surface(),
    controller,
    parseConfig,
    catalog: () => ({ regions, endpointKinds: [] }),
    newRegion: (id) => ({ id, endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }),
    paths: { userData: join(dir, 'data'), logs: join(dir, 'logs'), preload: '/app/preload.cjs', rendererIndex: '/app/renderer/index.html', trayIcons: '/app/tray' },
    platform: 'linux',
    quitTimeoutMs: 5_000,
    logger,
    process: processEvents,
    ...overrides,
  })
  const window = () => electron.BrowserWindow.created[0] as electron.BrowserWindow
  const event = (): IpcMainInvokeEventLike => ({ sender: { id: window().webContents.id }, senderFrame: { url: 'file:///app/renderer/index.html', parent: null } })
  return {
    bridge,
    controller,
    logger,
    processEvents,
    dir,
    window,
    tray: () => electron.Tray.created[0] as electron.Tray,
    call: async (channel, ...args) => (await electron.ipcMain.handlers.get(channel)?.(event(), ...args)) as Result<unknown>,
  }
}

beforeEach(() => electron.resetFakeElectron())
afterEach(async () => {
  await cleanup?.()
  cleanup = undefined
})

describe('single instance', () => {
  test('a second launch quits at once and builds nothing', async () => {
    electron.app.hasLock = false
    const h = await harness()
    await expect(h.bridge.start()).resolves.toBe(false)
    expect(electron.app.quitCalls).toBe(1)
    expect(electron.BrowserWindow.created).toHaveLength(0)
    expect(electron.Tray.created).toHaveLength(0)
    expect(electron.ipcMain.handlers.size).toBe(0)
  })

  test('second-instance shows and focuses the existing window', async () => {
    const h = await harness({ startHidden: true })
    await h.bridge.start()
    expect(h.window().visible).toBe(false)
    electron.app.emit('second-instance')
    expect(h.window().visible).toBe(true)
    expect(h.window().focused).toBe(true)
    expect(electron.BrowserWindow.created).toHaveLength(1)
  })
})

describe('start-up', () => {
  test('wires window, tray and IPC; the window loads the packaged page and shows', async () => {
    const h = await harness()
    await h.bridge.start()
    await h.bridge.startupDone
    expect(h.window().loaded).toBe('/app/renderer/index.html')
    await vi.waitFor(() => expect(h.window().visible).toBe(true))
    expect(h.tray().image).toBe(join('/app/tray', 'tray-off-32.png'))
    expect(h.tray().tooltip).toBe('ACR Bridge: Off')
    expect(electron.ipcMain.handlers.size).toBeGreaterThan(0)
    expect(electron.session.defaultSession.requestHandler).toBeTypeOf('function')
  })

  test('a wake-up from sleep is passed to the session with how long the machine slept', async () => {
    const h = await harness()
    await h.bridge.start()
    electron.powerMonitor.emit('suspend')
    electron.powerMonitor.emit('resume')
    const resumed = h.controller.calls.filter((call) => call.startsWith('systemResumed:'))
    expect(resumed).toHaveLength(1)
    expect(Number(resumed[0]!.split(':')[1])).toBeGreaterThanOrEqual(0)
  })

  test('a stale lease shows the dialog and is reverted when the user agrees', async () => {
    const h = await harness({}, (c) => {
      c.staleLease = { hostsPath: '/etc/hosts', names: ['registry-vpc.cn-beijing.aliyuncs.com'], changes: ['hosts block with 1 name'] }
    })
    electron.dialog.messageBoxResponse = 0
    await h.bridge.start()
    await h.bridge.startupDone
    expect(electron.dialog.messageBoxes).toHaveLength(1)
    expect(electron.dialog.messageBoxes[0]?.buttons).toEqual(['Revert now', 'Keep for now'])
    expect(h.controller.calls).toContain('revertStaleLease')
  })

  test('a stale lease is kept when the user declines', async () => {
    const h = await harness({}, (c) => {
      c.staleLease = { hostsPath: '/etc/hosts', names: ['a.aliyuncs.com'], changes: ['hosts block'] }
    })
    electron.dialog.messageBoxResponse = 1
    await h.bridge.start()
    await h.bridge.startupDone
    expect(electron.dialog.messageBoxes).toHaveLength(1)
    expect(h.controller.calls).not.toContain('revertStaleLease')
  })

  test('connect at start off: a stale lease is offered for revert as before, and nothing connects', async () => {
    const h = await harness({}, (c) => {
      c.staleLease = { hostsPath: '/etc/hosts', names: ['a.aliyuncs.com'], changes: ['hosts block'] }
    })
    await savedSettings(h, { connectAtStart: false })
    electron.dialog.messageBoxResponse = 1
    await h.bridge.start()
    await h.bridge.startupDone
    expect(electron.dialog.messageBoxes).toHaveLength(1)
    expect(h.controller.calls.filter((c) => c.startsWith('connect'))).toEqual([])
  })

  test('connect at start on: a stale lease is taken over by the connect (no dialog), logged, and a notification says so', async () => {
    const h = await harness({}, (c) => {
      c.staleLease = { hostsPath: '/etc/hosts', names: ['a.aliyuncs.com'], changes: ['the address 198.18.0.1 on lo', 'hosts block'] }
    })
    await savedSettings(h, { connectAtStart: true })
    await h.bridge.start()
    await h.bridge.startupDone
    expect(h.controller.calls.filter((c) => c.startsWith('connect'))).toEqual(['connect:resume'])
    expect(h.controller.calls).not.toContain('revertStaleLease')
    expect(electron.dialog.messageBoxes).toHaveLength(0)
    expect(h.controller.state.kind).toBe('healthy')
    expect(h.logger.lines.join('\n')).toContain('taking over the changes an earlier run left: the address 198.18.0.1 on lo; hosts block')
    expect(electron.Notification.shown.map((n) => n.title)).toContain('ACR Bridge reconnected')
  })

  test('connect at start on, the connect fails: the error is logged and the revert is offered as before', async () => {
    const h = await harness({}, (c) => {
      c.staleLease = { hostsPath: '/etc/hosts', names: ['a.aliyuncs.com'], changes: ['hosts block'] }
      c.failWith = new Error('The proxy ECS 203.0.113.10:3128 does not answer.')
    })
    await savedSettings(h, { connectAtStart: true })
    electron.dialog.messageBoxResponse = 0
    await h.bridge.start()
    await h.bridge.startupDone
    expect(h.controller.calls.filter((c) => c.startsWith('connect'))).toEqual(['connect:resume'])
    expect(h.logger.lines.join('\n')).toContain('connect at start failed The proxy ECS 203.0.113.10:3128 does not answer.')
    expect(electron.dialog.messageBoxes).toHaveLength(1)
    expect(h.controller.calls).toContain('revertStaleLease')
  })

  test('connect at start on but nothing configured yet: no connect, the usual offer', async () => {
    const h = await harness({}, (c) => {
      c.staleLease = { hostsPath: '/etc/hosts', names: ['a.aliyuncs.com'], changes: ['hosts block'] }
    })
    await savedSettings(h, { connectAtStart: true }, { config: false })
    electron.dialog.messageBoxResponse = 1
    await h.bridge.start()
    await h.bridge.startupDone
    expect(h.controller.calls.filter((c) => c.startsWith('connect'))).toEqual([])
    expect(electron.dialog.messageBoxes).toHaveLength(1)
  })

  test('the tray shows "Connect at start" as a checkbox that saves the setting', async () => {
    const h = await harness()
    await h.bridge.start()
    const item = () => (h.tray().menu?.items as { id?: string; checked?: boolean; click: () => void }[]).find((i) => i.id === 'connect-at-start')
    expect(item()?.checked).toBe(false)
    item()?.click()
    await vi.waitFor(async () => expect(JSON.parse(await readFile(join(h.dir, 'data', 'settings.json'), 'utf8'))).toMatchObject({ connectAtStart: true }))
    await vi.waitFor(() => expect(item()?.checked).toBe(true))
    expect(await h.call('app:set-settings', { connectAtStart: false })).toMatchObject({ ok: true })
    expect(item()?.checked).toBe(false)
  })

  test('no stale lease, no dialog', async () => {
    const h = await harness()
    await h.bridge.start()
    await h.bridge.startupDone
    expect(h.controller.calls).toContain('findStaleLease')
    expect(electron.dialog.messageBoxes).toHaveLength(0)
  })
})

describe('state changes', () => {
  test('tray icon, tooltip and menu follow the state; the window is told; a notification is shown', async () => {
    const h = await harness()
    await h.bridge.start()
    const before = h.tray().menuSets
    const degraded = stateOf('degraded', [{ name: 'dockerauth-vpc.cn-beijing.aliyuncs.com', reason: 'no answer' }])
    h.controller.setState(degraded)
    expect(h.tray().image).toBe(join('/app/tray', 'tray-degraded-32.png'))
    expect(h.tray().tooltip).toContain('dockerauth-vpc.cn-beijing.aliyuncs.com')
    expect(h.tray().menuSets).toBe(before + 1)
    expect(h.window().webContents.sent).toContainEqual({ channel: 'session:state-changed', args: [degraded] })
    expect(electron.Notification.shown).toEqual([{ title: 'ACR Bridge degraded', body: 'dockerauth-vpc.cn-beijing.aliyuncs.com: no answer' }])
  })

  test('the tray Regions menu saves the config and tells the window', async () => {
    const h = await harness()
    await h.bridge.start()
    const menu = h.tray().menu?.items as { id?: string; submenu?: { id: string; click: () => void }[] }[]
    const hangzhou = menu.find((i) => i.id === 'regions')?.submenu?.find((i) => i.id === 'region:cn-hangzhou')
    hangzhou?.click()
    await vi.waitFor(() => expect(h.controller.getConfig().regions.map((r) => r.id)).toEqual(['cn-beijing', 'cn-hangzhou']))
    const saved = JSON.parse(await readFile(join(h.dir, 'data', 'config.json'), 'utf8'))
    expect(saved.regions.map((r: { id: string }) => r.id)).toEqual(['cn-beijing', 'cn-hangzhou'])
    expect(h.window().webContents.sent.some((s) => s.channel === 'config:changed')).toBe(true)
  })

  test('tray Quit runs the quit sequence: dispose, then quit', async () => {
    const h = await harness()
    await h.bridge.start()
    const quits: string[] = []
    electron.app.on('quit', () => quits.push('quit'))
    const menu = h.tray().menu?.items as { id?: string; click?: () => void }[]
    menu.find((i) => i.id === 'quit')?.click?.()
    await vi.waitFor(() => expect(quits).toEqual(['quit']))
    expect(h.controller.calls.filter((c) => c.startsWith('dispose'))).toEqual(['dispose:start', 'dispose:end'])
  })

  test('an uncaught exception is logged, cleaned up after, and exits non-zero', async () => {
    const h = await harness()
    await h.bridge.start()
    h.processEvents.emit('uncaughtException', new Error('kaboom'))
    await vi.waitFor(() => expect(electron.app.exitCode).toBe(1))
    expect(h.controller.calls).toContain('dispose:end')
    expect(h.logger.lines.some((l) => l.includes('uncaughtException kaboom'))).toBe(true)
  })
})

describe('settings and secrets', () => {
  test('a password is stored encrypted, never in config.json, and never sent back to the window', async () => {
    const h = await harness()
    await h.bridge.start()
    const input = { ...sampleConfigInput, tunnel: { ...sampleConfigInput.tunnel, connect: { username: 'u', password: 's3cret-pass' } } }
    const answer = (await h.call('config:set', { config: input })) as Result<ConfigView>
    expect(answer.ok).toBe(true)
    if (!answer.ok) return
    expect(answer.value.storedSecrets.proxyPassword).toBe(true)
    expect(JSON.stringify(answer.value)).not.toContain('s3cret-pass')
    // The controller gets the secret; disk never has it in the clear.
    expect(h.controller.getConfig().tunnel.connect?.password).toBe('s3cret-pass')
    const files = await readdir(join(h.dir, 'data'))
    expect(files.sort()).toEqual(['config.json', 'secrets.bin'])
    for (const file of files) expect(await readFile(join(h.dir, 'data', file), 'utf8')).not.toContain('s3cret-pass')

    // Saving again without the password keeps it; clearing removes it.
    await h.call('config:set', { config: sampleConfigInput })
    expect(h.controller.getConfig().tunnel.connect?.password).toBe('s3cret-pass')
    const cleared = (await h.call('config:set', { config: sampleConfigInput, clearSecrets: ['proxyPassword'] })) as Result<ConfigView>
    expect(cleared.ok && cleared.value.storedSecrets.proxyPassword).toBe(false)
    expect(h.controller.getConfig().tunnel.connect?.password).toBeUndefined()
    expect(await readdir(join(h.dir, 'data'))).toEqual(['config.json'])
  })

  test('config:get says whether anything was saved yet (first run shows a placeholder)', async () => {
    const h = await harness()
    await h.bridge.start()
    expect(await h.call('config:get')).toMatchObject({ ok: true, value: { saved: false, secretStorageAvailable: true } })
    await h.call('config:set', { config: sampleConfigInput })
    expect(await h.call('config:get')).toMatchObject({ ok: true, value: { saved: true } })
  })

  test('without encrypted storage a secret is refused with a clear message and nothing is written', async () => {
    const h = await harness()
    electron.safeStorage.available = false
    await h.bridge.start()
    const input = { ...sampleConfigInput, tunnel: { ...sampleConfigInput.tunnel, connect: { username: 'u', password: 'pw-123456' } } }
    const answer = await h.call('config:set', { config: input })
    expect(answer).toMatchObject({ ok: false, error: { code: 'CONFIG_WRITE_FAILED', field: 'tunnel.connect.password' } })
    expect(answer.ok ? '' : answer.error.hint).toContain('ACR_BRIDGE_PROXY_PASSWORD')
    await expect(readdir(join(h.dir, 'data'))).rejects.toThrow()
    expect(h.controller.calls).not.toContain('setConfig')
  })

  test('profile export writes the config format without secrets', async () => {
    const h = await harness()
    await h.bridge.start()
    const input = { ...sampleConfigInput, tunnel: { ...sampleConfigInput.tunnel, connect: { username: 'u', password: 'exp0rt-secret' } } }
    await h.call('config:set', { config: input })
    electron.dialog.saveTo = join(h.dir, 'profile.json')
    expect(await h.call('profile:export')).toEqual({ ok: true, value: { saved: true, path: join(h.dir, 'profile.json') } })
    const text = await readFile(join(h.dir, 'profile.json'), 'utf8')
    expect(text).not.toContain('exp0rt-secret')
    expect(parseConfig(JSON.parse(text)).tunnel.connect).toEqual({ username: 'u' })
  })

  test('profile import validates with the core schema and does not save', async () => {
    const h = await harness()
    await h.bridge.start()
    const { writeFile } = await import('node:fs/promises')
    electron.dialog.openFrom = join(h.dir, 'in.json')
    await writeFile(electron.dialog.openFrom, JSON.stringify({ ...sampleConfigInput, regions: [{ id: 'cn-hangzhou', endpoints: ['registry-vpc'] }] }))
    const answer = await h.call('profile:import')
    expect(answer).toMatchObject({ ok: true, value: { imported: true, config: { regions: [{ id: 'cn-hangzhou' }] } } })
    expect(h.controller.calls).not.toContain('setConfig')
    await writeFile(electron.dialog.openFrom, '{ not json')
    expect(await h.call('profile:import')).toMatchObject({ ok: false, error: { code: 'INVALID_CONFIG' } })
    await writeFile(electron.dialog.openFrom, JSON.stringify({ regions: [], tunnel: { mode: 'sni', host: 'x y', port: 1 } }))
    expect(await h.call('profile:import')).toMatchObject({ ok: false, error: { code: 'INVALID_CONFIG', field: 'tunnel.host' } })
  })

  test('app settings persist and start-at-login is applied', async () => {
    const h = await harness()
    await h.bridge.start()
    expect(await h.call('app:set-settings', { startAtLogin: true, theme: 'dark' })).toEqual({
      ok: true,
      value: { startAtLogin: true, language: 'system', theme: 'dark', notifications: true, connectAtStart: false },
    })
    expect(electron.app.loginItem).toMatchObject({ openAtLogin: true })
    const saved = JSON.parse(await readFile(join(h.dir, 'data', 'settings.json'), 'utf8'))
    expect(saved).toMatchObject({ startAtLogin: true, theme: 'dark' })
    expect(await h.call('app:set-settings', { connectAtStart: true })).toMatchObject({ ok: true, value: { connectAtStart: true, theme: 'dark' } })
    expect(JSON.parse(await readFile(join(h.dir, 'data', 'settings.json'), 'utf8'))).toMatchObject({ connectAtStart: true })
    expect(await h.call('app:set-settings', { connectAtStart: 'yes' })).toMatchObject({ ok: false })
  })

  test('calls from another webContents are refused', async () => {
    const h = await harness()
    await h.bridge.start()
    const handler = electron.ipcMain.handlers.get('session:connect')
    const answer = await handler?.({ sender: { id: 9999 }, senderFrame: { url: 'file:///app/renderer/index.html', parent: null } })
    expect(answer).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(h.controller.calls).not.toContain('connect')
  })
})
