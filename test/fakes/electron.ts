// Stands in for the `electron` module in the `electron` vitest project (vite.config.ts alias). Only what the glue
// uses, recording what it was asked to do. Call resetFakeElectron() in beforeEach: the module is a singleton.
import { EventEmitter } from 'node:events'

export function preventable(): { preventDefault(): void; defaultPrevented: boolean } {
  return { defaultPrevented: false, preventDefault() { this.defaultPrevented = true } }
}

type Frame = { readonly url: string; readonly parent: Frame | null }
type Handler = (event: { sender: { id: number }; senderFrame: Frame | null }, ...args: unknown[]) => unknown

class FakeIpcMain {
  readonly handlers = new Map<string, Handler>()
  handle(channel: string, handler: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
    this.handlers.set(channel, handler)
  }
  removeHandler(channel: string): void { this.handlers.delete(channel) }
}

class FakeIpcRenderer extends EventEmitter {
  readonly calls: { channel: string; args: unknown[] }[] = []
  answer: (channel: string, args: unknown[]) => unknown = () => ({ ok: true, value: null })
  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.calls.push({ channel, args })
    return this.answer(channel, args)
  }
}

class FakeApp extends EventEmitter {
  isPackaged = true
  hasLock = true
  quitCalls = 0
  exitCode: number | undefined
  loginItem: { openAtLogin?: boolean } | undefined
  requestSingleInstanceLock(): boolean { return this.hasLock }
  async whenReady(): Promise<void> {}
  getVersion(): string { return '0.1.0-test' }
  setLoginItemSettings(settings: { openAtLogin?: boolean }): void { this.loginItem = settings }
  exit(code = 0): void { this.exitCode = code }
  /** Like Electron: before-quit, then will-quit; either may be prevented. */
  quit(): void {
    this.quitCalls++
    const before = preventable()
    this.emit('before-quit', before)
    if (before.defaultPrevented) return
    const will = preventable()
    this.emit('will-quit', will)
    if (!will.defaultPrevented) this.emit('quit')
  }
}

let nextId = 1
class FakeWebContents extends EventEmitter {
  readonly id = nextId++
  readonly sent: { channel: string; args: unknown[] }[] = []
  openHandler: ((details: { url: string }) => { action: string }) | undefined
  isDestroyed(): boolean { return false }
  send(channel: string, ...args: unknown[]): void { this.sent.push({ channel, args }) }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void { this.openHandler = handler }
}

export class BrowserWindow extends EventEmitter {
  static readonly created: BrowserWindow[] = []
  readonly webContents = new FakeWebContents()
  visible = false
  destroyed = false
  focused = false
  loaded: string | undefined
  constructor(readonly options: Record<string, unknown>) { super(); BrowserWindow.created.push(this) }
  isDestroyed(): boolean { return this.destroyed }
  isMinimized(): boolean { return false }
  isVisible(): boolean { return this.visible }
  restore(): void {}
  show(): void { this.visible = true }
  hide(): void { this.visible = false }
  focus(): void { this.focused = true }
  async loadFile(path: string): Promise<void> { this.loaded = path }
  async loadURL(url: string): Promise<void> { this.loaded = url }
  /** The user clicks the close button. */
  close(): void {
    const event = preventable()
    this.emit('close', event)
    if (!event.defaultPrevented) this.destroyed = true
  }
}

export class Tray {
  static readonly created: Tray[] = []
  tooltip = ''
  menu: { items: readonly unknown[] } | null = null
  menuSets = 0
  constructor(public image: string, readonly guid?: string) { Tray.created.push(this) }
  setImage(image: string): void { this.image = image }
  setToolTip(text: string): void { this.tooltip = text }
  setContextMenu(menu: { items: readonly unknown[] } | null): void { this.menu = menu; this.menuSets++ }
  destroy(): void {}
}

export const Menu = { buildFromTemplate: (template: unknown[]) => ({ items: template }) }

export class Notification {
  static readonly shown: { title: string; body: string }[] = []
  static isSupported(): boolean { return true }
  constructor(readonly options: { title: string; body: string }) {}
  show(): void { Notification.shown.push(this.options) }
}

export const dialog = {
  messageBoxes: [] as { message: string; buttons?: string[] }[],
  messageBoxResponse: 0,
  errorBoxes: [] as string[],
  saveTo: undefined as string | undefined,
  openFrom: undefined as string | undefined,
  async showMessageBox(options: { message: string; buttons?: string[] }) { this.messageBoxes.push(options); return { response: this.messageBoxResponse } },
  showErrorBox(title: string, content: string): void { this.errorBoxes.push(`${title}: ${content}`) },
  async showSaveDialog() { return this.saveTo === undefined ? { canceled: true } : { canceled: false, filePath: this.saveTo } },
  async showOpenDialog() { return this.openFrom === undefined ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [this.openFrom] } },
}

/** Reversible, clearly-not-plaintext stand-in for the OS keychain. */
export const safeStorage = {
  available: true,
  isEncryptionAvailable(): boolean { return this.available },
  encryptString: (text: string) => Buffer.from(`fake-enc:${Buffer.from(text, 'utf8').toString('base64')}`),
  decryptString: (bytes: Buffer) => Buffer.from(bytes.toString().replace(/^fake-enc:/, ''), 'base64').toString('utf8'),
}

export const session = {
  defaultSession: {
    requestHandler: undefined as ((wc: unknown, permission: string, cb: (granted: boolean) => void) => void) | null | undefined,
    checkHandler: undefined as ((wc: unknown, permission: string) => boolean) | null | undefined,
    headersListener: undefined as unknown,
    setPermissionRequestHandler(h: typeof this.requestHandler) { this.requestHandler = h },
    setPermissionCheckHandler(h: typeof this.checkHandler) { this.checkHandler = h },
    webRequest: { onHeadersReceived(listener: unknown) { session.defaultSession.headersListener = listener } },
  },
}

export let app = new FakeApp()
export let ipcMain = new FakeIpcMain()
export let ipcRenderer = new FakeIpcRenderer()
export let powerMonitor = new EventEmitter()
export const contextBridge = { exposed: new Map<string, unknown>(), exposeInMainWorld(key: string, api: unknown) { this.exposed.set(key, api) } }

export function resetFakeElectron(): void {
  app = new FakeApp()
  ipcMain = new FakeIpcMain()
  ipcRenderer = new FakeIpcRenderer()
  powerMonitor = new EventEmitter()
  contextBridge.exposed.clear()
  BrowserWindow.created.length = 0
  Tray.created.length = 0
  Notification.shown.length = 0
  Object.assign(dialog, { messageBoxes: [], messageBoxResponse: 0, errorBoxes: [], saveTo: undefined, openFrom: undefined })
  safeStorage.available = true
  Object.assign(session.defaultSession, { requestHandler: undefined, checkHandler: undefined, headersListener: undefined })
}
