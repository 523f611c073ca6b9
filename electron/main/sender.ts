// Who may call the main process: only the app's own page, loaded in a top-level frame.

import { fileURLToPath, pathToFileURL } from 'node:url'
import type { FrameLike } from './electron-surface.js'

/** Where the app's own page comes from. */
export interface AppOrigin {
  /** file:// URL of the packaged renderer's index.html. */
  readonly rendererFileUrl: string
  /** The Vite dev server (development only), e.g. http://localhost:5173/. */
  readonly devServerUrl?: string
}

export function appOriginFor(rendererIndexPath: string, devServerUrl?: string): AppOrigin {
  return {
    rendererFileUrl: pathToFileURL(rendererIndexPath).href,
    ...(devServerUrl === undefined ? {} : { devServerUrl }),
  }
}

/** true when `url` is the app's own page (packaged file or dev server), parsed with a real URL parser. */
export function isAppUrl(url: string, origin: AppOrigin): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (parsed.protocol === 'file:') {
    const own = new URL(origin.rendererFileUrl)
    // Compare decoded file paths so %20 and a space are the same, and ignore ?query and #hash (client routing).
    return parsed.host === own.host && safeFilePath(parsed) === safeFilePath(own) && safeFilePath(own) !== undefined
  }
  if (origin.devServerUrl === undefined) return false
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false
  return parsed.origin === new URL(origin.devServerUrl).origin
}

/**
 * The IPC sender check: the frame exists (a navigated-away or destroyed frame is null), is the top frame (no
 * iframe may call), and shows the app's own page.
 */
export function isTrustedSender(frame: FrameLike | null | undefined, origin: AppOrigin): boolean {
  if (frame === null || frame === undefined) return false
  if (frame.parent !== null) return false
  return isAppUrl(frame.url, origin)
}

function safeFilePath(url: URL): string | undefined {
  try {
    return fileURLToPath(new URL(url.pathname, 'file://'))
  } catch {
    return undefined
  }
}
