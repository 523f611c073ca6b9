// Owns the Tray: icon per state, tooltip, and the context menu rebuilt (setContextMenu) on every change.

import { join } from 'node:path'
import type { SessionState, SessionStateKind } from '../common/status.js'
import type { MenuStatic, TrayLike } from './electron-surface.js'
import { buildTrayMenu, trayIconFile, trayTooltip, type TrayMenuOptions, type TrayPlatform, type TrayRegion } from './tray-menu.js'

/** Keeps the icon's place in the menu bar / notification area across updates (Windows, macOS). */
export const trayGuid = '6c0d8f0e-3b0a-4d8e-9a47-6f0e1c2b7a51'

export interface TrayView {
  render(state: SessionState, regions: readonly TrayRegion[], options: TrayMenuOptions): void
  destroy(): void
}

export function createTrayView(options: {
  readonly Tray: new (image: string, guid?: string) => TrayLike
  readonly Menu: MenuStatic
  readonly iconDir: string
  readonly platform: NodeJS.Platform
  readonly initialKind: SessionStateKind
}): TrayView {
  const platform: TrayPlatform = options.platform === 'darwin' || options.platform === 'win32' ? options.platform : 'linux'
  const iconPath = (kind: SessionStateKind): string => join(options.iconDir, trayIconFile(kind, platform))
  // Linux: a GUID-bearing tray is not supported everywhere; the GUID matters on Windows and macOS only.
  const tray = platform === 'linux' ? new options.Tray(iconPath(options.initialKind)) : new options.Tray(iconPath(options.initialKind), trayGuid)
  let shownKind = options.initialKind
  return {
    render(state, regions, menuOptions) {
      if (state.kind !== shownKind) {
        tray.setImage(iconPath(state.kind))
        shownKind = state.kind
      }
      tray.setToolTip(trayTooltip(state))
      tray.setContextMenu(options.Menu.buildFromTemplate(buildTrayMenu(state, regions, menuOptions)))
    },
    destroy: () => tray.destroy(),
  }
}
