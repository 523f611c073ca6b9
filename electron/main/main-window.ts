// The one window: sandboxed, isolated, no Node; closing it hides it to the tray.

import type { Logger } from '../core/logger.js'
import type { BrowserWindowConstructorOptionsLike, BrowserWindowLike } from './electron-surface.js'
import { hardenWebContents } from './security.js'
import type { AppOrigin } from './sender.js'

export interface MainWindowPaths {
  readonly preload: string
  readonly rendererIndex: string
  readonly icon?: string
}

/** Pure: the BrowserWindow options. Every security-relevant preference is stated, none left to defaults. */
export function mainWindowOptions(paths: MainWindowPaths): BrowserWindowConstructorOptionsLike {
  return {
    width: 980,
    height: 720,
    minWidth: 720,
    minHeight: 520,
    show: false,
    title: 'ACR Bridge',
    ...(paths.icon === undefined ? {} : { icon: paths.icon }),
    webPreferences: {
      preload: paths.preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  }
}

export interface MainWindowOptions {
  readonly BrowserWindow: new (options: BrowserWindowConstructorOptionsLike) => BrowserWindowLike
  readonly paths: MainWindowPaths
  readonly origin: AppOrigin
  readonly devServerUrl?: string
  /** true once a quit has begun: then close really closes. */
  readonly isQuitting: () => boolean
  readonly logger: Logger
}

export function createMainWindow(options: MainWindowOptions): BrowserWindowLike {
  const window = new options.BrowserWindow(mainWindowOptions(options.paths))
  hardenWebContents(window.webContents, options.origin, options.logger)
  window.on('close', (event) => {
    if (options.isQuitting()) return
    // The tunnel keeps running with the window closed: closing means "to the tray", Quit is in the tray menu.
    event.preventDefault()
    window.hide()
  })
  return window
}

/** Loads the renderer: the dev server in development, else the packaged file. */
export async function loadRenderer(window: BrowserWindowLike, paths: MainWindowPaths, devServerUrl?: string): Promise<void> {
  if (devServerUrl !== undefined) await window.loadURL(devServerUrl)
  else await window.loadFile(paths.rendererIndex)
}

export function showWindow(window: BrowserWindowLike): void {
  if (window.isDestroyed()) return
  if (window.isMinimized()) window.restore()
  window.show()
  window.focus()
}
