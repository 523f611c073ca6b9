import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  acquireSessionLock,
  liveSessionLock,
  osProcessProbe,
  parseProcStat,
  readProcessStart,
  removeStaleSessionLock,
  sessionLockPath,
} from '../../../electron/core/session/session-lock.js'
import { fakeProbe } from './fakes.js'

let dataDir: string

beforeEach(async () => {
  dataDir = join(await fs.mkdtemp(join(tmpdir(), 'acr-bridge-lock-')), 'data')
})

afterEach(async () => {
  await fs.rm(join(dataDir, '..'), { recursive: true, force: true })
})

describe('parseProcStat', () => {
  it('takes field 22 after the last parenthesis, whatever the command name holds', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21'
    expect(parseProcStat(`123 (node) ${rest}`)).toBe('987654')
    expect(parseProcStat(`123 (a) b (c) d) ${rest}`)).toBe('987654')
    expect(parseProcStat('123 node S 1')).toBeUndefined()
    expect(parseProcStat('123 (x) S 1 2')).toBeUndefined()
  })
})

describe('the OS process probe', () => {
  it('knows this process, and tells a reused pid by its start time', async () => {
    const self = osProcessProbe.self()
    expect(self.pid).toBe(process.pid)
    if (process.platform === 'linux') {
      expect(self.processStart).toMatch(/^\d+$/)
      expect(await readProcessStart(process.pid)).toBe(self.processStart)
    }
    expect(await osProcessProbe.isAlive(process.pid, self.processStart)).toBe(true)
    if (process.platform === 'linux') expect(await osProcessProbe.isAlive(process.pid, '1')).toBe(false)
    // pid 2^22 + 1 is above Linux's pid_max limit: never a live process
    expect(await osProcessProbe.isAlive(4_194_305, undefined)).toBe(false)
  })
})

describe('acquireSessionLock', () => {
  const session = { hostsPath: '/h', startedAt: new Date('2026-01-01T00:00:00Z') }

  it('creates a private lock file and releases only its own', async () => {
    const lock = await acquireSessionLock(dataDir, session, fakeProbe(10, new Map([[10, 's']])))
    const stat = await fs.stat(sessionLockPath(dataDir))
    expect(stat.mode & 0o777).toBe(0o600)
    expect(lock.info).toEqual({ pid: 10, startedAt: '2026-01-01T00:00:00.000Z', processStart: 's', hostsPath: '/h' })
    expect((await fs.readdir(dataDir)).sort()).toEqual(['session.lock'])
    // someone replaced the file: release leaves theirs alone
    await fs.writeFile(sessionLockPath(dataDir), JSON.stringify({ pid: 11, startedAt: '', hostsPath: '/h' }))
    await lock.release()
    expect(JSON.parse(await fs.readFile(sessionLockPath(dataDir), 'utf8'))).toMatchObject({ pid: 11 })
  })

  it('a live holder: ALREADY_RUNNING with its pid; a dead or unreadable one is taken over', async () => {
    const alive = new Map<number, string | undefined>([[10, undefined], [20, undefined]])
    const first = await acquireSessionLock(dataDir, session, fakeProbe(10, alive))
    await expect(acquireSessionLock(dataDir, session, fakeProbe(20, alive))).rejects.toMatchObject({
      code: 'ALREADY_RUNNING',
      message: 'acr-bridge is already running (pid 10 since 2026-01-01T00:00:00.000Z).',
    })
    // one session per data folder even inside one process
    await expect(acquireSessionLock(dataDir, session, fakeProbe(10, alive))).rejects.toMatchObject({ code: 'ALREADY_RUNNING' })
    expect(await liveSessionLock(dataDir, fakeProbe(20, alive))).toMatchObject({ pid: 10 })

    alive.delete(10)
    expect(await liveSessionLock(dataDir, fakeProbe(20, alive))).toBeUndefined()
    const second = await acquireSessionLock(dataDir, session, fakeProbe(20, alive))
    expect(second.info.pid).toBe(20)
    await first.release() // not its file any more: a no-op
    expect(await liveSessionLock(dataDir, fakeProbe(20, alive))).toMatchObject({ pid: 20 })
    await second.release()
    await expect(fs.access(sessionLockPath(dataDir))).rejects.toThrow()

    await fs.writeFile(sessionLockPath(dataDir), 'not json')
    const third = await acquireSessionLock(dataDir, session, fakeProbe(20, alive))
    expect(third.info.pid).toBe(20)
  })

  it('a data folder that cannot be created is a HOSTS_WRITE_FAILED naming the folder', async () => {
    await fs.mkdir(join(dataDir, '..'), { recursive: true })
    const file = join(dataDir, '..', 'a-file')
    await fs.writeFile(file, '')
    await expect(acquireSessionLock(join(file, 'data'), session, fakeProbe(10, new Map([[10, undefined]])))).rejects.toMatchObject({
      code: 'HOSTS_WRITE_FAILED',
      message: `The acr-bridge data folder ${join(file, 'data')} cannot be used (ENOTDIR), so no hosts change would be safe.`,
    })
  })

  it('removeStaleSessionLock removes a dead holder only', async () => {
    const alive = new Map<number, string | undefined>([[10, undefined]])
    await acquireSessionLock(dataDir, session, fakeProbe(10, alive))
    expect(await removeStaleSessionLock(dataDir, fakeProbe(30, alive))).toBe(false)
    alive.clear()
    expect(await removeStaleSessionLock(dataDir, fakeProbe(30, alive))).toBe(true)
    expect(await removeStaleSessionLock(dataDir, fakeProbe(30, alive))).toBe(false)
  })
})
