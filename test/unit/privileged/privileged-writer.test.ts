import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BridgeError, isBridgeError } from '../../../electron/core/errors.js'
import { elevationNeverRan, toElevationError } from '../../../electron/core/privileged/elevation-error.js'
import { createPrivilegedWriter } from '../../../electron/core/privileged/privileged-writer.js'
import { createFakeElevator } from './fake-elevator.js'

let root: string
let dataDir: string
let target: string

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-writer-'))
  dataDir = join(root, 'data dir')
  target = join(root, 'hosts')
  await fs.writeFile(target, 'old\n')
})

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const request = (content = 'new\n', expected = 'old\n') => ({
  target,
  expected: Buffer.from(expected),
  content: Buffer.from(content),
  flushResolverCache: false,
})

describe('createPrivilegedWriter', () => {
  it('writes directly, without a prompt, when the process may write the file and its folder', async () => {
    const elevator = createFakeElevator()
    const writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator })
    expect(await writer.install(request())).toEqual({ elevated: false, method: 'rename' })
    expect(await fs.readFile(target, 'utf8')).toBe('new\n')
    expect(elevator.runs).toHaveLength(0)
    expect((await fs.readdir(root)).sort()).toEqual(['hosts'])
  })

  it('flushes the resolver cache after a direct write only when asked', async () => {
    const flushes: string[] = []
    const writer = createPrivilegedWriter({
      dataDir,
      platform: 'linux',
      elevator: createFakeElevator(),
      flushResolverCache: async () => {
        flushes.push('flush')
      },
    })
    await writer.install(request())
    expect(flushes).toEqual([])
    await writer.install({ ...request('newer\n', 'new\n'), flushResolverCache: true })
    expect(flushes).toEqual(['flush'])
  })

  it('refuses a direct write when the file changed since it was read', async () => {
    const writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator: createFakeElevator() })
    const error = await rejection(writer.install(request('new\n', 'what we read earlier\n')))
    expect(isBridgeError(error, 'HOSTS_CHANGED_BEHIND_US')).toBe(true)
    expect(await fs.readFile(target, 'utf8')).toBe('old\n')
    expect((await fs.readdir(root)).sort()).toEqual(['hosts'])
  })

  it('otherwise runs ONE elevated script that replaces the file, then removes everything it staged', async () => {
    const elevator = createFakeElevator()
    const flushes: string[] = []
    const writer = createPrivilegedWriter({
      dataDir,
      platform: 'linux',
      elevator,
      canWriteDirectly: async () => false,
      flushResolverCache: async () => {
        flushes.push('direct')
      },
    })
    expect(await writer.install(request())).toEqual({ elevated: true, method: 'rename' })
    expect(await fs.readFile(target, 'utf8')).toBe('new\n')
    expect(elevator.runs).toHaveLength(1)
    expect(elevator.runs[0]?.name).toBe('ACR Bridge')
    expect(elevator.runs[0]?.command).toMatch(/^\/bin\/sh '.*\/data dir\/elevate-[A-Za-z0-9]{6}\/run\.sh'$/)
    expect(elevator.runs[0]?.script).not.toContain('flush-resolver-cache')
    expect(await fs.readdir(dataDir)).toEqual([])
    expect(flushes).toEqual([])
  })

  it('puts the resolver flush into the same elevated script when asked', async () => {
    const elevator = createFakeElevator({ execute: false })
    const writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator, canWriteDirectly: async () => false })
    await rejection(writer.install({ ...request(), flushResolverCache: true }))
    expect(elevator.runs).toHaveLength(1)
    expect(elevator.runs[0]?.script).toContain('# flush-resolver-cache')
  })

  it('maps a cancelled prompt to ELEVATION_DENIED and leaves the file untouched', async () => {
    const before = await fs.stat(target)
    const elevator = createFakeElevator({ deny: true })
    const writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator, canWriteDirectly: async () => false })
    const error = await rejection(writer.install(request()))
    expect(isBridgeError(error, 'ELEVATION_DENIED')).toBe(true)
    expect((error as BridgeError).hint).toBeTruthy()
    expect(await fs.readFile(target, 'utf8')).toBe('old\n')
    const after = await fs.stat(target)
    expect([after.ino, after.mtimeMs, after.mode]).toEqual([before.ino, before.mtimeMs, before.mode])
    expect(await fs.readdir(dataDir)).toEqual([])
  })

  it('reports HOSTS_CHANGED_BEHIND_US when the file changed while the prompt was open (the script refuses)', async () => {
    await fs.writeFile(target, 'changed by someone else\n')
    const writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator: createFakeElevator(), canWriteDirectly: async () => false })
    const error = await rejection(writer.install(request()))
    expect(isBridgeError(error, 'HOSTS_CHANGED_BEHIND_US')).toBe(true)
    expect(await fs.readFile(target, 'utf8')).toBe('changed by someone else\n')
  })

  it('reports ELEVATION_FAILED with the script error when the script fails', async () => {
    const writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator: createFakeElevator(), canWriteDirectly: async () => false })
    const error = await rejection(writer.install({ ...request(), target: root }))
    expect(isBridgeError(error, 'ELEVATION_FAILED')).toBe(true)
    expect((error as Error).message).toContain('not a regular file')
  })

  it('refuses a data folder whose path cannot be carried on a command line, before any prompt', async () => {
    const elevator = createFakeElevator()
    const writer = createPrivilegedWriter({ dataDir: join(root, "it's"), platform: 'linux', elevator, canWriteDirectly: async () => false })
    const error = await rejection(writer.install(request()))
    expect(isBridgeError(error, 'ELEVATION_FAILED')).toBe(true)
    expect(elevator.runs).toHaveLength(0)
    expect(await fs.readFile(target, 'utf8')).toBe('old\n')
  })
})

describe('toElevationError', () => {
  it('maps sudo-prompt outcomes', () => {
    expect(toElevationError(new Error('User did not grant permission.')).code).toBe('ELEVATION_DENIED')
    expect(toElevationError(new Error('No polkit authentication agent found.')).code).toBe('ELEVATION_FAILED')
    const failed = toElevationError(new Error('Command failed: /bin/sh x'), 'acr-bridge: the target is not a regular file\n')
    expect(failed.code).toBe('ELEVATION_FAILED')
    expect(failed.message).toBe('The privileged step failed: acr-bridge: the target is not a regular file.')
    const own = new BridgeError('ELEVATION_DENIED', 'x')
    expect(toElevationError(own)).toBe(own)
  })

  it('tells a prompt that never ran (cancelled, no pkexec, no polkit agent) from a script that failed', () => {
    const noPkexec = toElevationError(new Error('Unable to find pkexec or kdesudo.'))
    expect(noPkexec).toMatchObject({ code: 'ELEVATION_FAILED', message: 'No program to show the administrator prompt is installed (pkexec or kdesudo).' })
    expect(noPkexec.hint).toContain('sudo')
    expect(elevationNeverRan(noPkexec)).toBe(true)
    expect(elevationNeverRan(toElevationError(new Error('No polkit authentication agent found.')))).toBe(true)
    expect(elevationNeverRan(toElevationError(new Error('User did not grant permission.')))).toBe(true)
    expect(elevationNeverRan(toElevationError(new Error('Command failed: /bin/sh x'), 'acr-bridge: nft (nftables) is not installed\n'))).toBe(false)
  })
})
