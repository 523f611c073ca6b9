import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../electron/core/config/schema.js'
import { expandHome, redactConfig, resolveSecrets, stripSecrets } from '../../../electron/core/config/secrets.js'
import { BridgeError } from '../../../electron/core/errors.js'

const connect = (extra: Record<string, unknown> = {}) =>
  parseConfig({ tunnel: { mode: 'connect', host: '203.0.113.10', connect: { username: 'u', ...extra } } })
const ssh = (extra: Record<string, unknown> = {}) =>
  parseConfig({ tunnel: { mode: 'ssh', host: '203.0.113.10', ssh: { username: 'root', ...extra } } })

const env = {
  ACR_BRIDGE_PROXY_PASSWORD: 'proxy-from-env',
  ACR_BRIDGE_SSH_PASSPHRASE: 'phrase-from-env',
  ACR_BRIDGE_SSH_PASSWORD: 'password-from-env',
}

describe('resolveSecrets', () => {
  it('takes the proxy password from the environment when the file has none', () => {
    const config = connect()
    const resolved = resolveSecrets(config, env)
    expect(resolved.tunnel.connect).toEqual({ username: 'u', password: 'proxy-from-env' })
    expect(config.tunnel.connect?.password).toBeUndefined() // a copy; the input is untouched
  })

  it('keeps a password from the file', () => {
    expect(resolveSecrets(connect({ password: 'file' }), env).tunnel.connect?.password).toBe('file')
  })

  it('fills ssh passphrase and password independently', () => {
    expect(resolveSecrets(ssh(), env).tunnel.ssh).toEqual({ username: 'root', passphrase: 'phrase-from-env', password: 'password-from-env' })
    expect(resolveSecrets(ssh({ passphrase: 'file' }), env).tunnel.ssh).toEqual({ username: 'root', passphrase: 'file', password: 'password-from-env' })
  })

  it('ignores unset and empty variables, and secrets of other modes', () => {
    const config = ssh()
    expect(resolveSecrets(config, {})).toBe(config)
    expect(resolveSecrets(config, { ACR_BRIDGE_SSH_PASSWORD: '' }).tunnel.ssh?.password).toBeUndefined()
    expect(resolveSecrets(config, { ACR_BRIDGE_PROXY_PASSWORD: 'x' }).tunnel.connect).toBeUndefined()
    const sni = parseConfig({ tunnel: { mode: 'sni', host: '203.0.113.10' } })
    expect(resolveSecrets(sni, env)).toEqual(sni)
    // no user name: Basic authentication cannot use a password alone
    const anonymous = parseConfig({ tunnel: { mode: 'connect', host: '203.0.113.10' } })
    expect(resolveSecrets(anonymous, env).tunnel.connect).toBeUndefined()
  })

  it('refuses a variable with NUL or over 4 KiB without echoing it', () => {
    for (const value of ['bad\u0000secret', 's'.repeat(5000)]) {
      let caught: unknown
      try {
        resolveSecrets(ssh(), { ACR_BRIDGE_SSH_PASSWORD: value })
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(BridgeError)
      expect((caught as BridgeError).code).toBe('INVALID_CONFIG')
      expect((caught as BridgeError).field).toBe('ACR_BRIDGE_SSH_PASSWORD')
      expect((caught as BridgeError).message).not.toContain('secret')
      expect((caught as BridgeError).message).not.toContain('sss')
    }
  })
})

describe('redactConfig / stripSecrets', () => {
  it('replaces every secret present with *** and leaves the rest', () => {
    const withSecrets = ssh({ passphrase: 'pp', password: 'pw', privateKeyPath: '~/.ssh/id' })
    const redacted = redactConfig(withSecrets)
    expect(redacted.tunnel.ssh).toEqual({ username: 'root', passphrase: '***', password: '***', privateKeyPath: '~/.ssh/id' })
    expect(JSON.stringify(redacted)).not.toMatch(/"pp"|"pw"/)
    expect(withSecrets.tunnel.ssh?.password).toBe('pw')
    expect(redactConfig(connect({ password: 'p' })).tunnel.connect).toEqual({ username: 'u', password: '***' })
    // absent secrets stay absent
    expect(redactConfig(ssh()).tunnel.ssh).toEqual({ username: 'root' })
  })

  it('removes secrets for the window', () => {
    expect(stripSecrets(ssh({ passphrase: 'pp', password: 'pw' })).tunnel.ssh).toEqual({ username: 'root' })
    expect(stripSecrets(connect({ password: 'p' })).tunnel.connect).toEqual({ username: 'u' })
  })
})

describe('expandHome', () => {
  it.each([
    ['~/.ssh/id_ed25519', '/home/u', '/home/u/.ssh/id_ed25519'],
    ['~', '/home/u', '/home/u'],
    ['~/x', '/home/u/', '/home/u/x'],
    ['~\\.ssh\\id', 'C:\\Users\\u', 'C:\\Users\\u\\.ssh\\id'],
    ['/etc/x', '/home/u', '/etc/x'],
    ['~other/x', '/home/u', '~other/x'],
    ['a/~/b', '/home/u', 'a/~/b'],
  ])('%s with home %s → %s', (path, home, expected) => {
    expect(expandHome(path, home)).toBe(expected)
  })
})
