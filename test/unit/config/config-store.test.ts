import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig, saveConfig } from '../../../electron/core/config/config-store.js'
import { jsonErrorLocation } from '../../../electron/core/config/json-location.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import type { Config } from '../../../electron/core/config/types.js'
import { BridgeError } from '../../../electron/core/errors.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acr-bridge-config-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const sample: Config = parseConfig({
  regions: [{ id: 'cn-beijing' }],
  instances: [{ name: 'myinst', region: 'cn-hangzhou', network: 'vpc', instanceId: 'cri-abc123' }],
  extraHosts: ['a.example.com', { name: 'b.example.com', ports: [80] }],
  tunnel: { mode: 'connect', host: '203.0.113.10', connect: { username: 'u', password: 'p' } },
  listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
})

async function rejection(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof BridgeError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

describe('saveConfig / loadConfig', () => {
  it('round-trips a config', async () => {
    const path = join(dir, 'config.json')
    await saveConfig(path, sample)
    expect(await loadConfig(path)).toEqual(sample)
    const text = await readFile(path, 'utf8')
    expect(text.endsWith('}\n')).toBe(true)
    expect(JSON.parse(text)).toEqual(sample)
  })

  it('round-trips the listen overrides and writes none the config did not set', async () => {
    const path = join(dir, 'config.json')
    await saveConfig(path, sample)
    const plain = JSON.parse(await readFile(path, 'utf8')) as { listen: Record<string, unknown> }
    expect(Object.keys(plain.listen).sort()).toEqual(['address', 'httpPort', 'port'])
    const withOverrides: Config = { ...sample, listen: { ...sample.listen, alias: false, mechanism: 'redirect', highPorts: { tls: 14443, http: 14080 } } }
    await saveConfig(path, withOverrides)
    expect(await loadConfig(path)).toEqual(withOverrides)
    expect(JSON.parse(await readFile(path, 'utf8')).listen).toEqual({ address: '127.0.0.1', port: 443, httpPort: 80, alias: false, mechanism: 'redirect', highPorts: { tls: 14443, http: 14080 } })
  })

  it('writes mode 0600 and leaves no temp file, also when replacing a file', async () => {
    const path = join(dir, 'config.json')
    await writeFile(path, '{}', { mode: 0o644 })
    await chmod(path, 0o644)
    await saveConfig(path, sample)
    await saveConfig(path, { ...sample, hosts: { takeOver: true } })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['config.json'])
    expect((await loadConfig(path)).hosts.takeOver).toBe(true)
  })

  it('creates a missing folder', async () => {
    const path = join(dir, 'a', 'b', 'config.json')
    await saveConfig(path, sample)
    expect(await loadConfig(path)).toEqual(sample)
  })

  it('replaces a symlinked config at its target and keeps the link', async () => {
    const target = join(dir, 'real.json')
    const link = join(dir, 'link.json')
    await writeFile(target, '{}')
    await symlink(target, link)
    await saveConfig(link, sample)
    expect((await readdir(dir)).sort()).toEqual(['link.json', 'real.json'])
    expect(JSON.parse(await readFile(target, 'utf8'))).toEqual(sample)
    expect(await loadConfig(link)).toEqual(sample)
  })

  it('refuses an invalid config without touching the file', async () => {
    const path = join(dir, 'config.json')
    await saveConfig(path, sample)
    const before = await readFile(path, 'utf8')
    const bad = { ...sample, extraHosts: ['evil.example.com\n1.2.3.4 x.com'] } as Config
    const error = await rejection(saveConfig(path, bad))
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.field).toBe('extraHosts[0]')
    expect(await readFile(path, 'utf8')).toBe(before)
    expect(await readdir(dir)).toEqual(['config.json'])
  })

  it('reports CONFIG_WRITE_FAILED and removes its temp file when the rename fails', async () => {
    const path = join(dir, 'config.json')
    await mkdir(path) // a directory where the file should go: rename fails after the temp file is written
    await writeFile(join(path, 'keep'), 'x')
    const error = await rejection(saveConfig(path, sample))
    expect(error.code).toBe('CONFIG_WRITE_FAILED')
    expect(error.message).toContain(path)
    expect(error.hint).toBeTruthy()
    expect(await readdir(dir)).toEqual(['config.json'])
  })

  it('reports CONFIG_WRITE_FAILED when the folder cannot be made', async () => {
    await writeFile(join(dir, 'file'), 'x')
    const error = await rejection(saveConfig(join(dir, 'file', 'config.json'), sample))
    expect(error.code).toBe('CONFIG_WRITE_FAILED')
  })

  it('reports CONFIG_NOT_FOUND for a missing file', async () => {
    const error = await rejection(loadConfig(join(dir, 'nope.json')))
    expect(error.code).toBe('CONFIG_NOT_FOUND')
    expect(error.hint).toBeTruthy()
  })

  it('reports bad JSON as INVALID_CONFIG with line and column', async () => {
    const path = join(dir, 'config.json')
    await writeFile(path, '{\n  "tunnel": {\n    "mode": "sni",,\n  }\n}\n')
    const error = await rejection(loadConfig(path))
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.message).toContain('line 3, column 19')
    expect(error.details).toEqual({ line: 3, column: 19 })
  })

  it('validates what it loads, and accepts a UTF-8 BOM', async () => {
    const path = join(dir, 'config.json')
    await writeFile(path, '\uFEFF{"tunnel": {"mode": "sni", "host": "203.0.113.10"}, "regions": [{"id": "ap-southeast-2"}]}')
    const error = await rejection(loadConfig(path))
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.field).toBe('regions[0].id')
  })

  it('refuses a file over 1 MiB before parsing it', async () => {
    const path = join(dir, 'config.json')
    await writeFile(path, `{"tunnel": {"mode": "sni", "host": "203.0.113.10"}, "pad": "${'x'.repeat(1024 * 1024)}"}`)
    const error = await rejection(loadConfig(path))
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.message).toMatch(/larger than/)
  })
})

describe('jsonErrorLocation', () => {
  it.each([
    ['{"a": tru}', 1, 7],
    ['x', 1, 1],
    ['{"a": 1,}', 1, 9],
    ['{"a": 1', 1, 8],
    ['', 1, 1],
    ['{"a":\n "b\u0001"}', 2, 4],
    ['{"a": 1} x', 1, 10],
    ['[1, 2,\n\n  ]', 3, 3],
    ['{"a": "\\x"}', 1, 8],
  ])('%j fails at line %i, column %i', (text, line, column) => {
    expect(() => JSON.parse(text)).toThrow()
    expect(jsonErrorLocation(text)).toEqual({ line, column })
  })

  it('finds nothing wrong in valid JSON', () => {
    expect(jsonErrorLocation('{"a": [1, -2.5e3, true, false, null, "\\u00e9"]}')).toBeUndefined()
  })
})
