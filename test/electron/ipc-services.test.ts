// createIpcServices (electron/main/ipc-handlers-services.ts): the services behind the handlers that the desktop app
// and the test host share. Real files in a temp folder: the settings store, known_hosts.
import { createHash, generateKeyPairSync } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test, vi } from 'vitest'
import type { EventChannel, HostKeyTrustRequest } from '../../electron/common/ipc-contract.js'
import { parseConfig } from '../../electron/core/config/schema.js'
import { isBridgeError } from '../../electron/core/errors.js'
import { checkTrustRequest, createIpcServices, createRendererLogWriter } from '../../electron/main/ipc-handlers-services.js'
import { createSettingsStore, type SecretCipher } from '../../electron/main/settings-store.js'
import { memoryLogger, recordingController, sampleConfig, withTempDir } from './helpers.js'

/** An ed25519 public key as an SSH blob (string "ssh-ed25519", string key), base64, and its OpenSSH fingerprint. */
function ed25519Key(): { key: string; fingerprint: string } {
  const { publicKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url')
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b])
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)])
  return { key: blob.toString('base64'), fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` }
}

const sshConfig = (knownHostsPath?: string) =>
  parseConfig({
    regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc'] }],
    tunnel: { mode: 'ssh', host: 'ECS.example.com', port: 2222, ssh: { username: 'root', agent: true, ...(knownHostsPath === undefined ? {} : { knownHostsPath }) } },
  })

const noCipher: SecretCipher = {
  available: () => false,
  encrypt: () => {
    throw new Error('no cipher')
  },
  decrypt: () => {
    throw new Error('no cipher')
  },
}

function servicesFor(dir: string, config = sampleConfig()) {
  const controller = recordingController(config)
  const logger = memoryLogger()
  const events: [EventChannel, unknown][] = []
  const onConfigSaved = vi.fn()
  const services = createIpcServices({
    controller,
    store: createSettingsStore({ dir: join(dir, 'data'), parseConfig, cipher: noCipher, logger }),
    catalog: () => ({ regions: [], endpointKinds: [] }),
    parseConfig,
    logger,
    dialog: {
      showSaveDialog: async () => ({ canceled: true }),
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
    },
    appInfo: () => ({ version: '1', platform: 'linux', packaged: false }),
    homeDir: join(dir, 'home'),
    broadcast: (channel, payload) => events.push([channel, payload]),
    onConfigSaved,
  })
  return { services, controller, logger, events, onConfigSaved }
}

describe('ssh:trust-host-key: main checks before it writes', () => {
  test('a key whose fingerprint matches is added to the saved tunnel’s known_hosts (~ expanded)', async () => {
    await withTempDir(async (dir) => {
      const { services, logger } = servicesFor(dir, sshConfig('~/.ssh/known_hosts'))
      const { key, fingerprint } = ed25519Key()
      await services.trustHostKey({ host: 'ecs.example.com', port: 2222, keyType: 'ssh-ed25519', key, fingerprint })
      const path = join(dir, 'home', '.ssh', 'known_hosts')
      expect(await readFile(path, 'utf8')).toBe(`[ecs.example.com]:2222 ssh-ed25519 ${key}\n`)
      expect((await stat(path)).mode & 0o777).toBe(0o600)
      expect(logger.lines.some((l) => l.includes(`trusted the ssh-ed25519 host key ${fingerprint}`))).toBe(true)
    })
  })

  test.each([
    ['a fingerprint of another key', (r: HostKeyTrustRequest) => ({ ...r, fingerprint: ed25519Key().fingerprint }), /fingerprint shown does not belong/],
    ['another key type', (r: HostKeyTrustRequest) => ({ ...r, keyType: 'ssh-rsa' }), /not a ssh-rsa public key/],
    ['another host', (r: HostKeyTrustRequest) => ({ ...r, host: 'evil.example.com' }), /saved SSH tunnel goes to ECS\.example\.com:2222/],
    ['another port', (r: HostKeyTrustRequest) => ({ ...r, port: 22 }), /saved SSH tunnel goes to/],
    ['a blob that is no key', (r: HostKeyTrustRequest) => ({ ...r, key: Buffer.from('garbage garbage garbage').toString('base64') }), /not a ssh-ed25519 public key/],
  ])('%s → USAGE, and no known_hosts is written', async (_label, change, message) => {
    await withTempDir(async (dir) => {
      const knownHosts = join(dir, 'kh')
      const { services } = servicesFor(dir, sshConfig(knownHosts))
      const { key, fingerprint } = ed25519Key()
      const request = change({ host: 'ecs.example.com', port: 2222, keyType: 'ssh-ed25519', key, fingerprint })
      const failure = await services.trustHostKey(request).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(isBridgeError(failure, 'USAGE')).toBe(true)
      expect((failure as Error).message).toMatch(message)
      await expect(stat(knownHosts)).rejects.toMatchObject({ code: 'ENOENT' })
    })
  })

  test('a tunnel that is not ssh has no host key to trust', () => {
    const { key, fingerprint } = ed25519Key()
    expect(() => checkTrustRequest(sampleConfig(), '/home/u', { host: '203.0.113.10', port: 3128, keyType: 'ssh-ed25519', key, fingerprint })).toThrow(
      /does not use SSH/,
    )
  })

  test('known_hosts defaults to ~/.ssh/known_hosts', () => {
    const { key, fingerprint } = ed25519Key()
    expect(checkTrustRequest(sshConfig(), '/home/u', { host: 'ecs.example.com', port: 2222, keyType: 'ssh-ed25519', key, fingerprint })).toEqual({
      knownHostsPath: '/home/u/.ssh/known_hosts',
    })
  })
})

describe('log:write: the window’s errors into the main log, bounded', () => {
  test('rate-limited: lines over the limit are dropped and the next written line counts them', () => {
    let now = 0
    const logger = memoryLogger()
    const write = createRendererLogWriter(logger, { perMinute: 3, now: () => now })
    const results = Array.from({ length: 5 }, (_, i) => write({ level: 'error', message: `boom ${i}` }).written)
    expect(results).toEqual([true, true, true, false, false])
    expect(logger.lines).toEqual(['error [renderer] boom 0', 'error [renderer] boom 1', 'error [renderer] boom 2'])
    now = 60_000
    expect(write({ level: 'warn', message: 'later' })).toEqual({ written: true })
    expect(logger.lines.at(-1)).toBe('warn [renderer] later (2 earlier lines dropped: the window wrote too many)')
  })

  test('control characters cannot forge log lines; stacks keep their first 12 lines', () => {
    const logger = memoryLogger()
    const write = createRendererLogWriter(logger, { perMinute: 10, now: () => 0 })
    const stack = Array.from({ length: 40 }, (_, i) => `    at f${i} (app.js:${i}:1)`).join('\n')
    write({ level: 'error', message: 'bad\r2026-01-01T00:00:00.000Z INFO  forged\u001b[2K', source: 'app.js:1:2', stack })
    const line = logger.lines[0] as string
    expect(line).not.toMatch(/[\r\u001b]/)
    expect(line.startsWith('error [renderer] bad 2026-01-01T00:00:00.000Z INFO  forged [2K (at app.js:1:2)\nat f0 (app.js:0:1)')).toBe(true)
    expect(line.split('\n')).toHaveLength(13)
  })
})

describe('config:set through the shared services', () => {
  test('saves (no secret storage here), hands the config to the controller, tells the window and the tray', async () => {
    await withTempDir(async (dir) => {
      const { services, controller, events, onConfigSaved } = servicesFor(dir)
      const next = parseConfig({ regions: [{ id: 'cn-hangzhou', endpoints: ['registry-vpc'] }], tunnel: { mode: 'sni', host: '203.0.113.10', port: 443 } })
      const view = await services.saveConfig({ config: next })
      expect(controller.calls).toEqual(['setConfig'])
      expect(view).toMatchObject({ config: next, saved: true, secretStorageAvailable: false })
      expect(events).toEqual([['config:changed', view]])
      expect(onConfigSaved).toHaveBeenCalledTimes(1)
      expect(JSON.parse(await readFile(join(dir, 'data', 'config.json'), 'utf8'))).toEqual(next)
    })
  })

  test('a secret cannot be saved without encrypted storage: CONFIG_WRITE_FAILED, nothing reaches the controller', async () => {
    await withTempDir(async (dir) => {
      const { services, controller, events } = servicesFor(dir)
      const withPassword = parseConfig({
        regions: [],
        tunnel: { mode: 'connect', host: '203.0.113.10', port: 3128, connect: { username: 'u', password: 'hunter22' } },
      })
      await expect(services.saveConfig({ config: withPassword })).rejects.toMatchObject({ code: 'CONFIG_WRITE_FAILED', field: 'tunnel.connect.password' })
      expect(controller.calls).toEqual([])
      expect(events).toEqual([])
    })
  })
})
