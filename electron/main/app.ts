// Composes the desktop app from its parts. Everything comes in through `deps` (Electron, the session controller,
// the config parser, paths), so tests can build the whole app around fakes. index.ts passes the real things.

import { homedir } from 'node:os'
import type { CatalogView, EventChannel, EventContract } from '../common/ipc-contract.js'
import type { SessionState } from '../common/status.js'
import type { Config, RegionSelection } from '../core/config/types.js'
import type { Logger } from '../core/logger.js'
import type { SessionController } from '../core/session/types.js'
import type { BrowserWindowLike, ElectronSurface } from './electron-surface.js'
import { ipcImplementations, registerIpcHandlers, type IpcServices } from './ipc-handlers.js'
import { createIpcServices } from './ipc-handlers-services.js'
import { createValidators, type ParseConfig } from './ipc-schemas.js'
import { installQuitSequence, type QuitSequence } from './lifecycle.js'
import { createRotatingFileLogger, type RotatingFileLogger } from './log-file.js'
import { createMainWindow, loadRenderer, showWindow, type MainWindowPaths } from './main-window.js'
import { createStateNotifier, type StateNotifier } from './notifications.js'
import { createRateLimiter } from './rate-limiter.js'
import { withoutSecrets } from './secrets.js'
import { contentSecurityPolicy, installSessionSecurity } from './security.js'
import { appOriginFor, isTrustedSender } from './sender.js'
import { createSettingsStore, safeStorageCipher, type SettingsStore } from './settings-store.js'
import { watchSleep } from './sleep-watch.js'
import { createTrayView, type TrayView } from './tray.js'
import type { TrayMenuOptions, TrayRegion } from './tray-menu.js'

export interface AppPaths {
  /** app.getPath('userData'): config.json, secrets.bin, settings.json. */
  readonly userData: string
  /** app.getPath('logs'). */
  readonly logs: string
  readonly preload: string
  readonly rendererIndex: string
  /** The folder holding tray-<state>… images (packaged: resources/tray). */
  readonly trayIcons: string
  readonly appIcon?: string
}

export interface ProcessEvents {
  on(event: 'uncaughtException' | 'unhandledRejection', listener: (error: unknown) => void): unknown
}

export interface AppDeps {
  readonly electron: ElectronSurface
  readonly controller: SessionController
  /** The core's config parser: throws BridgeError INVALID_CONFIG naming the field. */
  readonly parseConfig: ParseConfig
  readonly catalog: () => CatalogView
  /** The selection the tray's Regions menu adds for a region (the VPC endpoint set). */
  readonly newRegion: (id: string) => RegionSelection
  readonly paths: AppPaths
  readonly platform: NodeJS.Platform
  readonly devServerUrl?: string
  /** Started at login (or with --hidden): stay in the tray. */
  readonly startHidden?: boolean
  /** Time limit for controller.dispose() on quit. Default 15 s (an elevation prompt may be on screen). */
  readonly quitTimeoutMs?: number
  readonly process?: ProcessEvents
  /** Default: a rotating file under paths.logs. */
  readonly logger?: RotatingFileLogger
  readonly now?: () => number
  /** `~` in config paths (known_hosts for a trusted SSH host key) expands to this; default os.homedir(). */
  readonly homeDir?: string
}

export interface BridgeApp {
  /** false when another instance holds the lock (this one quits). */
  start(): Promise<boolean>
  readonly logger: Logger
  readonly store: SettingsStore
  readonly quit: QuitSequence | undefined
  readonly window: BrowserWindowLike | undefined
  openWindow(): void
  /** Resolves when the startup check for a stale lease (and the offered revert) is done. */
  readonly startupDone: Promise<void>
}

