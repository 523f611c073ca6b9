// Entry of the Electron main process: resolve paths, build the real dependencies, hand them to createApp.
// The only file here with import-time side effects.

import { homedir } from 'node:os'
import { join } from 'node:path'
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  powerMonitor,
  safeStorage,
  session,
  Tray,
} from 'electron'
import { defaultEndpointsFor, regions, endpointKinds } from '../core/catalog/index.js'
import { parseConfig } from '../core/config/schema.js'
import { defaultDataDir, toPlatform } from '../core/paths.js'
import { createSudoPromptElevator } from '../core/privileged/sudo-prompt-elevator.js'
import { discoverForSession } from '../core/discovery/session-discover.js'
import { createHealthMonitor } from '../core/probes/health-monitor.js'
import { createSessionController } from '../core/session/controller.js'
import type { SessionController } from '../core/session/types.js'
import { createApp } from './app.js'
import type { ElectronSurface } from './electron-surface.js'

// userData holds the single-instance lock, so it is set before anything else; it is the same folder the CLI uses
// (core/paths.ts), so either can undo what the other left.
app.setPath('userData', defaultDataDir(toPlatform(process.platform), process.env, homedir()))
app.setAppLogsPath()

const appRoot = app.getAppPath()
// electron-builder copies build/tray to resources/tray (extraResources); build/ itself is not packed.
const trayDir = app.isPackaged ? join(process.resourcesPath, 'tray') : join(appRoot, 'build', 'tray')
const devServerUrl = app.isPackaged ? undefined : nonEmpty(process.env['ACR_BRIDGE_DEV_SERVER_URL'])

const electron: ElectronSurface = {
  app,
  BrowserWindow,
  Tray,
  Menu,
  ipcMain,
  dialog,
  Notification,
  safeStorage,
  powerMonitor,
  get defaultSession() {
    // Only valid once the app is ready; createApp reads it after whenReady().
    return session.defaultSession
  },
}

/**
 * Until the user saves a config, the controller holds this placeholder: no regions, and a proxy address from
 * TEST-NET-1 (RFC 5737, never routed), so Connect fails with a clear UPSTREAM_UNREACHABLE instead of dialing
 * anything. It is never written to disk (only config:set saves).
 */
const firstRunConfig = parseConfig({ regions: [], tunnel: { mode: 'sni', host: '192.0.2.1', port: 443 } })

/**
 * The session controller. Created on first use, after createApp has loaded the saved settings. Persistence stays
 * with main's settings store (config.json without secrets, the secrets in safeStorage), so no `saveConfig` is
 * passed: the controller must never write the config itself, or secrets would reach plain JSON. Secrets left out of
 * the config come from the environment (ACR_BRIDGE_PROXY_PASSWORD, …) inside the controller.
 */
function createController(): SessionController {
  return createSessionController({
    config: bridge.store.config() ?? firstRunConfig,
    dataDir: app.getPath('userData'),
    platform: toPlatform(process.platform),
    env: process.env,
    homeDir: homedir(),
    elevator: createSudoPromptElevator(),
    logger: bridge.logger,
    // The tray colour and the window show what the probes find, not what the tunnel hopes.
    createHealthMonitor: (context) => createHealthMonitor(context),
    discover: (context, request) => discoverForSession(context, request),
  })
}

const lazyController = lazySessionController(createController)

const bridge = createApp({
  electron,
  controller: lazyController,
  parseConfig,
  catalog: () => ({ regions, endpointKinds }),
  newRegion: (id) => ({ id, endpoints: defaultEndpointsFor('vpc') }),
  platform: process.platform,
  paths: {
    userData: app.getPath('userData'),
    logs: app.getPath('logs'),
    preload: join(appRoot, 'dist', 'electron', 'preload', 'preload.cjs'),
    rendererIndex: join(appRoot, 'dist', 'renderer', 'index.html'),
    trayIcons: trayDir,
    appIcon: join(trayDir, 'app-icon.png'),
  },
  ...(devServerUrl === undefined ? {} : { devServerUrl }),
  startHidden: process.argv.includes('--hidden') || (process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin),
  process,
})

bridge.start().catch((error: unknown) => {
  bridge.logger.error('[app] failed to start', error)
  dialog.showErrorBox('ACR Bridge could not start', error instanceof Error ? error.message : String(error))
  app.exit(1)
})

/** The controller is created on first use (after the logger exists); the same object afterwards. */
function lazySessionController(create: () => SessionController): SessionController {
  let instance: SessionController | undefined
  const get = (): SessionController => (instance ??= create())
  return {
    get state() {
      return get().state
    },
    onDidChangeState: (listener) => get().onDidChangeState(listener),
    getConfig: () => get().getConfig(),
    setConfig: (config) => get().setConfig(config),
    previewHosts: (config) => get().previewHosts(config),
    connect: (options) => get().connect(options),
    disconnect: () => get().disconnect(),
    runDiagnostics: () => get().runDiagnostics(),
    // Nothing runs before the controller exists: a wake-up then has nothing to refresh.
    systemResumed: (suspendedMs) => instance?.systemResumed(suspendedMs),
    discover: (request) => get().discover(request),
    findStaleLease: () => get().findStaleLease(),
    revertStaleLease: () => get().revertStaleLease(),
    dispose: async () => {
      // Nothing to clean up when the controller was never created.
      if (instance !== undefined) await instance.dispose()
    },
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
