import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { samplePreview, sampleState } from '../fakes/fake-bridge.js'
import { loaded, renderApp } from './render-app.js'

describe('hosts preview', () => {
  it('renders the exact block and highlights conflicting and shadowed names', async () => {
    const { bridge } = renderApp({ tab: 'hosts', preview: samplePreview })
    await loaded('Hosts preview')
    const figure = await screen.findByRole('figure', { name: 'Managed hosts block' })
    const pre = figure.querySelector('pre')
    expect(pre?.textContent).toBe(samplePreview.block)

    const conflictLines = Array.from(figure.querySelectorAll('mark.line-conflict')).map((m) => m.textContent)
    expect(conflictLines).toEqual(['127.0.0.1 registry-vpc.cn-beijing.aliyuncs.com'])
    const shadowedLines = Array.from(figure.querySelectorAll('mark.line-shadowed')).map((m) => m.textContent)
    expect(shadowedLines).toEqual(['127.0.0.1 oss-cn-beijing-internal.aliyuncs.com'])
    // The unaffected line is not marked.
    expect(figure.querySelectorAll('mark')).toHaveLength(2)

    const conflicts = screen.getByRole('region', { name: 'Conflicts' })
    expect(within(conflicts).getByText('line 7: registry-vpc.cn-beijing.aliyuncs.com → 10.0.0.5 (SwitchHosts)')).toBeTruthy()
    const shadowed = screen.getByRole('region', { name: 'Shadowed names' })
    expect(within(shadowed).getByText('oss-cn-beijing-internal.aliyuncs.com')).toBeTruthy()
    expect(bridge.requestsOf('hosts:preview')).toContainEqual({})
  })

  it('taking over conflicting lines is saved in the config', async () => {
    const { bridge } = renderApp({ tab: 'hosts', preview: samplePreview })
    await loaded('Hosts preview')
    fireEvent.click(await screen.findByRole('checkbox', { name: /Take over conflicting lines/ }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(1))
    expect(bridge.configSets[0]?.config.hosts).toEqual({ takeOver: true })
  })

  it('Apply connects and Revert disconnects; the buttons follow the state', async () => {
    const { bridge } = renderApp({ tab: 'hosts', preview: samplePreview, state: sampleState('off') })
    await loaded('Hosts preview')
    const apply = screen.getByRole('button', { name: 'Apply (connect)' })
    const revert = screen.getByRole('button', { name: 'Revert (disconnect)' })
    await waitFor(() => expect(revert.hasAttribute('disabled')).toBe(true))
    expect(apply.hasAttribute('disabled')).toBe(false)

    fireEvent.click(apply)
    await waitFor(() => expect(bridge.requestsOf('session:connect')).toHaveLength(1))
    await waitFor(() => expect(revert.hasAttribute('disabled')).toBe(false))
    expect(apply.hasAttribute('disabled')).toBe(true)
    expect(bridge.requestsOf('session:disconnect')).toHaveLength(0)

    fireEvent.click(revert)
    await waitFor(() => expect(bridge.requestsOf('session:disconnect')).toHaveLength(1))
    await waitFor(() => expect(apply.hasAttribute('disabled')).toBe(false))
    expect(bridge.requestsOf('session:connect')).toHaveLength(1)
  })

  it('a failed Apply shows the error and what to do', async () => {
    const { bridge } = renderApp({ tab: 'hosts', preview: samplePreview })
    await loaded('Hosts preview')
    bridge.failNext('session:connect', {
      code: 'ELEVATION_DENIED',
      message: 'The administrator prompt was cancelled, so the hosts file was not changed.',
      hint: 'Click Apply again and approve the prompt.',
    })
    fireEvent.click(screen.getByRole('button', { name: 'Apply (connect)' }))
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('The administrator prompt was cancelled')
    expect(alert.textContent).toContain('What to do: Click Apply again and approve the prompt.')
  })

  it('a block left by a crash is offered for revert, wherever the window opens', async () => {
    const { bridge } = renderApp({
      tab: 'status',
      lease: { hostsPath: '/etc/hosts', names: ['registry-vpc.cn-beijing.aliyuncs.com'], changes: ['hosts block (1 name)'] },
    })
    const banner = await screen.findByRole('alert', { name: 'A hosts block left by an earlier run is still in place' })
    expect(banner.textContent).toContain('/etc/hosts still maps 1 names: registry-vpc.cn-beijing.aliyuncs.com')
    fireEvent.click(within(banner).getByRole('button', { name: 'Revert the leftover block' }))
    await screen.findByText('The leftover block was removed.')
    expect(bridge.requestsOf('lease:revert')).toHaveLength(1)
    expect(screen.queryByRole('alert', { name: 'A hosts block left by an earlier run is still in place' })).toBeNull()
  })
})
