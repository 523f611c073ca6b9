// The parts of the ssh dialer that need no network: backoff, host key algorithm order, option checks, and the
// final failures found before any connection (unreadable known_hosts, unusable private key).

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import {
  backoffDelay,
  createSshDialer,
  preferredHostKeyAlgorithms,
  type SshConnectionState,
  type SshDialerOptions,
} from '../../../electron/core/tunnel/ssh-dialer.js'

describe('backoffDelay', () => {
  it('doubles from 0.5 s up to 30 s by default (no jitter at random = 0.5)', () => {
    const delays = Array.from({ length: 9 }, (_, n) => backoffDelay(n, {}, () => 0.5))
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
  })

  it('spreads each delay by at most ±jitter and never beyond the cap', () => {
    const options = { initialMs: 100, maxMs: 5000, factor: 3, jitter: 0.25 }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        const base = Math.min(5000, 100 * 3 ** n)
        const delay = backoffDelay(n, options, () => r)
        return delay >= Math.floor(base * 0.75) && delay <= Math.min(5000, Math.ceil(base * 1.25))
      }),
    )
    expect(backoffDelay(0, options, () => 0)).toBe(75)
    expect(backoffDelay(0, options, () => 0.999999)).toBe(125)
  })
})

describe('preferredHostKeyAlgorithms', () => {
  it('keeps ssh2 order when nothing is known', () => {
    expect(preferredHostKeyAlgorithms([])).toEqual([
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ])
  })

  it('moves the known types first (rsa keys via their SHA-2 signature algorithms) and drops unknown types', () => {
    const order = preferredHostKeyAlgorithms(['ssh-rsa', 'ecdsa-sha2-nistp384', 'sk-ssh-ed25519@openssh.com'])
    expect(order.slice(0, 4)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ecdsa-sha2-nistp384'])
    expect([...order].sort()).toEqual([...preferredHostKeyAlgorithms([])].sort())
  })
})

describe('createSshDialer', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'acrb-ssh-unit-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const base = (): SshDialerOptions => ({ host: '127.0.0.1', port: 22, username: 'root', password: 'x', knownHostsPath: join(dir, 'known_hosts') })

  it('rejects options it cannot work with, naming the field', () => {
    const cases: [Partial<SshDialerOptions>, string][] = [
      [{ password: undefined }, 'tunnel.ssh'],
      [{ port: 0 }, 'tunnel.port'],
      [{ port: 65536 }, 'tunnel.port'],
      [{ host: '' }, 'tunnel.host'],
      [{ host: 'a b' }, 'tunnel.host'],
      [{ username: '' }, 'tunnel.ssh.username'],
      [{ knownHostsPath: '' }, 'tunnel.ssh.knownHostsPath'],
      [{ agent: '' }, 'tunnel.ssh.agent'],
    ]
    for (const [override, field] of cases) {
      let caught: unknown
      try {
        createSshDialer({ ...base(), ...override })
      } catch (error) {
        caught = error
      }
      expect(isBridgeError(caught, 'INVALID_CONFIG')).toBe(true)
      expect((caught as { field?: string }).field).toBe(field)
    }
  })

  it('starts idle, and fails for good (no retry) on an unreadable known_hosts before connecting', async () => {
    const dialer = createSshDialer({ ...base(), knownHostsPath: dir }) // a folder: EISDIR
    expect(dialer.state).toEqual({ kind: 'idle' })
    expect(dialer.stats()).toEqual({ connected: false, openChannels: 0, reconnects: 0, warmChannels: 0 })
    const states: SshConnectionState[] = []
    dialer.onDidChangeState((state) => states.push(state))
    const error = await dialer.dial({ name: 'registry-vpc.cn-beijing.aliyuncs.com', port: 443 }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'INVALID_CONFIG')).toBe(true)
    expect(states.map((s) => s.kind)).toEqual(['connecting', 'failed'])
    expect(await dialer.dial({ name: 'x.example.com', port: 443 }).catch((e: unknown) => e)).toBe(error)
    await dialer.close()
    expect(dialer.state).toEqual({ kind: 'closed' })
    await expect(dialer.dial({ name: 'x.example.com', port: 443 })).rejects.toMatchObject({ code: 'UPSTREAM_UNREACHABLE' })
    await expect(dialer.connect()).rejects.toMatchObject({ code: 'UPSTREAM_UNREACHABLE' })
  })

  it('fails with SSH_AUTH_FAILED on a private key it cannot use, before connecting', async () => {
    const dialer = createSshDialer({ ...base(), password: undefined, privateKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvMVKrtTRsWQvX13eFkmgDrV5jbBwDxoucPe2KyvW6v pub' })
    const error = await dialer.connect().catch((e: unknown) => e)
    expect(isBridgeError(error, 'SSH_AUTH_FAILED')).toBe(true)
    expect((error as { hint?: string }).hint).toMatch(/not at the \.pub file/)
    expect(dialer.state.kind).toBe('failed')
    await dialer.close()
  })

  it('treats a malformed target as a bug, not an expected failure', async () => {
    const dialer = createSshDialer(base())
    for (const target of [{ name: '', port: 443 }, { name: 'a b', port: 443 }, { name: 'x', port: 0 }]) {
      const error = await dialer.dial(target).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expect(isBridgeError(error)).toBe(false)
    }
    expect(dialer.state).toEqual({ kind: 'idle' })
    await dialer.close()
  })
})
