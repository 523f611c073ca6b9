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
import { resolveSecrets } from '../core/config/secrets.js'
import { defaultDataDir, toPlatform } from '../core/paths.js'
import { createSudoPromptElevator } from '../core/privileged/sudo-prompt-elevator.js'
import type { Elevator } from '../core/privileged/types.js'
import type { SessionController } from '../core/session/types.js'
import { createApp, type BridgeApp } from './app.js'
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
 * The session controller, with the sudo-prompt elevator and the app's data folder.
 *
 * TODO(controller): electron/core/session/controller.ts does not exist yet. When it lands, add
 *   import { createSessionController } from '../core/session/controller.js'
 * and replace the `throw` below with
 *   return createSessionController({ elevator, dataDir: app.getPath('userData'), platform: toPlatform(process.platform), logger })
 * (whatever its options are named). Persistence stays with main's settings store (config.json without secrets, the
 * secrets in safeStorage): the controller must not write the config file itself, or secrets would reach plain JSON.
 */
function createController(elevator: Elevator, logger: BridgeApp['logger']): SessionController {
  void elevator
  void logger
  throw new Error('The session controller is not wired yet (electron/main/index.ts createController).')
}

const elevator = createSudoPromptElevator()
const lazyController = lazySessionController(() => createController(elevator, bridge.logger))

const bridge = createApp({
  electron,
  controller: lazyController,
  parseConfig,
  resolveSecrets: (config) => resolveSecrets(config, process.env),
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
    connect: () => get().connect(),
    disconnect: () => get().disconnect(),
    runDiagnostics: () => get().runDiagnostics(),
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
