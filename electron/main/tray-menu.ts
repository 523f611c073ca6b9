// The tray menu, tooltip and icon choice as PURE functions of the session state. tray.ts renders them and calls
// setContextMenu again on every change (Linux app indicators only pick up a new menu that way).

import type { MenuItemConstructorOptions } from 'electron'
import type { SessionState, SessionStateKind } from '../common/status.js'

export const sessionStateKinds = ['off', 'starting', 'healthy', 'degraded', 'down'] as const satisfies readonly SessionStateKind[]

/** One entry of the Regions submenu. */
export interface TrayRegion {
  readonly id: string
  readonly label: string
  /** The region is in the saved config. */
  readonly checked: boolean
}

export interface TrayMenuOptions {
  readonly onConnect: () => void
  readonly onDisconnect: () => void
  readonly onToggleRegion: (id: string, checked: boolean) => void
  readonly onRunDiagnostics: () => void
  readonly onOpenWindow: () => void
  readonly onQuit: () => void
  /** Diagnostics already running: the item is disabled. */
  readonly diagnosticsRunning?: boolean
  /** The "Connect at start" checkbox (shown only when this is given): the new value when clicked. */
  readonly onToggleConnectAtStart?: (checked: boolean) => void
  readonly connectAtStart?: boolean
}

const stateLabels: Record<SessionStateKind, string> = {
  off: 'Off',
  starting: 'Starting…',
  healthy: 'Healthy',
  degraded: 'Degraded',
  down: 'Down',
}

/** The first, disabled line of the menu: what the state is, in a few words. */
export function trayStateLine(state: SessionState): string {
  switch (state.kind) {
    case 'off':
      return state.error === undefined ? 'ACR Bridge: Off' : `ACR Bridge: Off (${state.error.message})`
    case 'starting':
      return 'ACR Bridge: Starting…'
    case 'healthy':
      return 'ACR Bridge: Healthy'
    case 'degraded':
      return state.failing.length === 0 && state.error !== undefined
        ? `ACR Bridge: Degraded (${state.error.message})`
        : `ACR Bridge: Degraded (${plural(state.failing.length, 'name')} failing)`
    case 'down':
      return state.error === undefined ? 'ACR Bridge: Down' : `ACR Bridge: Down (${state.error.message})`
  }
}

/** The tooltip names the failing names (Windows cuts tooltips at 127 characters, so it stays under that). */
export function trayTooltip(state: SessionState, maxLength = 127): string {
  const head = `ACR Bridge: ${stateLabels[state.kind]}`
  if (state.failing.length === 0) {
    return truncate(state.error === undefined ? head : `${head}: ${state.error.message}`, maxLength)
  }
  const names = state.failing.map((f) => f.name)
  let text = `${head}\nFailing: ${names.join(', ')}`
  for (let shown = names.length - 1; text.length > maxLength && shown >= 1; shown--) {
    text = `${head}\nFailing: ${names.slice(0, shown).join(', ')} and ${names.length - shown} more`
  }
  return truncate(text, maxLength)
}

export function buildTrayMenu(
  state: SessionState,
  regions: readonly TrayRegion[],
  options: TrayMenuOptions,
): MenuItemConstructorOptions[] {
  const canConnect = state.kind === 'off' || state.kind === 'down'
  const canDisconnect = state.kind !== 'off'
  return [
    { id: 'state', label: trayStateLine(state), enabled: false },
    { type: 'separator' },
    { id: 'connect', label: state.kind === 'down' ? 'Reconnect' : 'Connect', enabled: canConnect, click: () => options.onConnect() },
    { id: 'disconnect', label: 'Disconnect', enabled: canDisconnect, click: () => options.onDisconnect() },
    {
      id: 'regions',
      label: 'Regions',
      enabled: regions.length > 0,
      submenu: regions.map((region) => ({
        id: `region:${region.id}`,
        label: region.label,
        type: 'checkbox' as const,
        checked: region.checked,
        // The item's own checkbox has already flipped when click fires: report the new value.
        click: () => options.onToggleRegion(region.id, !region.checked),
      })),
    },
    {
      id: 'diagnostics',
      label: options.diagnosticsRunning === true ? 'Running diagnostics…' : 'Run diagnostics',
      enabled: options.diagnosticsRunning !== true && state.kind !== 'starting',
      click: () => options.onRunDiagnostics(),
    },
    ...(options.onToggleConnectAtStart === undefined
      ? []
      : [
          {
            id: 'connect-at-start',
            label: 'Connect at start',
            type: 'checkbox' as const,
            checked: options.connectAtStart === true,
            click: () => options.onToggleConnectAtStart?.(options.connectAtStart !== true),
          },
        ]),
    { type: 'separator' },
    { id: 'open', label: 'Open ACR Bridge', click: () => options.onOpenWindow() },
    { id: 'quit', label: 'Quit ACR Bridge', click: () => options.onQuit() },
  ]
}

export type TrayPlatform = 'darwin' | 'win32' | 'linux'

/**
 * The tray image file for a state, relative to the tray icon folder. macOS: monochrome template images (the name
 * must end in `Template`; Electron picks `@2x` itself); Windows: an .ico holding every size; Linux: a 32 px PNG
 * (Electron picks `@2x` on HiDPI).
 */
export function trayIconFile(kind: SessionStateKind, platform: TrayPlatform): string {
  switch (platform) {
    case 'darwin':
      return `tray-${kind}Template.png`
    case 'win32':
      return `tray-${kind}.ico`
    case 'linux':
      return `tray-${kind}-32.png`
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`
}
