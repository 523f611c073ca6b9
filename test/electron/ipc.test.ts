import { beforeEach, describe, expect, test, vi } from 'vitest'
import * as electron from '../fakes/electron.js'
import { invokeChannels, type InvokeChannel } from '../../electron/common/ipc-contract.js'
import type { Result } from '../../electron/common/result.js'
import { parseConfig } from '../../electron/core/config/schema.js'
import { BridgeError } from '../../electron/core/errors.js'
import { ipcImplementations, registerIpcHandlers, unregisterIpcHandlers, type IpcServices } from '../../electron/main/ipc-handlers.js'
import { createValidators } from '../../electron/main/ipc-schemas.js'
import type { IpcMainInvokeEventLike } from '../../electron/main/electron-surface.js'
import { memoryLogger, recordingController, sampleConfig, sampleConfigInput, type RecordingController } from './helpers.js'

const trustedEvent: IpcMainInvokeEventLike = { sender: { id: 1 }, senderFrame: { url: 'file:///app/index.html', parent: null } }
const iframeEvent: IpcMainInvokeEventLike = { sender: { id: 1 }, senderFrame: { url: 'file:///app/index.html', parent: { url: 'file:///app/index.html', parent: null } } }

let controller: RecordingController
let services: IpcServices & {
  saveConfig: ReturnType<typeof vi.fn>
  trustHostKey: ReturnType<typeof vi.fn>
  writeRendererLog: ReturnType<typeof vi.fn>
}
let logger: ReturnType<typeof memoryLogger>

function setup(isTrusted: (event: IpcMainInvokeEventLike) => boolean = (e) => e.senderFrame?.parent === null) {
  electron.resetFakeElectron()
  controller = recordingController()
  logger = memoryLogger()
  services = {
    controller,
    catalog: () => ({ regions: [], endpointKinds: [] }),
    configView: () => ({ config: controller.getConfig(), storedSecrets: { proxyPassword: false, sshPassphrase: false, sshPassword: false }, secretStorageAvailable: true }),
    saveConfig: vi.fn(async () => services.configView()),
    logTail: () => [],
    exportProfile: async () => ({ saved: false }),
    importProfile: async () => ({ imported: false }),
    appSettings: () => ({ startAtLogin: false, language: 'system', theme: 'system', notifications: true, connectAtStart: false }),
    setAppSettings: async (p) => ({ startAtLogin: false, language: 'system', theme: 'system', notifications: true, connectAtStart: false, ...p }),
    appInfo: () => ({ version: '1', platform: 'linux', packaged: false }),
    diagnosticsCompleted: vi.fn(),
    trustHostKey: vi.fn(async () => {}),
    writeRendererLog: vi.fn(() => ({ written: true })),
  }
  registerIpcHandlers({ ipcMain: electron.ipcMain, isTrusted, logger }, createValidators(parseConfig), ipcImplementations(services))
}

async function call(channel: InvokeChannel, event: IpcMainInvokeEventLike, ...args: unknown[]): Promise<Result<unknown>> {
  const handler = electron.ipcMain.handlers.get(channel)
  if (handler === undefined) throw new Error(`no handler for ${channel}`)
  return (await handler(event, ...args)) as Result<unknown>
}

beforeEach(() => setup())

describe('registerIpcHandlers', () => {
  test('registers exactly the contract invoke channels, once each', () => {
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual([...invokeChannels].sort())
    expect(electron.ipcMain.handlers.size).toBe(invokeChannels.length)
    unregisterIpcHandlers({ ipcMain: electron.ipcMain })
    expect(electron.ipcMain.handlers.size).toBe(0)
  })

  test('a valid call reaches the controller and answers ok', async () => {
    expect(await call('session:connect', trustedEvent)).toEqual({ ok: true, value: controller.state })
    expect(controller.state.kind).toBe('healthy')
    expect(controller.calls).toEqual(['connect'])
    expect(await call('lease:find', trustedEvent)).toEqual({ ok: true, value: null })
    expect(await call('log:tail', trustedEvent)).toEqual({ ok: true, value: [] })
    expect(await call('log:tail', trustedEvent, { limit: 5 })).toEqual({ ok: true, value: [] })
  })

  test('diagnostics answers the results and tells every view', async () => {
    const answer = await call('diagnostics:run', trustedEvent)
    expect(answer.ok).toBe(true)
    expect(services.diagnosticsCompleted).toHaveBeenCalledWith(answer.ok ? answer.value : undefined)
  })

  test('a valid config reaches the save path, parsed by the core schema', async () => {
    const answer = await call('config:set', trustedEvent, { config: sampleConfigInput, clearSecrets: ['proxyPassword'] })
    expect(answer.ok).toBe(true)
    expect(services.saveConfig).toHaveBeenCalledWith({ config: sampleConfig(), clearSecrets: ['proxyPassword'] })
  })
})

