// The tunnel tab's "Listening" part: the listen overrides (alias, mechanism, fixed high ports) with inline
// validation, saved through config:set; the strategy the running session reports; "Connect when ACR Bridge starts".
import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { ListeningState } from '../../electron/common/status.js'
import { createFakeBridge, sampleConfig, sampleState } from '../fakes/fake-bridge.js'
import { loaded, renderApp } from './render-app.js'

const redirected: ListeningState = {
  mechanism: 'nft-redirect',
  hostsAddress: '198.19.82.17',
  publicPorts: { tls: 443, http: 80 },
  bound: { address: '127.0.0.1', tls: 38211, http: 40111 },
  alias: '198.19.82.17',
  reasons: ['rootless-docker dials hosts-file answers in its own network namespace.'],
  warnings: [],
}

function listeningCard(): HTMLElement {
  return screen.getByRole('heading', { name: 'Listening' }).closest('section') as HTMLElement
}

function describedError(element: HTMLElement): string | null | undefined {
  return document.getElementById(element.getAttribute('aria-describedby') ?? '')?.textContent
}

describe('tunnel: listening', () => {
  it('offers alias and mechanism choices, automatic by default, and saves the overrides through config:set', async () => {
    const { bridge } = renderApp({ tab: 'tunnel' })
    await loaded('Listening')
    const card = listeningCard()
    const alias = within(card).getByRole('combobox', { name: 'Loopback alias' }) as HTMLSelectElement
    const mechanism = within(card).getByRole('combobox', { name: 'How ports 443 and 80 reach the tunnel' }) as HTMLSelectElement
    expect(Array.from(alias.options).map((o) => o.text)).toEqual(['Automatic (only for VM-based or rootless container engines)', 'Always', 'Never'])
    expect(Array.from(mechanism.options).map((o) => o.text)).toEqual(['Automatic', 'Bind directly', 'Redirect (high ports behind a firewall rule)'])
    expect(alias.value).toBe('auto')
    expect(mechanism.value).toBe('auto')

    fireEvent.change(alias, { target: { value: 'never' } })
    fireEvent.change(mechanism, { target: { value: 'redirect' } })
    fireEvent.change(within(card).getByRole('textbox', { name: 'Fixed high TLS port (optional)' }), { target: { value: '14443' } })
    fireEvent.change(within(card).getByRole('textbox', { name: 'Fixed high HTTP port (optional)' }), { target: { value: '14080' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(1))
    expect(bridge.configSets[0]?.config.listen).toEqual({ ...sampleConfig.listen, alias: false, mechanism: 'redirect', highPorts: { tls: 14443, http: 14080 } })
    expect(bridge.current.config.listen.mechanism).toBe('redirect')
  })

  it('shows the saved overrides, and Automatic removes them again', async () => {
    const config = { ...sampleConfig, listen: { ...sampleConfig.listen, alias: true, mechanism: 'direct' as const } }
    const { bridge } = renderApp({ tab: 'tunnel', config })
    await loaded('Listening')
    const alias = screen.getByRole('combobox', { name: 'Loopback alias' }) as HTMLSelectElement
    const mechanism = screen.getByRole('combobox', { name: 'How ports 443 and 80 reach the tunnel' }) as HTMLSelectElement
    expect(alias.value).toBe('always')
    expect(mechanism.value).toBe('direct')
    // Bound directly: no high ports to fix.
    expect(screen.queryByRole('textbox', { name: 'Fixed high TLS port (optional)' })).toBeNull()
    fireEvent.change(alias, { target: { value: 'auto' } })
    fireEvent.change(mechanism, { target: { value: 'auto' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(1))
    expect(bridge.configSets[0]?.config.listen).toEqual(sampleConfig.listen)
  })

  it('refuses nonsense combinations inline and sends nothing', async () => {
    const { bridge } = renderApp({ tab: 'tunnel' })
    await loaded('Listening')
    fireEvent.change(screen.getByRole('textbox', { name: 'Listen address' }), { target: { value: '::1' } })
    const alias = screen.getByRole('combobox', { name: 'Loopback alias' })
    fireEvent.change(alias, { target: { value: 'always' } })
    // Shown as soon as it is chosen.
    expect(alias.getAttribute('aria-invalid')).toBe('true')
    expect(describedError(alias)).toBe('Only IPv4 addresses can be added to the loopback interface: choose Automatic or Never, or use an IPv4 listen address.')
    const mechanism = screen.getByRole('combobox', { name: 'How ports 443 and 80 reach the tunnel' })
    fireEvent.change(mechanism, { target: { value: 'redirect' } })
    expect(describedError(mechanism)).toBe('Redirect rules are IPv4-only: choose Automatic or Bind directly, or use an IPv4 listen address.')
    const high = screen.getByRole('textbox', { name: 'Fixed high TLS port (optional)' })
    fireEvent.change(high, { target: { value: '443' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    expect(describedError(high)).toBe('Enter a port from 1024 to 65535 (both fixed ports, or neither).')
    expect(screen.getByText('Fix the highlighted fields; nothing was saved.')).toBeTruthy()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(bridge.requestsOf('config:set')).toEqual([])

    // Fixing them lets it through.
    fireEvent.change(alias, { target: { value: 'never' } })
    fireEvent.change(mechanism, { target: { value: 'direct' } })
    fireEvent.change(high, { target: { value: '' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(1))
    expect(bridge.configSets[0]?.config.listen).toMatchObject({ address: '::1', alias: false, mechanism: 'direct' })
  })

  it('a mechanism change shows the verdict on the fixed high ports typed before it at once', async () => {
    renderApp({ tab: 'tunnel' })
    await loaded('Listening')
    const high = screen.getByRole('textbox', { name: 'Fixed high TLS port (optional)' })
    fireEvent.change(high, { target: { value: '443' } }) // typed, not left yet: no verdict shown
    expect(high.getAttribute('aria-invalid')).not.toBe('true')
    fireEvent.change(screen.getByRole('combobox', { name: 'How ports 443 and 80 reach the tunnel' }), { target: { value: 'redirect' } })
    expect(high.getAttribute('aria-invalid')).toBe('true')
    expect(describedError(high)).toBe('Enter a port from 1024 to 65535 (both fixed ports, or neither).')
  })

  it('a refusal naming listen.mechanism (the core on Windows) is shown at the mechanism', async () => {
    const { bridge } = renderApp({ tab: 'tunnel' })
    await loaded('Listening')
    bridge.failNext('config:set', {
      code: 'INVALID_CONFIG',
      message: 'listen.mechanism is "redirect", but Windows needs no redirect: ordinary programs may bind ports 443 and 80 there.',
      hint: 'Set listen.mechanism to "auto" or "direct".',
      field: 'listen.mechanism',
    })
    const mechanism = screen.getByRole('combobox', { name: 'How ports 443 and 80 reach the tunnel' })
    fireEvent.change(mechanism, { target: { value: 'redirect' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    await waitFor(() => expect(mechanism.getAttribute('aria-invalid')).toBe('true'))
    expect(describedError(mechanism)).toContain('Windows needs no redirect')
  })

  it('shows the strategy in use while connected, and follows the session', async () => {
    const bridge = createFakeBridge({ state: sampleState('healthy', { listening: redirected }) })
    renderApp({ tab: 'tunnel', bridge })
    await loaded('Listening')
    const inUse = screen.getByRole('region', { name: 'In use now' })
    expect(inUse.textContent).toContain('Redirected by the nft table ip acr_bridge')
    expect(inUse.textContent).toContain('198.19.82.17 : 443, 80')
    expect(inUse.textContent).toContain('127.0.0.1 : 38211, 40111')
    expect(within(inUse).getByText('rootless-docker dials hosts-file answers in its own network namespace.')).toBeTruthy()

    bridge.pushState(sampleState('healthy', { listening: { ...redirected, mechanism: 'direct', hostsAddress: '127.0.0.1', bound: { address: '127.0.0.1', tls: 443, http: 80 }, warnings: ['Port 443 needs root here.'] } }))
    await waitFor(() => expect(inUse.textContent).toContain('Bound directly'))
    expect(inUse.textContent).toContain('Port 443 needs root here.')
    bridge.pushState(sampleState('off'))
    await waitFor(() => expect(inUse.textContent).toContain('Not connected: the choice is made when you connect.'))
    // A running session whose state does not carry it: said so, not "not connected".
    bridge.pushState(sampleState('healthy'))
    await waitFor(() => expect(inUse.textContent).toContain('The running session does not report where it listens'))
  })

  it('shows the strategy in Chinese too', async () => {
    renderApp({ tab: 'tunnel', settings: { language: 'zh-CN' }, state: sampleState('healthy', { listening: redirected }) })
    await loaded('监听')
    expect(screen.getByRole('region', { name: '当前使用' }).textContent).toContain('由 nft 表 ip acr_bridge 重定向')
    expect(screen.getByRole('combobox', { name: '回环别名' })).toBeTruthy()
  })
})

describe('tunnel: connect when ACR Bridge starts', () => {
  it('shows the saved setting and saves a change at once through app:set-settings', async () => {
    const { bridge } = renderApp({ tab: 'tunnel', settings: { connectAtStart: true } })
    await loaded('Listening')
    const toggle = screen.getByRole('checkbox', { name: 'Connect when ACR Bridge starts' }) as HTMLInputElement
    await waitFor(() => expect(toggle.checked).toBe(true))
    fireEvent.click(toggle)
    await waitFor(() => expect(bridge.requestsOf('app:set-settings')).toEqual([{ connectAtStart: false }]))
    await waitFor(() => expect(toggle.checked).toBe(false))
    expect(bridge.current.settings.connectAtStart).toBe(false)
    // Not part of the config.
    expect(bridge.configSets).toEqual([])
  })

  it('a refused save puts the toggle back and says why', async () => {
    const { bridge } = renderApp({ tab: 'tunnel' })
    await loaded('Listening')
    const toggle = screen.getByRole('checkbox', { name: 'Connect when ACR Bridge starts' }) as HTMLInputElement
    await waitFor(() => expect(toggle.disabled).toBe(false))
    expect(toggle.checked).toBe(false)
    bridge.failNext('app:set-settings', { code: 'CONFIG_WRITE_FAILED', message: 'Cannot write the settings file.', hint: 'Check the disk.' })
    fireEvent.click(toggle)
    expect(await screen.findByText('Cannot write the settings file.')).toBeTruthy()
    expect(toggle.checked).toBe(false)
    expect(bridge.current.settings.connectAtStart).toBe(false)
  })
})
