import type { MenuItemConstructorOptions } from 'electron'
import { describe, expect, test, vi } from 'vitest'
import type { SessionState, SessionStateKind } from '../../electron/common/status.js'
import { buildTrayMenu, trayIconFile, trayTooltip, type TrayMenuOptions } from '../../electron/main/tray-menu.js'
import { stateOf } from './helpers.js'

function options(): TrayMenuOptions & { [K in keyof TrayMenuOptions]-?: TrayMenuOptions[K] } {
  return {
    onConnect: vi.fn(),
    onDisconnect: vi.fn(),
    onToggleRegion: vi.fn(),
    onRunDiagnostics: vi.fn(),
    onOpenWindow: vi.fn(),
    onQuit: vi.fn(),
    diagnosticsRunning: false,
    onToggleConnectAtStart: vi.fn(),
    connectAtStart: false,
  }
}

const regions = [
  { id: 'cn-beijing', label: 'China (Beijing) (cn-beijing)', checked: true },
  { id: 'cn-hangzhou', label: 'China (Hangzhou) (cn-hangzhou)', checked: false },
]

const failing = [
  { name: 'registry-vpc.cn-beijing.aliyuncs.com', reason: 'TLS handshake failed' },
  { name: 'dockerauth-vpc.cn-beijing.aliyuncs.com', reason: 'no answer' },
]

const states: Record<SessionStateKind, SessionState> = {
  off: stateOf('off'),
  starting: stateOf('starting'),
  healthy: stateOf('healthy'),
  degraded: stateOf('degraded', failing),
  down: stateOf('down', failing, { code: 'UPSTREAM_UNREACHABLE', message: 'The proxy ECS does not answer' }),
}

function item(menu: MenuItemConstructorOptions[], id: string): MenuItemConstructorOptions {
  const found = menu.find((i) => i.id === id)
  if (found === undefined) throw new Error(`no menu item ${id}`)
  return found
}

describe('buildTrayMenu is a pure function of the state', () => {
  const table: [SessionStateKind, string, string, boolean, boolean, boolean][] = [
    // kind        state line                                                       connect label  connect  disconnect diagnostics
    ['off', 'ACR Bridge: Off', 'Connect', true, false, true],
    ['starting', 'ACR Bridge: Starting…', 'Connect', false, true, false],
    ['healthy', 'ACR Bridge: Healthy', 'Connect', false, true, true],
    ['degraded', 'ACR Bridge: Degraded (2 names failing)', 'Connect', false, true, true],
    ['down', 'ACR Bridge: Down (The proxy ECS does not answer)', 'Reconnect', true, true, true],
  ]

  test.each(table)('%s', (kind, stateLine, connectLabel, canConnect, canDisconnect, canDiagnose) => {
    const menu = buildTrayMenu(states[kind], regions, options())
    expect(menu.map((i) => i.id ?? i.type)).toEqual(['state', 'separator', 'connect', 'disconnect', 'regions', 'diagnostics', 'connect-at-start', 'separator', 'open', 'quit'])
    expect(item(menu, 'state')).toMatchObject({ label: stateLine, enabled: false })
    expect(item(menu, 'connect')).toMatchObject({ label: connectLabel, enabled: canConnect })
    expect(item(menu, 'disconnect')).toMatchObject({ label: 'Disconnect', enabled: canDisconnect })
    expect(item(menu, 'diagnostics').enabled).toBe(canDiagnose)
    expect(item(menu, 'open').enabled).not.toBe(false)
    expect(item(menu, 'quit').enabled).not.toBe(false)
    const submenu = item(menu, 'regions').submenu as MenuItemConstructorOptions[]
    expect(submenu.map((r) => [r.id, r.type, r.checked])).toEqual([
      ['region:cn-beijing', 'checkbox', true],
      ['region:cn-hangzhou', 'checkbox', false],
    ])
    // Same input, same output: nothing hidden in module state.
    expect(JSON.stringify(buildTrayMenu(states[kind], regions, options()))).toBe(JSON.stringify(menu))
  })

  test('the items call the matching actions; a region click reports the new checked value', () => {
    const o = options()
    const menu = buildTrayMenu(states.down, regions, o)
    const click = (i: MenuItemConstructorOptions) => (i.click as unknown as () => void)()
    click(item(menu, 'connect'))
    click(item(menu, 'disconnect'))
    click(item(menu, 'diagnostics'))
    click(item(menu, 'open'))
    click(item(menu, 'quit'))
    const submenu = item(menu, 'regions').submenu as MenuItemConstructorOptions[]
    click(submenu[0]!)
    click(submenu[1]!)
    expect(o.onConnect).toHaveBeenCalledTimes(1)
    expect(o.onDisconnect).toHaveBeenCalledTimes(1)
    expect(o.onRunDiagnostics).toHaveBeenCalledTimes(1)
    expect(o.onOpenWindow).toHaveBeenCalledTimes(1)
    expect(o.onQuit).toHaveBeenCalledTimes(1)
    expect(vi.mocked(o.onToggleRegion).mock.calls).toEqual([
      ['cn-beijing', false],
      ['cn-hangzhou', true],
    ])
  })

  test('"Connect at start" is a checkbox showing the setting; a click reports the new value; absent without a handler', () => {
    const o = { ...options(), connectAtStart: true }
    const menu = buildTrayMenu(states.off, regions, o)
    expect(item(menu, 'connect-at-start')).toMatchObject({ label: 'Connect at start', type: 'checkbox', checked: true })
    ;(item(menu, 'connect-at-start').click as unknown as () => void)()
    expect(vi.mocked(o.onToggleConnectAtStart).mock.calls).toEqual([[false]])
    const { onToggleConnectAtStart: _omit, ...without } = options()
    expect(buildTrayMenu(states.off, regions, without).some((i) => i.id === 'connect-at-start')).toBe(false)
  })

  test('diagnostics already running: the item says so and is disabled', () => {
    const menu = buildTrayMenu(states.healthy, regions, { ...options(), diagnosticsRunning: true })
    expect(item(menu, 'diagnostics')).toMatchObject({ label: 'Running diagnostics…', enabled: false })
  })

  test('no regions known: the Regions submenu is disabled', () => {
    expect(item(buildTrayMenu(states.off, [], options()), 'regions').enabled).toBe(false)
  })
})

