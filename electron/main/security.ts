// The window's security settings in one place: CSP, permissions, navigation, new windows, webviews.

import type { Logger } from '../core/logger.js'
import type { SessionLike, WebContentsLike } from './electron-surface.js'
import { isAppUrl, type AppOrigin } from './sender.js'

/** The policy for the packaged renderer (also a <meta> tag in renderer/index.html). */
export const productionCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** The same policy, plus what Vite's dev server needs: its origin and its HMR websocket. */
export function contentSecurityPolicy(devServerUrl?: string): string {
  if (devServerUrl === undefined) return productionCsp
  const dev = new URL(devServerUrl)
  const ws = `${dev.protocol === 'https:' ? 'wss' : 'ws'}://${dev.host}`
  return productionCsp
    .replace("script-src 'self'", `script-src 'self' ${dev.origin} 'unsafe-inline'`)
    .replace("connect-src 'self'", `connect-src 'self' ${dev.origin} ${ws}`)
}

/** Deny every permission (camera, notifications from the page, geolocation…) and put the CSP on every response. */
export function installSessionSecurity(session: SessionLike, csp: string): void {
  session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value
    }
    headers['Content-Security-Policy'] = [csp]
    callback({ responseHeaders: headers })
  })
}

/** The page may not navigate away, open windows or attach webviews. */
export function hardenWebContents(contents: WebContentsLike, origin: AppOrigin, logger: Logger): void {
  contents.on('will-navigate', (event, url) => {
    // The renderer is one page with client-side routing: any navigation is unexpected.
    event.preventDefault()
    logger.warn(`[window] blocked navigation to ${safeOrigin(url)}`)
  })
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, origin)) {
      event.preventDefault()
      logger.warn(`[window] blocked redirect to ${safeOrigin(url)}`)
    }
  })
  contents.on('will-attach-webview', (event) => {
    event.preventDefault()
    logger.warn('[window] blocked a <webview>')
  })
  contents.setWindowOpenHandler((details) => {
    logger.warn(`[window] blocked a new window for ${safeOrigin(details.url)}`)
    return { action: 'deny' }
  })
}

function safeOrigin(url: string): string {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'file:' ? 'a local file' : parsed.origin
  } catch {
    return 'an unparsable URL'
  }
}