export function createApp(deps: AppDeps): BridgeApp {
  const { electron, controller } = deps
  const { app } = electron
  const now = deps.now ?? Date.now
  const origin = appOriginFor(deps.paths.rendererIndex, deps.devServerUrl)
  const windowPaths: MainWindowPaths = {
    preload: deps.paths.preload,
    rendererIndex: deps.paths.rendererIndex,
    ...(deps.paths.appIcon === undefined ? {} : { icon: deps.paths.appIcon }),
  }

  let store: SettingsStore | undefined
  const logger: RotatingFileLogger =
    deps.logger ??
    createRotatingFileLogger({
      dir: deps.paths.logs,
      maxBytes: 1024 * 1024,
      maxFiles: 5,
      knownSecrets: () => store?.secretValues() ?? [],
      onEntry: (entry) => broadcast('log:appended', entry),
    })
  store = createSettingsStore({
    dir: deps.paths.userData,
    parseConfig: deps.parseConfig,
    cipher: safeStorageCipher(electron.safeStorage, deps.platform),
    logger,
  })
  const settingsStore = store

  let quit: QuitSequence | undefined
  let window: BrowserWindowLike | undefined
  let tray: TrayView | undefined
  let diagnosticsRunning = false
  let notifier: StateNotifier | undefined
  let resolveStartup: () => void = () => {}
  const startupDone = new Promise<void>((resolve) => {
    resolveStartup = resolve
  })

  function broadcast<C extends EventChannel>(channel: C, payload: EventContract[C]): void {
    const contents = window?.webContents
    if (window === undefined || window.isDestroyed() || contents === undefined || contents.isDestroyed()) return
    contents.send(channel, payload)
  }

  function openWindow(): void {
    if (window !== undefined) showWindow(window)
  }

  function applyLoginItem(openAtLogin: boolean): void {
    // In development this would register the bare Electron binary as a login item.
    if (!app.isPackaged) return
    app.setLoginItemSettings({ openAtLogin, args: ['--hidden'] })
  }

  function trayRegions(config: Config): TrayRegion[] {
    const selected = new Set(config.regions.map((r) => r.id))
    let regions: TrayRegion[] = []
    try {
      regions = deps
        .catalog()
        .regions.filter((r) => r.status !== 'closed' || selected.has(r.id))
        .map((r) => ({ id: r.id, label: `${r.nameEn} (${r.id})`, checked: selected.has(r.id) }))
    } catch (error) {
      logger.error('[tray] the region catalog is not available', error)
    }
    // A saved region the catalog does not list still shows, so it can be unticked.
    for (const id of selected) {
      if (!regions.some((r) => r.id === id)) regions.push({ id, label: id, checked: true })
    }
    return regions
  }

  async function toggleRegion(id: string, checked: boolean): Promise<void> {
    // Without secrets: the stored ones are kept (a secret left out keeps the stored one).
    const config = withoutSecrets(controller.getConfig())
    const has = config.regions.some((r) => r.id === id)
    if (has === checked) return
    const regions = checked ? [...config.regions, deps.newRegion(id)] : config.regions.filter((r) => r.id !== id)
    await services.saveConfig({ config: { ...config, regions } })
  }

  async function runDiagnosticsFromTray(): Promise<void> {
    diagnosticsRunning = true
    renderTray()
    try {
      const results = await controller.runDiagnostics()
      broadcast('diagnostics:completed', results)
    } finally {
      diagnosticsRunning = false
      renderTray()
    }
  }

  function report(action: string): (error: unknown) => void {
    return (error) => {
      logger.warn(`[tray] ${action} failed`, error)
      const message = error instanceof Error ? error.message : String(error)
      if (electron.Notification.isSupported()) new electron.Notification({ title: `ACR Bridge: ${action} failed`, body: message }).show()
    }
  }

  async function setConnectAtStart(checked: boolean): Promise<void> {
    await settingsStore.saveAppSettings({ connectAtStart: checked })
    renderTray()
  }

  const menuOptions: Omit<TrayMenuOptions, 'diagnosticsRunning' | 'connectAtStart'> = {
    onConnect: () => void controller.connect().catch(report('Connect')),
    onDisconnect: () => void controller.disconnect().catch(report('Disconnect')),
    onToggleRegion: (id, checked) => void toggleRegion(id, checked).catch(report('Changing regions')),
    onRunDiagnostics: () => void runDiagnosticsFromTray().catch(report('Diagnostics')),
    onOpenWindow: () => openWindow(),
    onQuit: () => app.quit(),
    onToggleConnectAtStart: (checked) => void setConnectAtStart(checked).catch(report('Saving "Connect at start"')),
  }

  function renderTray(state: SessionState = controller.state): void {
    if (tray === undefined) return
    let config: Config | undefined
    try {
      config = controller.getConfig()
    } catch (error) {
      logger.error('[tray] cannot read the config', error)
    }
    tray.render(state, config === undefined ? [] : trayRegions(config), {
      ...menuOptions,
      diagnosticsRunning,
      connectAtStart: settingsStore.appSettings().connectAtStart,
    })
  }

  /**
   * "Connect at start": connect, taking over what an earlier run left (a crash or a reboot) in the same one
   * privileged run instead of asking to revert it. Returns false when it did not connect: then the state shows why,
   * and the caller offers the revert as without the setting.
   */
  async function connectAtStart(): Promise<boolean> {
    if (settingsStore.config() === undefined) {
      logger.info('[app] "Connect at start" is on, but nothing is configured yet: not connecting')
      return false
    }
    let stale: Awaited<ReturnType<SessionController['findStaleLease']>>
    try {
      stale = await controller.findStaleLease()
    } catch (error) {
      logger.warn('[app] the stale-lease check failed; connecting anyway', error)
    }
    if (stale !== undefined) logger.info(`[app] connect at start: taking over the changes an earlier run left: ${stale.changes.join('; ')}`)
    else logger.info('[app] connect at start')
    try {
      await controller.connect({ resumeStaleLease: true })
    } catch (error) {
      logger.error('[app] connect at start failed', error)
      return false
    }
    if (stale !== undefined) {
      logger.info('[app] connected; the changes of the earlier run are now this session\'s (disconnect undoes them)')
      if (settingsStore.appSettings().notifications && electron.Notification.isSupported()) {
        new electron.Notification({
          title: 'ACR Bridge reconnected',
          body: 'ACR Bridge did not shut down cleanly last time; it took those changes over and is connected again.',
        }).show()
      }
    }
    return true
  }

  async function startupCheck(): Promise<void> {
    if (settingsStore.appSettings().connectAtStart && (await connectAtStart())) return
    await offerStaleLeaseRevert()
  }

  async function offerStaleLeaseRevert(): Promise<void> {
    const lease = await controller.findStaleLease()
    if (lease === undefined) return
    logger.warn(`[app] found changes left by an earlier run: ${lease.changes.join('; ')}`)
    const { response } = await electron.dialog.showMessageBox({
      type: 'warning',
      title: 'ACR Bridge',
      message: 'ACR Bridge did not shut down cleanly last time.',
      detail: [
        `These changes are still in place:`,
        ...lease.changes.map((c) => `• ${c}`),
        '',
        `Names still mapped in ${lease.hostsPath}: ${lease.names.join(', ') || 'none'}.`,
        'Revert them now? Until you do, those names resolve to this computer even without ACR Bridge.',
      ].join('\n'),
      buttons: ['Revert now', 'Keep for now'],
      defaultId: 0,
      cancelId: 1,
      noLink: true,
    })
    if (response !== 0) {
      logger.info('[app] the user kept the stale changes')
      return
    }
    try {
      await controller.revertStaleLease()
      logger.info('[app] reverted the stale changes')
    } catch (error) {
      logger.error('[app] reverting the stale changes failed', error)
      const message = error instanceof Error ? error.message : String(error)
      const hint = typeof (error as { hint?: unknown }).hint === 'string' ? `\n\n${(error as { hint: string }).hint}` : ''
      electron.dialog.showErrorBox('ACR Bridge could not revert the old changes', `${message}${hint}`)
    }
  }

  // The same services the test host builds (ipc-handlers-services.ts); here events go to the window and the tray.
  const services: IpcServices = createIpcServices({
    controller,
    store: settingsStore,
    catalog: () => deps.catalog(),
    parseConfig: deps.parseConfig,
    logger,
    dialog: electron.dialog,
    appInfo: () => ({ version: app.getVersion(), platform: deps.platform, packaged: app.isPackaged }),
    homeDir: deps.homeDir ?? homedir(),
    broadcast,
    onConfigSaved: () => renderTray(),
    onAppSettingsSaved: (saved, patch) => {
      if (patch.startAtLogin !== undefined) applyLoginItem(saved.startAtLogin)
      if (patch.connectAtStart !== undefined) renderTray()
    },
    now,
  })

  async function start(): Promise<boolean> {
    if (!app.requestSingleInstanceLock()) {
      logger.info('[app] another instance is running; handing over to it')
      app.quit()
      resolveStartup()
      return false
    }
    quit = installQuitSequence({
      app,
      powerMonitor: electron.powerMonitor,
      dispose: () => controller.dispose(),
      timeoutMs: deps.quitTimeoutMs ?? 15_000,
      logger,
    })
    const sequence = quit
    watchSleep(electron.powerMonitor, (suspendedMs) => controller.systemResumed(suspendedMs))
    deps.process?.on('uncaughtException', (error) => sequence.onFatal('uncaughtException', error))
    deps.process?.on('unhandledRejection', (error) => sequence.onFatal('unhandledRejection', error))
    app.on('second-instance', () => openWindow())
    app.on('activate', () => openWindow())
    // Stay alive in the tray with no window open.
    app.on('window-all-closed', () => {})

    await app.whenReady()
    installSessionSecurity(electron.defaultSession, contentSecurityPolicy(deps.devServerUrl))

    try {
      await settingsStore.load()
    } catch (error) {
      logger.error('[settings] cannot read the saved settings', error)
    }
    const saved = settingsStore.config()
    if (saved !== undefined) {
      await controller.setConfig(saved).catch((error: unknown) => logger.error('[settings] the saved config was refused', error))
    }

    registerIpcHandlers(
      {
        ipcMain: electron.ipcMain,
        isTrusted: (event) => window !== undefined && event.sender.id === window.webContents.id && isTrustedSender(event.senderFrame, origin),
        logger,
      },
      createValidators(deps.parseConfig),
      ipcImplementations(services),
    )

    const limiter = createRateLimiter({ max: 3, windowMs: 60_000, now })
    notifier = createStateNotifier({
      limiter,
      enabled: () => settingsStore.appSettings().notifications && electron.Notification.isSupported(),
      show: (n) => new electron.Notification({ title: n.title, body: n.body }).show(),
    })
    notifier.update(controller.state)

    tray = createTrayView({
      Tray: electron.Tray,
      Menu: electron.Menu,
      iconDir: deps.paths.trayIcons,
      platform: deps.platform,
      initialKind: controller.state.kind,
    })
    renderTray()
    controller.onDidChangeState((state) => {
      renderTray(state)
      broadcast('session:state-changed', state)
      notifier?.update(state)
    })

    window = createMainWindow({
      BrowserWindow: electron.BrowserWindow,
      paths: windowPaths,
      origin,
      ...(deps.devServerUrl === undefined ? {} : { devServerUrl: deps.devServerUrl }),
      isQuitting: () => sequence.quitting,
      logger,
    })
    window.on('session-end', () => sequence.onSessionEnd())
    const shown = window
    loadRenderer(shown, windowPaths, deps.devServerUrl)
      .then(() => {
        if (deps.startHidden !== true) showWindow(shown)
      })
      .catch((error: unknown) => logger.error('[window] the window could not load', error))

    applyLoginItem(settingsStore.appSettings().startAtLogin)
    void startupCheck()
      .catch((error: unknown) => logger.error('[app] the stale-lease check failed', error))
      .finally(resolveStartup)
    logger.info(`[app] started (version ${app.getVersion()}, ${deps.platform})`)
    return true
  }

  return {
    start,
    logger,
    store: settingsStore,
    get quit() {
      return quit
    },
    get window() {
      return window
    },
    openWindow,
    startupDone,
  }
}
