import { beforeEach, describe, expect, test, vi } from 'vitest'
import * as electronAtStart from '../fakes/electron.js'
import {
  eventChannels,
  eventMethods,
  invokeChannels,
  invokeMethods,
  type AcrApi,
} from '../../electron/common/ipc-contract.js'
import { parseConfig } from '../../electron/core/config/schema.js'
import { BridgeError, serializeError } from '../../electron/core/errors.js'
import { hostKeyError } from '../../electron/core/tunnel/known-hosts.js'
import { ipcImplementations, registerIpcHandlers, type IpcServices } from '../../electron/main/ipc-handlers.js'
import { createValidators } from '../../electron/main/ipc-schemas.js'
import { memoryLogger, recordingController, stateOf } from './helpers.js'

let electron: typeof electronAtStart = electronAtStart

/**
 * Runs the real preload entry against the fake electron module and returns what it exposed. resetModules gives a
 * fresh module graph (the preload runs again), so the test takes the fake module from that same graph.
 */
async function loadPreload(): Promise<AcrApi> {
  vi.resetModules()
  electron = await import('../fakes/electron.js')
  electron.resetFakeElectron()
  await import('../../electron/preload/index.js')
  expect([...electron.contextBridge.exposed.keys()]).toEqual(['acr'])
  return electron.contextBridge.exposed.get('acr') as AcrApi
}

function invokeFunctions(api: AcrApi): [string, (...args: unknown[]) => Promise<unknown>][] {
  const out: [string, (...args: unknown[]) => Promise<unknown>][] = []
  for (const [domain, value] of Object.entries(api)) {
    if (typeof value === 'function') continue
    for (const [method, fn] of Object.entries(value as Record<string, unknown>)) out.push([`${domain}.${method}`, fn as never])
  }
  return out
}

beforeEach(() => {
  electron = electronAtStart
  electron.resetFakeElectron()
})

describe('preload, main handlers and the contract name the same channels', () => {
  test('every exposed invoke function sends its own channel, and together they are exactly invokeChannels and the main handlers', async () => {
    const api = await loadPreload()
    const functions = invokeFunctions(api)
    for (const [, fn] of functions) await fn()
    const sent = electron.ipcRenderer.calls.map((c) => c.channel)
    expect(sent.length).toBe(functions.length)
    expect(new Set(sent).size).toBe(sent.length)
    expect([...sent].sort()).toEqual([...invokeChannels].sort())

    // Where each function sits follows the layout table.
    const byPath = Object.fromEntries(functions.map(([path], i) => [path, sent[i]]))
    for (const channel of invokeChannels) expect(byPath[invokeMethods[channel].join('.')]).toBe(channel)

    const controller = recordingController()
    registerIpcHandlers(
      { ipcMain: electron.ipcMain, isTrusted: () => true, logger: memoryLogger() },
      createValidators(parseConfig),
      ipcImplementations({ controller } as unknown as IpcServices),
    )
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual([...sent].sort())
  })

  test('the channels the renderer asked for exist on every side: ssh:trust-host-key and log:write', async () => {
    const api = await loadPreload()
    expect(invokeMethods['ssh:trust-host-key']).toEqual(['ssh', 'trustHostKey'])
    expect(invokeMethods['log:write']).toEqual(['log', 'write'])
    const request = { host: 'ecs.example.com', port: 22, keyType: 'ssh-ed25519', key: 'AAAA', fingerprint: 'SHA256:x' }
    await api.ssh.trustHostKey(request)
    await api.log.write({ level: 'error', message: 'boom' })
    expect(electron.ipcRenderer.calls).toEqual([
      { channel: 'ssh:trust-host-key', args: [request] },
      { channel: 'log:write', args: [{ level: 'error', message: 'boom' }] },
    ])
  })

  test('the event subscribers are exactly eventChannels', async () => {
    const api = await loadPreload()
    const subscribers = Object.entries(api).filter(([, v]) => typeof v === 'function')
    expect(subscribers.map(([k]) => k).sort()).toEqual(eventChannels.map((c) => eventMethods[c]).sort())
    for (const channel of eventChannels) {
      const unsubscribe = (api[eventMethods[channel]] as (l: () => void) => () => void)(() => {})
      expect(electron.ipcRenderer.listenerCount(channel)).toBe(1)
      unsubscribe()
      expect(electron.ipcRenderer.listenerCount(channel)).toBe(0)
    }
  })

  test('window.acr exposes named functions only: no ipcRenderer, no generic invoke/send/on', async () => {
    const api = await loadPreload()
    expect(Object.isFrozen(api)).toBe(true)
    const all = [api, ...Object.values(api).filter((v) => typeof v === 'object')]
    for (const object of all) {
      for (const [key, value] of Object.entries(object as object)) {
        expect(['invoke', 'send', 'on', 'once', 'sendSync', 'ipcRenderer']).not.toContain(key)
        if (typeof value === 'object') expect(value).not.toBe(electron.ipcRenderer)
        else expect(typeof value).toBe('function')
      }
    }
  })
})

