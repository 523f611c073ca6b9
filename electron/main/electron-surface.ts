// The parts of Electron's main-process API this app uses, as narrow structural types. index.ts passes the real
// `electron` module (the compiler checks it fits); the tests pass test/fakes/electron.ts. Types only.

import type { MenuItemConstructorOptions } from 'electron'

export interface PreventableEvent {
  preventDefault(): void
}

export interface MenuLike {
  readonly items: readonly unknown[]
}

export interface MenuStatic {
  buildFromTemplate(template: MenuItemConstructorOptions[]): MenuLike
}

export interface TrayLike {
  /** A file path; on macOS a name ending in `Template` (before `@2x.png`) makes it a template image. */
  setImage(image: string): void
  setToolTip(toolTip: string): void
  setContextMenu(menu: MenuLike | null): void
  destroy(): void
}

export interface FrameLike {
  readonly url: string
  readonly parent: FrameLike | null
}

export interface WebContentsLike {
  readonly id: number
  isDestroyed(): boolean
  send(channel: string, ...args: unknown[]): void
  on(event: 'will-navigate' | 'will-redirect', listener: (event: PreventableEvent, url: string) => void): unknown
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown
  setWindowOpenHandler(handler: (details: { readonly url: string }) => { action: 'deny' }): void
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike
  on(event: 'close', listener: (event: PreventableEvent) => void): unknown
  on(event: 'session-end', listener: (event: { readonly reasons: readonly string[] }) => void): unknown
  isDestroyed(): boolean
  isMinimized(): boolean
  isVisible(): boolean
  restore(): void
  show(): void
  hide(): void
  focus(): void
  loadFile(path: string): Promise<void>
  loadURL(url: string): Promise<void>
}

export interface IpcMainInvokeEventLike {
  readonly senderFrame: FrameLike | null
  readonly sender: { readonly id: number }
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

export interface SessionLike {
  setPermissionRequestHandler(
    handler: ((webContents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null,
  ): void
  setPermissionCheckHandler(handler: ((webContents: unknown, permission: string) => boolean) | null): void
  readonly webRequest: {
    onHeadersReceived(
      listener:
        | ((
            details: { readonly url: string; readonly responseHeaders?: Record<string, string[]> },
            callback: (response: { responseHeaders?: Record<string, string | string[]> }) => void,
          ) => void)
        | null,
    ): void
  }
}

export interface AppLike {
  readonly isPackaged: boolean
  requestSingleInstanceLock(): boolean
  whenReady(): Promise<void>
  quit(): void
  exit(code?: number): void
  getVersion(): string
  on(event: 'second-instance' | 'activate' | 'window-all-closed', listener: () => void): unknown
  on(event: 'before-quit' | 'will-quit', listener: (event: PreventableEvent) => void): unknown
  setLoginItemSettings(settings: { openAtLogin?: boolean; args?: string[] }): void
}

export interface MessageBoxOptionsLike {
  type?: 'none' | 'info' | 'error' | 'question' | 'warning'
  title?: string
  message: string
  detail?: string
  buttons?: string[]
  defaultId?: number
  cancelId?: number
  noLink?: boolean
}

export interface DialogLike {
  showMessageBox(options: MessageBoxOptionsLike): Promise<{ response: number }>
  showSaveDialog(options: {
    title?: string
    defaultPath?: string
    filters?: { name: string; extensions: string[] }[]
  }): Promise<{ canceled: boolean; filePath?: string }>
  showOpenDialog(options: {
    title?: string
    filters?: { name: string; extensions: string[] }[]
    properties?: ('openFile')[]
  }): Promise<{ canceled: boolean; filePaths: string[] }>
  showErrorBox(title: string, content: string): void
}

export interface NotificationLike {
  show(): void
}

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  encryptString(plainText: string): Buffer
  decryptString(encrypted: Buffer): string
}

export interface PowerMonitorLike {
  on(event: 'shutdown', listener: (event?: PreventableEvent) => void): unknown
  on(event: 'suspend' | 'resume', listener: () => void): unknown
}

export interface BrowserWindowConstructorOptionsLike {
  readonly [key: string]: unknown
}

/** Everything createApp needs from Electron. */
export interface ElectronSurface {
  readonly app: AppLike
  readonly BrowserWindow: new (options: BrowserWindowConstructorOptionsLike) => BrowserWindowLike
  readonly Tray: new (image: string, guid?: string) => TrayLike
  readonly Menu: MenuStatic
  readonly ipcMain: IpcMainLike
  readonly dialog: DialogLike
  readonly Notification: { new (options: { title: string; body: string; silent?: boolean }): NotificationLike; isSupported(): boolean }
  readonly safeStorage: SafeStorageLike
  readonly powerMonitor: PowerMonitorLike
  /** `session.defaultSession`. */
  readonly defaultSession: SessionLike
}
