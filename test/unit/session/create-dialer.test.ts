import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../electron/core/config/schema.js'
import type { BridgeError } from '../../../electron/core/errors.js'
import { createDialerForConfig, isSshDialer } from '../../../electron/core/session/create-dialer.js'

let home: string

beforeEach(async () => {
  home = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-dialer-'))
})

afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true })
})

const config = (tunnel: Record<string, unknown>) => parseConfig({ regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc'] }], tunnel })

describe('createDialerForConfig', () => {
  it('builds the dialer of the configured mode', async () => {
    const sni = await createDialerForConfig(config({ mode: 'sni', host: '203.0.113.10' }), { env: {}, homeDir: home })
    expect(sni.mode).toBe('sni')
    expect(isSshDialer(sni)).toBe(false)
    const connect = await createDialerForConfig(config({ mode: 'connect', host: '203.0.113.10', connect: { username: 'u' } }), {
      env: { ACR_BRIDGE_PROXY_PASSWORD: 'p' },
      homeDir: home,
    })
    expect(connect.mode).toBe('connect')
    await fs.mkdir(join(home, '.ssh'))
    await fs.writeFile(join(home, '.ssh', 'id'), 'not really a key, but nothing parses it before the first connect')
    const ssh = await createDialerForConfig(config({ mode: 'ssh', host: '203.0.113.10', ssh: { username: 'root', privateKeyPath: '~/.ssh/id' } }), {
      env: {},
      homeDir: home,
    })
    expect(isSshDialer(ssh)).toBe(true)
    if (isSshDialer(ssh)) expect(ssh.state.kind).toBe('idle')
    await Promise.all([sni.close(), connect.close(), ssh.close()])
  })

  it('names the field when the private key or the proxy CA cannot be read', async () => {
    const keyError = (await createDialerForConfig(config({ mode: 'ssh', host: 'ecs', ssh: { username: 'root', privateKeyPath: '~/missing' } }), {
      env: {},
      homeDir: home,
    }).catch((e: unknown) => e)) as BridgeError
    expect(keyError).toMatchObject({ code: 'INVALID_CONFIG', field: 'tunnel.ssh.privateKeyPath' })
    expect(keyError.message).toContain(join(home, 'missing'))
    const caError = (await createDialerForConfig(config({ mode: 'connect', host: 'ecs', connect: { tls: true, caFile: '~/ca.pem' } }), {
      env: {},
      homeDir: home,
    }).catch((e: unknown) => e)) as BridgeError
    expect(caError).toMatchObject({ code: 'INVALID_CONFIG', field: 'tunnel.connect.caFile' })
  })

  it('agent: true needs SSH_AUTH_SOCK unless another way to log in is set', async () => {
    await expect(
      createDialerForConfig(config({ mode: 'ssh', host: 'ecs', ssh: { username: 'root', agent: true } }), { env: {}, homeDir: home }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG', field: 'tunnel.ssh.agent' })
    const withAgent = await createDialerForConfig(config({ mode: 'ssh', host: 'ecs', ssh: { username: 'root', agent: true } }), {
      env: { SSH_AUTH_SOCK: join(home, 'agent.sock') },
      homeDir: home,
    })
    expect(withAgent.mode).toBe('ssh')
    const warnings: string[] = []
    const withPassword = await createDialerForConfig(config({ mode: 'ssh', host: 'ecs', ssh: { username: 'root', agent: true } }), {
      env: { ACR_BRIDGE_SSH_PASSWORD: 'pw' },
      homeDir: home,
      logger: { error() {}, warn: (m) => void warnings.push(m), info() {}, debug() {} },
    })
    expect(withPassword.mode).toBe('ssh')
    expect(warnings.join('\n')).toContain('SSH_AUTH_SOCK is not set')
    await Promise.all([withAgent.close(), withPassword.close()])
  })
})
