import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { SerializedError } from '../../electron/common/ipc-contract.js'
import type { HostKeyTrustRequest } from '../../renderer/bridge.js'
import { createFakeBridge, sampleConfig } from '../fakes/fake-bridge.js'
import { loaded, renderApp } from './render-app.js'

const sshConfig = {
  ...sampleConfig,
  tunnel: { mode: 'ssh' as const, host: 'ecs.example.com', port: 22, ssh: { username: 'root', privateKeyPath: '~/.ssh/id_ed25519', agent: false } },
}

/** SSH_HOST_KEY_UNKNOWN as core's hostKeyError() builds it, with its details passed through. */
const unknownKey: SerializedError & { readonly details: Readonly<Record<string, string | number>> } = {
  code: 'SSH_HOST_KEY_UNKNOWN',
  message: 'The SSH server ecs.example.com:22 presented a host key that is not in known_hosts.',
  hint: 'Compare the fingerprint with the server, then trust the key.',
  details: {
    fingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
    keyType: 'ssh-ed25519',
    key: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
    host: 'ecs.example.com',
    port: 22,
  },
}

describe('tunnel', () => {
  it('shows the fields of each mode', async () => {
    renderApp({ tab: 'tunnel' })
    await loaded('Tunnel')
    expect(screen.getByRole('radio', { name: 'SNI router (raw TCP to the ECS)' })).toHaveProperty('checked', true)
    expect(screen.getByRole('textbox', { name: 'HTTP routing port on the ECS' })).toBeTruthy()
    expect(screen.queryByRole('textbox', { name: 'User name' })).toBeNull()

    fireEvent.click(screen.getByRole('radio', { name: 'HTTP CONNECT proxy' }))
    expect(screen.getByRole('textbox', { name: 'User name' })).toBeTruthy()
    expect(screen.getByLabelText('Password')).toHaveProperty('type', 'password')
    expect(screen.getByRole('checkbox', { name: 'Speak TLS to the proxy' })).toBeTruthy()
    expect(screen.queryByRole('textbox', { name: 'HTTP routing port on the ECS' })).toBeNull()

    fireEvent.click(screen.getByRole('radio', { name: 'SSH (through the ECS’s sshd)' }))
    expect((screen.getByRole('textbox', { name: 'Port' }) as HTMLInputElement).value).toBe('22')
    expect(screen.getByRole('textbox', { name: 'Private key path' })).toBeTruthy()
    expect(screen.getByRole('checkbox', { name: 'Use the SSH agent' })).toBeTruthy()
    expect(screen.getByRole('textbox', { name: 'known_hosts path' })).toBeTruthy()
    expect(screen.getByLabelText('Key passphrase')).toHaveProperty('type', 'password')
  })

  it('an invalid port or host is refused inline and nothing is sent', async () => {
    const { bridge } = renderApp({ tab: 'tunnel' })
    await loaded('Tunnel')
    const port = screen.getByRole('textbox', { name: 'Port' })
    const host = screen.getByRole('textbox', { name: 'Proxy ECS address' })
    fireEvent.change(port, { target: { value: '70000' } })
    fireEvent.change(host, { target: { value: 'ecs host; rm -rf /' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    expect(port.getAttribute('aria-invalid')).toBe('true')
    expect(document.getElementById(port.getAttribute('aria-describedby') ?? '')?.textContent).toBe('Enter a port from 1 to 65535.')
    expect(host.getAttribute('aria-invalid')).toBe('true')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(bridge.requestsOf('config:set')).toEqual([])
  })

  it('saves the connect mode with a new password once, then only shows that one is saved', async () => {
    const { bridge } = renderApp({ tab: 'tunnel' })
    await loaded('Tunnel')
    fireEvent.click(screen.getByRole('radio', { name: 'HTTP CONNECT proxy' }))
    fireEvent.change(screen.getByRole('textbox', { name: 'Port' }), { target: { value: '8888' } })
    fireEvent.change(screen.getByRole('textbox', { name: 'User name' }), { target: { value: 'proxy-user' } })
    const password = screen.getByLabelText('Password') as HTMLInputElement
    fireEvent.change(password, { target: { value: 'pa55' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(1))
    expect(bridge.configSets[0]?.config.tunnel).toEqual({
      mode: 'connect',
      host: '203.0.113.10',
      port: 8888,
      connect: { username: 'proxy-user', password: 'pa55', tls: false },
    })
    await waitFor(() => expect((screen.getByLabelText('Password') as HTMLInputElement).value).toBe(''))
    expect((screen.getByLabelText('Password') as HTMLInputElement).placeholder).toBe('Saved; type a new one to replace it')

    // Forgetting it sends clearSecrets and no password.
    fireEvent.click(screen.getByRole('checkbox', { name: 'Forget the saved password' }))
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(2))
    expect(bridge.configSets[1]?.clearSecrets).toEqual(['proxyPassword'])
    expect(bridge.configSets[1]?.config.tunnel.connect).toEqual({ username: 'proxy-user', tls: false })
  })

  it('INVALID_CONFIG naming a tunnel field is shown at that field', async () => {
    const { bridge } = renderApp({ tab: 'tunnel', config: sshConfig })
    await loaded('Tunnel')
    bridge.failNext('config:set', {
      code: 'INVALID_CONFIG',
      message: 'tunnel.ssh.username must not contain spaces.',
      hint: 'Use the account name on the ECS.',
      field: 'tunnel.ssh.username',
    })
    const username = screen.getByRole('textbox', { name: 'User name' })
    fireEvent.change(username, { target: { value: 'ro ot' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save tunnel settings' }))
    await waitFor(() => expect(username.getAttribute('aria-invalid')).toBe('true'))
    expect(document.getElementById(username.getAttribute('aria-describedby') ?? '')?.textContent).toBe(
      'tunnel.ssh.username must not contain spaces.',
    )
  })

  it('an unknown SSH host key shows its fingerprint; Trust sends it and tests again', async () => {
    const bridge = createFakeBridge({ config: sshConfig })
    bridge.failNext('diagnostics:run', unknownKey)
    renderApp({ tab: 'tunnel', bridge })
    await loaded('Tunnel')
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }))
    const card = await screen.findByRole('alert', { name: 'Unknown SSH host key' })
    expect(within(card).getByText('SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8')).toBeTruthy()
    expect(card.textContent).toContain('The server ecs.example.com presented a key that is not in known_hosts.')

    fireEvent.click(within(card).getByRole('button', { name: 'Trust this key' }))
    await waitFor(() => expect(bridge.requestsOf('diagnostics:run')).toHaveLength(2))
    const trusted = bridge.requestsOf('ssh:trust-host-key') as HostKeyTrustRequest[]
    expect(trusted).toEqual([
      {
        host: 'ecs.example.com',
        port: 22,
        fingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
        keyType: 'ssh-ed25519',
        key: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
      },
    ])
    await waitFor(() => expect(screen.queryByRole('alert', { name: 'Unknown SSH host key' })).toBeNull())
    expect(screen.getByText('Key trusted and saved to known_hosts.')).toBeTruthy()
    expect(await screen.findByRole('table', { name: 'Diagnostics results' })).toBeTruthy()
  })

  it('without a trust call in the bridge the key is still shown, with the hint instead of the button', async () => {
    const bridge = createFakeBridge({ config: sshConfig })
    const { ssh: _ssh, ...contractOnly } = bridge.api
    bridge.failNext('diagnostics:run', unknownKey)
    renderApp({ tab: 'tunnel', bridge: { ...bridge, api: contractOnly as typeof bridge.api } })
    await loaded('Tunnel')
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }))
    const card = await screen.findByRole('alert', { name: 'Unknown SSH host key' })
    expect(card.textContent).toContain('SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8')
    expect(card.textContent).toContain('Compare the fingerprint with the server, then trust the key.')
    expect(within(card).queryByRole('button')).toBeNull()
  })
})
