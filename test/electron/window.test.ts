import { pathToFileURL } from 'node:url'
import { beforeEach, describe, expect, test } from 'vitest'
import * as electron from '../fakes/electron.js'
import { createMainWindow, mainWindowOptions } from '../../electron/main/main-window.js'
import { contentSecurityPolicy, installSessionSecurity, productionCsp } from '../../electron/main/security.js'
import { appOriginFor } from '../../electron/main/sender.js'
import { memoryLogger } from './helpers.js'

const paths = { preload: '/app/dist/electron/preload/preload.cjs', rendererIndex: '/app/dist/renderer/index.html' }
const origin = appOriginFor(paths.rendererIndex)

beforeEach(() => electron.resetFakeElectron())

function makeWindow(quitting = false) {
  const logger = memoryLogger()
  const window = createMainWindow({ BrowserWindow: electron.BrowserWindow, paths, origin, isQuitting: () => quitting, logger }) as unknown as electron.BrowserWindow
  return { window, logger }
}

describe('window options', () => {
  test('every security preference is stated explicitly', () => {
    const options = mainWindowOptions(paths)
    expect(options['show']).toBe(false)
    expect(options['webPreferences']).toMatchObject({
      preload: paths.preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    })
  })

  test('the created window gets exactly those options', () => {
    const { window } = makeWindow()
    expect(window.options).toEqual(mainWindowOptions(paths))
  })
})

describe('navigation, new windows and webviews are blocked', () => {
  test('will-navigate is prevented, wherever it goes', () => {
    const { window, logger } = makeWindow()
    for (const url of ['https://example.com/', pathToFileURL(paths.rendererIndex).href, 'file:///etc/passwd']) {
      const event = electron.preventable()
      window.webContents.emit('will-navigate', event, url)
      expect(event.defaultPrevented).toBe(true)
    }
    expect(logger.lines.filter((l) => l.includes('blocked navigation'))).toHaveLength(3)
  })

  test('will-redirect is prevented unless it is our own page', () => {
    const { window } = makeWindow()
    const away = electron.preventable()
    window.webContents.emit('will-redirect', away, 'https://example.com/')
    expect(away.defaultPrevented).toBe(true)
    const own = electron.preventable()
    window.webContents.emit('will-redirect', own, pathToFileURL(paths.rendererIndex).href)
    expect(own.defaultPrevented).toBe(false)
  })

  test('window.open is denied', () => {
    const { window } = makeWindow()
    expect(window.webContents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' })
    expect(window.webContents.openHandler?.({ url: pathToFileURL(paths.rendererIndex).href })).toEqual({ action: 'deny' })
  })

  test('<webview> attachment is prevented', () => {
    const { window } = makeWindow()
    const event = electron.preventable()
    window.webContents.emit('will-attach-webview', event)
    expect(event.defaultPrevented).toBe(true)
  })
})

describe('close hides to the tray', () => {
  test('closing while running hides the window and keeps it', () => {
    const { window } = makeWindow(false)
    window.show()
    window.close()
    expect(window.destroyed).toBe(false)
    expect(window.visible).toBe(false)
  })

  test('closing during quit really closes', () => {
    const { window } = makeWindow(true)
    window.close()
    expect(window.destroyed).toBe(true)
  })
})

describe('session security', () => {
  test('every permission request and check is denied', () => {
    installSessionSecurity(electron.session.defaultSession, productionCsp)
    const { requestHandler, checkHandler } = electron.session.defaultSession
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fileSystem']) {
      const answers: boolean[] = []
      requestHandler?.({}, permission, (granted) => answers.push(granted))
      expect(answers).toEqual([false])
      expect(checkHandler?.({}, permission)).toBe(false)
    }
  })

  test('every response carries our CSP, replacing whatever the server sent', () => {
    installSessionSecurity(electron.session.defaultSession, productionCsp)
    const listener = electron.session.defaultSession.headersListener as (d: unknown, cb: (r: { responseHeaders?: Record<string, string | string[]> }) => void) => void
    const responses: { responseHeaders?: Record<string, string | string[]> }[] = []
    listener({ url: 'file:///app/dist/renderer/index.html', responseHeaders: { 'content-security-policy': ["default-src *"], 'X-Other': ['1'] } }, (r) => responses.push(r))
    listener({ url: 'file:///app/dist/renderer/assets/index.js' }, (r) => responses.push(r))
    for (const response of responses) {
      const csp = Object.entries(response.responseHeaders ?? {}).filter(([k]) => k.toLowerCase() === 'content-security-policy')
      expect(csp).toEqual([['Content-Security-Policy', [productionCsp]]])
    }
    expect(responses[0]?.responseHeaders?.['X-Other']).toEqual(['1'])
  })

  test('the production CSP allows nothing remote and no inline script; dev adds only the dev server', () => {
    expect(productionCsp).toContain("default-src 'self'")
    expect(productionCsp).toContain("script-src 'self';")
    expect(productionCsp).toContain("object-src 'none'")
    expect(productionCsp).not.toMatch(/https?:|\*/)
    const dev = contentSecurityPolicy('http://localhost:5173/')
    expect(dev).toContain('connect-src \'self\' http://localhost:5173 ws://localhost:5173')
    expect(dev).not.toContain('*')
    expect(contentSecurityPolicy()).toBe(productionCsp)
  })
})