describe('trayTooltip', () => {
  test.each([
    ['off', 'ACR Bridge: Off'],
    ['starting', 'ACR Bridge: Starting…'],
    ['healthy', 'ACR Bridge: Healthy'],
  ] as const)('%s', (kind, text) => {
    expect(trayTooltip(states[kind])).toBe(text)
  })

  test('degraded and down name the failing names', () => {
    expect(trayTooltip(states.degraded)).toBe(
      'ACR Bridge: Degraded\nFailing: registry-vpc.cn-beijing.aliyuncs.com, dockerauth-vpc.cn-beijing.aliyuncs.com',
    )
    expect(trayTooltip(states.down)).toContain('Failing: registry-vpc.cn-beijing.aliyuncs.com, dockerauth-vpc.cn-beijing.aliyuncs.com')
  })

  test('many failing names stay under the Windows limit and say how many are left out', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({ name: `registry-vpc.cn-region-${i}.aliyuncs.com`, reason: 'x' }))
    const text = trayTooltip(stateOf('degraded', many))
    expect(text.length).toBeLessThanOrEqual(127)
    expect(text).toMatch(/^ACR Bridge: Degraded\nFailing: registry-vpc\.cn-region-0\.aliyuncs\.com.* and \d+ more$/s)
  })

  test('degraded with no failing name (the SSH connection reconnecting) says why, in the menu and the tooltip', () => {
    const reconnecting = stateOf('degraded', [], { code: 'UPSTREAM_UNREACHABLE', message: 'The SSH connection to 203.0.113.10:22 was lost.' })
    expect(item(buildTrayMenu(reconnecting, regions, options()), 'state').label).toBe('ACR Bridge: Degraded (The SSH connection to 203.0.113.10:22 was lost.)')
    expect(trayTooltip(reconnecting)).toBe('ACR Bridge: Degraded: The SSH connection to 203.0.113.10:22 was lost.')
  })

  test('off after a failure says why', () => {
    expect(trayTooltip(stateOf('off', [], { code: 'PORT_IN_USE', message: 'Port 443 is in use' }))).toBe('ACR Bridge: Off: Port 443 is in use')
  })
})

describe('trayIconFile', () => {
  test('one distinct file per state and platform; macOS uses template images', () => {
    const kinds: SessionStateKind[] = ['off', 'starting', 'healthy', 'degraded', 'down']
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      const files = kinds.map((k) => trayIconFile(k, platform))
      expect(new Set(files).size).toBe(5)
    }
    expect(trayIconFile('healthy', 'darwin')).toBe('tray-healthyTemplate.png')
    expect(trayIconFile('down', 'win32')).toBe('tray-down.ico')
    expect(trayIconFile('off', 'linux')).toBe('tray-off-32.png')
  })
})
