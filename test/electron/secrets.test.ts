import { describe, expect, test } from 'vitest'
import { splitSecrets, withSecrets, withoutSecrets } from '../../electron/main/secrets.js'
import { sampleConfig } from './helpers.js'

const ssh = sampleConfig({ tunnel: { mode: 'ssh', host: '203.0.113.10', port: 22, ssh: { username: 'root', privateKeyPath: '~/.ssh/id', passphrase: 'pp', password: 'pw' } } })
const connect = sampleConfig({ tunnel: { mode: 'connect', host: '203.0.113.10', port: 3128, connect: { username: 'u', password: 'p' } } })

describe('secrets in a config', () => {
  test('split takes every secret out and with puts them back', () => {
    for (const config of [ssh, connect]) {
      const split = splitSecrets(config)
      expect(JSON.stringify(split.config)).not.toMatch(/"(password|passphrase)"/)
      expect(withSecrets(split.config, split.secrets)).toEqual(config)
    }
    expect(splitSecrets(ssh).secrets).toEqual({ sshPassphrase: 'pp', sshPassword: 'pw' })
    expect(splitSecrets(connect).secrets).toEqual({ proxyPassword: 'p' })
  })

  test('a config without secrets is unchanged', () => {
    const plain = withoutSecrets(connect)
    expect(splitSecrets(plain)).toEqual({ config: plain, secrets: {} })
  })

  test('a secret whose section is missing has nowhere to go and is not invented', () => {
    const sni = sampleConfig({ tunnel: { mode: 'sni', host: '203.0.113.10', port: 443 } })
    expect(withSecrets(sni, { proxyPassword: 'p', sshPassphrase: 'pp' })).toEqual(sni)
  })
})
