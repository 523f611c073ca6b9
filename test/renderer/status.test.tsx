import { act, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { DiscoveryRequest } from '../../electron/common/ipc-contract.js'
import { sampleConfig, sampleState } from '../fakes/fake-bridge.js'
import { renderApp } from './render-app.js'

const starting = sampleState('starting', { since: '2026-01-02T03:04:05.000Z' })
const degraded = sampleState('degraded', {
  since: '2026-01-02T03:04:09.000Z',
  failing: [{ name: 'dockerauth-vpc.cn-beijing.aliyuncs.com', reason: 'TLS handshake timed out.' }],
  checks: [
    { name: 'registry-vpc.cn-beijing.aliyuncs.com', hop: 'listener', ok: true, latencyMs: 1, reason: 'Listening on 127.0.0.1:443.' },
    { name: 'registry-vpc.cn-beijing.aliyuncs.com', hop: 'upstream', ok: true, latencyMs: 23.4, reason: 'The proxy ECS answered.' },
    {
      name: 'dockerauth-vpc.cn-beijing.aliyuncs.com',
      hop: 'tls',
      ok: false,
      reason: 'TLS handshake timed out.',
      hint: 'Check that the ECS can reach dockerauth-vpc.cn-beijing.aliyuncs.com:443.',
    },
  ],
  traffic: [{ name: 'registry-vpc.cn-beijing.aliyuncs.com', open: 3, total: 7, bytesUp: 2048, bytesDown: 5 * 1024 * 1024, errors: 1 }],
})

function headerStatus(): HTMLElement {
  const status = document.querySelector('.header-state')
  if (!(status instanceof HTMLElement)) throw new Error('no header status')
  return status
}

describe('status', () => {
  it('shows each pushed state, per name and per hop, without polling', async () => {
    const { bridge, unmount } = renderApp({ state: sampleState('off') })
    await waitFor(() => expect(headerStatus().textContent).toContain('Off'))
    expect(headerStatus().getAttribute('role')).toBe('status')
    expect(headerStatus().getAttribute('aria-live')).toBe('polite')

    act(() => bridge.pushState(starting))
    expect(headerStatus().textContent).toContain('Starting')
    expect(headerStatus().querySelector('[data-state="starting"]')).toBeTruthy()

    act(() => bridge.pushState(degraded))
    expect(headerStatus().textContent).toContain('Degraded')
    expect(headerStatus().textContent).toContain('1 failing')

    const checks = screen.getByRole('table', { name: 'Checks per name and hop' })
    const failing = within(checks).getByText('TLS handshake timed out.').closest('tr')
    expect(failing?.textContent).toContain('✗')
    expect(failing?.textContent).toContain('failed')
    expect(failing?.textContent).toContain('What to do: Check that the ECS can reach dockerauth-vpc.cn-beijing.aliyuncs.com:443.')
    const upstream = within(checks).getByText('The proxy ECS answered.').closest('tr')
    expect(upstream?.textContent).toContain('✓')
    expect(upstream?.textContent).toContain('23 ms')
    expect(upstream?.textContent).toContain('Proxy ECS reachable')
    expect(within(checks).getAllByRole('rowheader').map((h) => h.textContent)).toEqual([
      'registry-vpc.cn-beijing.aliyuncs.com',
      'dockerauth-vpc.cn-beijing.aliyuncs.com',
    ])

    const failingList = screen.getByRole('region', { name: 'Failing names' })
    expect(failingList.textContent).toContain('dockerauth-vpc.cn-beijing.aliyuncs.com: TLS handshake timed out.')

    const traffic = screen.getByRole('region', { name: 'Traffic' })
    expect(traffic.textContent).toContain('3 open connections')
    const row = within(traffic).getByRole('rowheader', { name: 'registry-vpc.cn-beijing.aliyuncs.com' }).closest('tr')
    expect(row?.textContent).toContain('2.0 KiB')
    expect(row?.textContent).toContain('5.0 MiB')

    // One read at mount, then only events: no polling.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(bridge.requestsOf('session:state')).toHaveLength(1)
    expect(bridge.listenerCount('session:state-changed')).toBe(1)
    unmount()
    expect(bridge.listenerCount('session:state-changed')).toBe(0)
    expect(bridge.listenerCount('log:appended')).toBe(0)
    expect(bridge.listenerCount('config:changed')).toBe(0)
    expect(bridge.listenerCount('diagnostics:completed')).toBe(0)
  })

  it('a down state shows its error and hint', async () => {
    const { bridge } = renderApp()
    await waitFor(() => expect(headerStatus().textContent).toContain('Off'))
    act(() =>
      bridge.pushState(
        sampleState('down', {
          error: { code: 'PORT_IN_USE', message: 'Port 443 on 127.0.0.1 is in use.', hint: 'Stop the program using it or pick another port.' },
        }),
      ),
    )
    expect(headerStatus().textContent).toContain('Down')
    const alert = screen.getByRole('alert')
    expect(alert.textContent).toContain('Port 443 on 127.0.0.1 is in use.')
    expect(alert.textContent).toContain('What to do: Stop the program using it or pick another port.')
  })

  it('Run diagnostics shows every check it returns', async () => {
    const { bridge } = renderApp({
      diagnostics: [
        { name: 'registry-vpc.cn-hangzhou.aliyuncs.com', hop: 'registry', ok: true, latencyMs: 88, reason: 'GET /v2/ answered 401 with a Bearer realm.' },
        {
          name: 'registry-vpc.cn-hangzhou.aliyuncs.com',
          hop: 'realm-covered',
          ok: false,
          reason: 'The realm host dockerauth.cn-hangzhou.aliyuncs.com is not in the managed set.',
          hint: 'Add dockerauth.cn-hangzhou.aliyuncs.com.',
        },
      ],
    })
    fireEvent.click(await screen.findByRole('button', { name: 'Run diagnostics' }))
    const table = await screen.findByRole('table', { name: /^Diagnostics results/ })
    expect(bridge.requestsOf('diagnostics:run')).toHaveLength(1)
    expect(table.textContent).toContain('88 ms')
    expect(table.textContent).toContain('Token host covered')
    expect(table.textContent).toContain('What to do: Add dockerauth.cn-hangzhou.aliyuncs.com.')
  })

  it('Discover sends the password once, clears it, and adds the missing names to extraHosts', async () => {
    const { bridge } = renderApp({
      config: { ...sampleConfig, extraHosts: ['already.example.com'] },
      discovery: {
        hosts: [
          { name: 'registry-vpc.cn-beijing.aliyuncs.com', port: 443, scheme: 'https', role: 'registry', covered: true },
          { name: 'dockerauth.cn-beijing.aliyuncs.com', port: 443, scheme: 'https', role: 'realm', covered: false },
          { name: 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com', port: 80, scheme: 'http', role: 'blob', covered: false },
        ],
        missing: [
          { name: 'dockerauth.cn-beijing.aliyuncs.com', port: 443, scheme: 'https', role: 'realm', covered: false },
          { name: 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com', port: 80, scheme: 'http', role: 'blob', covered: false },
        ],
      },
    })
    const repository = await screen.findByRole('textbox', { name: 'Repository (namespace/name)' })
    const password = screen.getByLabelText('Registry password (optional, not stored)') as HTMLInputElement

    // An invalid repository is refused inline and nothing runs.
    fireEvent.change(repository, { target: { value: 'nginx' } })
    fireEvent.click(screen.getByRole('button', { name: 'Discover hosts' }))
    expect(repository.getAttribute('aria-invalid')).toBe('true')
    expect(bridge.requestsOf('discover:run')).toHaveLength(0)

    fireEvent.change(repository, { target: { value: 'team/app' } })
    fireEvent.change(screen.getByRole('textbox', { name: 'Registry user name (optional)' }), { target: { value: 'dev@example.com' } })
    fireEvent.change(password, { target: { value: 's3cret' } })
    fireEvent.click(screen.getByRole('button', { name: 'Discover hosts' }))

    const found = await screen.findByRole('table', { name: 'Hosts the pull touched' })
    const sent = bridge.requestsOf('discover:run') as DiscoveryRequest[]
    expect(sent).toEqual([{ repository: 'team/app', username: 'dev@example.com', password: 's3cret' }])
    expect(password.value).toBe('')
    expect(within(found).getAllByRole('row')).toHaveLength(4)
    expect(within(found).getByRole('rowheader', { name: 'dockerauth.cn-beijing.aliyuncs.com' }).closest('tr')?.textContent).toContain(
      'missing',
    )

    fireEvent.click(screen.getByRole('button', { name: 'Add missing names' }))
    await screen.findByText('Added 2 names to the extra hosts.')
    expect(bridge.configSets.at(-1)?.config.extraHosts).toEqual([
      'already.example.com',
      'dockerauth.cn-beijing.aliyuncs.com',
      { name: 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com', ports: [80] },
    ])
  })

  it('the log shows its tail and every appended line', async () => {
    const { bridge } = renderApp({
      tab: 'log',
      log: [{ time: '2026-01-02T03:04:05.000Z', level: 'info', message: '[tunnel] listening on 127.0.0.1:443' }],
    })
    const log = await screen.findByRole('log', { name: 'Log lines' })
    await waitFor(() => expect(log.textContent).toContain('[tunnel] listening on 127.0.0.1:443'))
    act(() => bridge.pushLog({ time: '2026-01-02T03:04:06.000Z', level: 'warn', message: '[hosts] conflict on line 7' }))
    expect(within(log).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      expect.stringContaining('[tunnel] listening on 127.0.0.1:443'),
      expect.stringContaining('WARN [hosts] conflict on line 7'),
    ])
    expect(bridge.requestsOf('log:tail')).toEqual([{ limit: 200 }])
  })
})