describe('bad payloads never reach the controller', () => {
  test.each([
    ['unknown key', { ...sampleConfigInput, bogus: true }, 'bogus'],
    ['host with a space', { ...sampleConfigInput, tunnel: { mode: 'sni', host: 'bad host', port: 443 } }, 'tunnel.host'],
    ['host with a newline', { ...sampleConfigInput, extraHosts: ['a.aliyuncs.com\n1.2.3.4 evil'] }, 'extraHosts'],
    ['port out of range', { ...sampleConfigInput, tunnel: { mode: 'sni', host: '203.0.113.10', port: 70000 } }, 'tunnel.port'],
  ])('config:set with %s → INVALID_CONFIG naming the field', async (_label, config, field) => {
    const answer = await call('config:set', trustedEvent, { config })
    expect(answer.ok).toBe(false)
    if (answer.ok) return
    expect(answer.error.code).toBe('INVALID_CONFIG')
    expect(answer.error.field).toContain(field)
    expect(services.saveConfig).not.toHaveBeenCalled()
    expect(controller.calls).toEqual([])
  })

  test('hosts:preview with a bad config → INVALID_CONFIG, no preview', async () => {
    const answer = await call('hosts:preview', trustedEvent, { config: { regions: 'all' } })
    expect(answer).toMatchObject({ ok: false, error: { code: 'INVALID_CONFIG' } })
    expect(controller.calls).toEqual([])
  })

  test.each([
    ['config:set', 'not an object'],
    ['config:set', { config: sampleConfigInput, clearSecrets: ['rootPassword'] }],
    ['config:set', { config: sampleConfigInput, extra: 1 }],
    ['discover:run', {}],
    ['discover:run', { repository: 'ns/name', evil: 1 }],
    ['discover:run', { repository: 'ns/name\nX-Injected: 1' }],
    ['log:tail', { limit: 1e9 }],
    ['log:tail', { limit: 'ten' }],
    ['app:set-settings', { theme: 'neon' }],
    ['app:set-settings', { autoUpdate: true }],
    ['session:connect', { force: true }],
    ['lease:revert', 'now'],
    ['log:write', undefined],
    ['log:write', { level: 'fatal', message: 'x' }],
    ['log:write', { level: 'error', message: 'x'.repeat(4097) }],
    ['log:write', { level: 'error', message: 'x', stack: 'y'.repeat(16385) }],
    ['log:write', { level: 'error', message: 'x', extra: 1 }],
    ['ssh:trust-host-key', undefined],
    ['ssh:trust-host-key', { host: 'ecs.example.com', port: 22, keyType: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' }],
    ['ssh:trust-host-key', { host: 'ecs example.com', port: 22, keyType: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', fingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }],
    ['ssh:trust-host-key', { host: 'ecs.example.com', port: 0, keyType: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', fingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }],
    ['ssh:trust-host-key', { host: 'ecs.example.com', port: 22, keyType: 'ssh-ed25519', key: 'not base64!', fingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }],
    ['ssh:trust-host-key', { host: 'ecs.example.com', port: 22, keyType: 'ssh-ed25519\nx', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', fingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }],
  ] as const)('%s with %j → USAGE', async (channel, payload) => {
    const answer = await call(channel, trustedEvent, payload)
    expect(answer).toMatchObject({ ok: false, error: { code: 'USAGE' } })
    expect(controller.calls).toEqual([])
    expect(services.saveConfig).not.toHaveBeenCalled()
    expect(services.trustHostKey).not.toHaveBeenCalled()
    expect(services.writeRendererLog).not.toHaveBeenCalled()
  })

  test('valid log:write and ssh:trust-host-key reach their services', async () => {
    expect(await call('log:write', trustedEvent, { level: 'error', message: 'TypeError: x is undefined', source: 'file:///app/assets/a.js:1:2' })).toEqual({ ok: true, value: { written: true } })
    expect(services.writeRendererLog).toHaveBeenCalledWith({ level: 'error', message: 'TypeError: x is undefined', source: 'file:///app/assets/a.js:1:2' })
    const request = {
      host: 'ecs.example.com',
      port: 22,
      keyType: 'ssh-ed25519',
      key: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
      fingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
    }
    expect(await call('ssh:trust-host-key', trustedEvent, request)).toEqual({ ok: true, value: null })
    expect(services.trustHostKey).toHaveBeenCalledWith(request)
  })

  test('more than one argument → USAGE', async () => {
    expect(await call('session:state', trustedEvent, undefined, 'extra')).toMatchObject({ ok: false, error: { code: 'USAGE' } })
  })
})

describe('the sender check comes first', () => {
  test('an iframe gets FORBIDDEN and nothing runs', async () => {
    expect(await call('session:connect', iframeEvent)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(await call('config:set', iframeEvent, { config: sampleConfigInput })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(controller.calls).toEqual([])
    expect(services.saveConfig).not.toHaveBeenCalled()
    expect(logger.lines.some((l) => l.includes('refused a call from subframe'))).toBe(true)
  })

  test('a sender check that throws counts as untrusted', async () => {
    setup(() => {
      throw new Error('frame gone')
    })
    expect(await call('session:connect', trustedEvent)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(controller.calls).toEqual([])
  })
})

describe('nothing is thrown across IPC', () => {
  test('a BridgeError from the controller becomes its Result', async () => {
    controller.failWith = new BridgeError('PORT_IN_USE', 'Port 443 is in use.', { hint: 'Stop the other program.' })
    expect(await call('session:connect', trustedEvent)).toEqual({
      ok: false,
      error: { code: 'PORT_IN_USE', message: 'Port 443 is in use.', hint: 'Stop the other program.' },
    })
  })

  test('a bug becomes INTERNAL with its message (redacted) and is logged', async () => {
    controller.failWith = new TypeError('cannot read x of undefined (password=hunter22)')
    const answer = await call('session:connect', trustedEvent)
    expect(answer.ok).toBe(false)
    if (answer.ok) return
    expect(answer.error.code).toBe('INTERNAL')
    expect(answer.error.message).not.toContain('hunter22')
    expect(logger.lines.some((l) => l.startsWith('error [ipc] session:connect failed'))).toBe(true)
  })

  test('a non-Error throw is still a Result', async () => {
    controller.failWith = 'just a string' as unknown as Error
    await expect(call('hosts:preview', trustedEvent, {})).resolves.toMatchObject({ ok: false, error: { code: 'INTERNAL', message: 'just a string' } })
  })
})
