import { act, fireEvent, screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { TabId } from '../../renderer/app.js'
import { createFakeBridge, samplePreview, sampleState } from '../fakes/fake-bridge.js'
import { renderApp } from './render-app.js'

const tabs: readonly { readonly id: TabId; readonly name: string; readonly heading: string }[] = [
  { id: 'status', name: 'Status', heading: 'Discover hosts' },
  { id: 'regions', name: 'Regions', heading: 'Personal Edition instances (crpi)' },
  { id: 'tunnel', name: 'Tunnel', heading: 'Listening' },
  { id: 'hosts', name: 'Hosts', heading: 'Hosts preview' },
  { id: 'log', name: 'Log', heading: 'Log' },
]

const interactive = 'button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"]), [role="tab"]'
const namedRoles = ['button', 'textbox', 'searchbox', 'checkbox', 'radio', 'combobox', 'tab', 'tabpanel', 'tablist', 'log', 'region', 'link', 'spinbutton'] as const

/**
 * Every control, by role, must have a non-empty accessible name (as Testing Library computes it); and every
 * focusable or form element must be one of those roles, or a password field with a label (it has no ARIA role).
 */
function auditNames(): { unnamed: string[]; unreached: string[] } {
  const seen = new Set<Element>()
  const unnamed: string[] = []
  for (const role of namedRoles) {
    const all = screen.queryAllByRole(role)
    const named = new Set(screen.queryAllByRole(role, { name: /\S/ }))
    for (const el of all) {
      seen.add(el)
      if (!named.has(el)) unnamed.push(`${role}: ${el.outerHTML.slice(0, 120)}`)
    }
  }
  const unreached = Array.from(document.querySelectorAll<HTMLElement>(interactive))
    .filter((el) => !seen.has(el))
    .filter((el) => !(el instanceof HTMLInputElement && el.type === 'password' && (el.labels?.length ?? 0) > 0))
    .map((el) => el.outerHTML.slice(0, 120))
  expect(seen.size).toBeGreaterThan(5)
  return { unnamed, unreached }
}

function richBridge() {
  return createFakeBridge({
    config: {
      regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }],
      instances: [{ name: 'myinst', region: 'cn-hangzhou', network: 'vpc', instanceId: 'cri-abc' }],
      personalInstances: [{ id: 'k8s0abc', region: 'cn-shanghai', network: 'internet' }],
      extraHosts: [],
      tunnel: { mode: 'ssh', host: 'ecs.example.com', port: 22, ssh: { username: 'root', agent: true } },
      listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
      hosts: { takeOver: false },
    },
    storedSecrets: { sshPassword: true },
    preview: samplePreview,
    lease: { hostsPath: '/etc/hosts', names: ['a.example.com'], changes: [] },
    state: sampleState('degraded', {
      failing: [{ name: 'a.example.com', reason: 'Nope.' }],
      checks: [{ name: 'a.example.com', hop: 'tls', ok: false, reason: 'Nope.', hint: 'Fix it.' }],
      traffic: [{ name: 'a.example.com', open: 1, total: 1, bytesUp: 1, bytesDown: 1, errors: 0 }],
    }),
    log: [{ time: '2026-01-02T03:04:05.000Z', level: 'info', message: 'hello' }],
  })
}

describe('accessibility', () => {
  for (const tab of tabs) {
    it(`every control on the ${tab.name} tab has an accessible name and is a native control`, async () => {
      renderApp({ tab: tab.id, bridge: richBridge() })
      await screen.findByRole('heading', { name: tab.heading })
      await screen.findByRole('alert', { name: 'A hosts block left by an earlier run is still in place' })
      const { unnamed, unreached } = auditNames()
      expect(unnamed).toEqual([])
      expect(unreached).toEqual([])
      // Clickable things are real buttons: nothing fakes one with role=button on a div or span.
      expect(document.querySelectorAll('[role="button"]:not(button)')).toHaveLength(0)
      expect(document.querySelectorAll('[onclick]')).toHaveLength(0)
      // Inputs in an invalid state point at their error text.
      for (const el of Array.from(document.querySelectorAll('[aria-invalid="true"]'))) {
        const described = el.getAttribute('aria-describedby')
        expect(described).toBeTruthy()
        expect(document.getElementById(described ?? '')?.textContent).toBeTruthy()
      }
    })
  }

  it('the sections are a tab list: one tab in the tab order, arrows move, the panel is labelled by its tab', async () => {
    renderApp({ bridge: richBridge() })
    const tablist = await screen.findByRole('tablist', { name: 'Sections' })
    const all = screen.getAllByRole('tab')
    expect(all.map((t) => t.textContent)).toEqual(['Status', 'Regions', 'Tunnel', 'Hosts', 'Log'])
    expect(all.filter((t) => t.getAttribute('tabindex') === '0').map((t) => t.textContent)).toEqual(['Status'])
    expect(tablist.contains(all[0] ?? null)).toBe(true)

    const status = screen.getByRole('tab', { name: 'Status' })
    status.focus()
    fireEvent.keyDown(status, { key: 'ArrowRight' })
    const regions = screen.getByRole('tab', { name: 'Regions' })
    expect(regions.getAttribute('aria-selected')).toBe('true')
    expect(document.activeElement).toBe(regions)
    expect(screen.getByRole('tabpanel', { name: 'Regions' })).toBeTruthy()

    fireEvent.keyDown(regions, { key: 'End' })
    expect(screen.getByRole('tab', { name: 'Log' }).getAttribute('aria-selected')).toBe('true')
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Log' }), { key: 'ArrowRight' })
    expect(screen.getByRole('tab', { name: 'Status' }).getAttribute('aria-selected')).toBe('true')
    await waitFor(() => expect(screen.getByRole('tabpanel', { name: 'Status' })).toBeTruthy())
  })

  it('the state is announced as text, not only as a colour', async () => {
    const { bridge } = renderApp()
    const status = document.querySelector('.header-state')
    expect(status?.getAttribute('role')).toBe('status')
    await waitFor(() => expect(status?.textContent).toContain('Off'))
    for (const [kind, text] of [['starting', 'Starting'], ['healthy', 'Healthy'], ['degraded', 'Degraded'], ['down', 'Down']] as const) {
      act(() => bridge.pushState(sampleState(kind)))
      expect(status?.textContent).toContain(text)
      expect(status?.querySelector(`.state-${kind}`)).toBeTruthy()
    }
  })
})