describe('preload behaviour', () => {
  test('listeners get the payload only, never the IpcRendererEvent; unsubscribe is idempotent', async () => {
    const api = await loadPreload()
    const seen: unknown[][] = []
    const unsubscribe = api.onSessionStateChanged((...args: unknown[]) => seen.push(args))
    const state = stateOf('healthy')
    electron.ipcRenderer.emit('session:state-changed', { sender: electron.ipcRenderer, ports: [] }, state)
    expect(seen).toEqual([[state]])
    unsubscribe()
    unsubscribe()
    electron.ipcRenderer.emit('session:state-changed', {}, stateOf('off'))
    expect(seen).toHaveLength(1)
  })

  test('only the request crosses: extra arguments are dropped', async () => {
    const api = await loadPreload()
    const fn = api.log.tail as unknown as (...args: unknown[]) => Promise<unknown>
    await fn({ limit: 3 }, 'extra', { more: true })
    await api.session.state()
    expect(electron.ipcRenderer.calls).toEqual([
      { channel: 'log:tail', args: [{ limit: 3 }] },
      { channel: 'session:state', args: [] },
    ])
  })

  test('a broken IPC (no handler in main) still answers a Result, never rejects', async () => {
    const api = await loadPreload()
    electron.ipcRenderer.answer = () => {
      throw new Error("No handler registered for 'session:connect'")
    }
    await expect(api.session.connect()).resolves.toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: "No handler registered for 'session:connect'" },
    })
  })

  test('main answers pass through unchanged', async () => {
    const api = await loadPreload()
    electron.ipcRenderer.answer = (channel) => ({ ok: false, error: { code: 'FORBIDDEN', message: channel } })
    await expect(api.config.get()).resolves.toEqual({ ok: false, error: { code: 'FORBIDDEN', message: 'config:get' } })
  })

  test('a listener that is not a function is refused', async () => {
    const api = await loadPreload()
    expect(() => (api.onLogAppended as unknown as (x: unknown) => void)('not a function')).toThrow(TypeError)
  })
})

describe('what crosses: SerializedError carries BridgeError.details', () => {
  test('an unknown SSH host key reaches the window with its fingerprint, key type and key', () => {
    const key = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)])
    const error = hostKeyError({ kind: 'unknown', otherKeyTypes: [], certAuthority: false }, 'ecs.example.com', 22, key, '/home/u/.ssh/known_hosts')
    const serialized = serializeError(error)
    expect(serialized.code).toBe('SSH_HOST_KEY_UNKNOWN')
    expect(serialized.details).toMatchObject({ keyType: 'ssh-ed25519', key: key.toString('base64'), host: 'ecs.example.com', port: 22 })
    expect(serialized.details?.['fingerprint']).toMatch(/^SHA256:/)
    // Structured clone and JSON keep it as it is.
    expect(JSON.parse(JSON.stringify(serialized))).toEqual(serialized)
    expect(structuredClone(serialized)).toEqual(serialized)
  })

  test('only plain values pass; an error without details has no details key', () => {
    const odd = new BridgeError('USAGE', 'x', { details: { a: 1, b: 'two', c: true, d: Number.NaN } as unknown as Record<string, number> })
    expect(serializeError(odd).details).toEqual({ a: 1, b: 'two', c: true })
    expect('details' in serializeError(new BridgeError('USAGE', 'y'))).toBe(false)
  })
})

describe('the contract stays plain data', () => {
  test('nothing reachable from ipc-contract.ts imports node:, electron, or a package', async () => {
    const { readFile } = await import('node:fs/promises')
    const { dirname, resolve } = await import('node:path')
    const { fileURLToPath } = await import('node:url')
    const start = fileURLToPath(new URL('../../electron/common/ipc-contract.ts', import.meta.url))
    const seen = new Set<string>()
    const offenders: string[] = []
    const queue = [start]
    while (queue.length > 0) {
      const file = queue.pop() as string
      if (seen.has(file)) continue
      seen.add(file)
      const text = await readFile(file, 'utf8')
      for (const match of text.matchAll(/\bfrom\s+'([^']+)'/g)) {
        const specifier = match[1] as string
        if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
        else offenders.push(`${file}: ${specifier}`)
      }
    }
    expect(seen.size).toBeGreaterThan(3)
    expect(offenders).toEqual([])
  })
})
