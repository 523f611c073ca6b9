// `acr-bridge revert` (the BUILT CLI) and the session lock: a live session's lock makes revert refuse (exit 1,
// nothing changed: hosts file, lease and lock byte-identical); a lock whose process is gone (crash, kill -9, reboot)
// is removed together with what its session left, also when the pid now belongs to another process (the lock
// records the start time). Real processes stand in for the session: a sleeping node child (live), one that exited.

import { existsSync, promises as fs } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HOSTS_BLOCK_BEGIN } from '../../../electron/core/hosts/hosts-block.js'
import { readProcessStart, sessionLockFileName } from '../../../electron/core/session/session-lock.js'
import { useCaseFolders } from '../../helpers/case-folders.js'
import { builtCli, builtCliTimeoutMs, runBuiltCli } from '../../helpers/cli.js'
import { exitedStandIn, leaseHostsBlock, liveStandIn, stopStandIns } from '../../helpers/stand-in-processes.js'

const original = '# this machine\n127.0.0.1 localhost\n::1 localhost\n'
const names = ['registry-vpc.cn-beijing.aliyuncs.com', 'dockerauth-vpc.cn-beijing.aliyuncs.com']

const cases = useCaseFolders('acr-bridge-revert-lock-')
beforeAll(async () => {
  await builtCli()
}, builtCliTimeoutMs)
afterEach(stopStandIns)

/** A data folder holding a real lease (the hosts block, written by the core) taken by `pid`, and its session lock. */
async function leftBySession(pid: number, processStart: string | undefined) {
  const dir = await cases.next()
  const dataDir = join(dir, 'data')
  const hostsPath = join(dir, 'hosts')
  await fs.writeFile(hostsPath, original)
  await leaseHostsBlock({ dataDir, hostsPath, names, pid })
  const lock = { pid, startedAt: '2026-11-28T20:00:00.000Z', ...(processStart === undefined ? {} : { processStart }), hostsPath }
  await fs.writeFile(join(dataDir, sessionLockFileName), `${JSON.stringify(lock)}\n`)
  const snapshot = async () => ({
    hosts: await fs.readFile(hostsPath, 'utf8'),
    lease: await fs.readFile(join(dataDir, 'lease.json'), 'utf8').catch(() => undefined),
    lock: await fs.readFile(join(dataDir, sessionLockFileName), 'utf8').catch(() => undefined),
  })
  const revert = () => runBuiltCli(['revert', '--hosts-file', hostsPath, '--yes'], { env: { ACR_BRIDGE_DATA_DIR: dataDir }, timeoutMs: 60_000 })
  return { dataDir, hostsPath, snapshot, revert }
}

describe('acr-bridge revert and the session lock', () => {
  it("a live session's lock: revert refuses (exit 1, names the pid) and changes nothing", async () => {
    const pid = await liveStandIn()
    const start = await readProcessStart(pid)
    expect(start, 'this test needs /proc/<pid>/stat').toBeDefined()
    const box = await leftBySession(pid, start)
    const before = await box.snapshot()
    expect(before.hosts).toContain(HOSTS_BLOCK_BEGIN)
    expect(before.lease).toBeDefined()

    const run = await box.revert()
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toContain(`A running acr-bridge session (pid ${pid}) holds these changes, so revert changed nothing.`)
    expect(run.stderr).toContain(`kill ${pid}`)
    expect(await box.snapshot()).toEqual(before)
  })

  it("a dead session's lock goes together with its lease: hosts file as before, no lease, no lock, nothing else left", async () => {
    const pid = await exitedStandIn()
    const box = await leftBySession(pid, '12345')
    const run = await box.revert()
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('Undid 1 change(s) left by an earlier session:')
    expect(run.stdout).toContain('Removed the session lock the earlier session left.')
    expect(await fs.readFile(box.hostsPath, 'utf8')).toBe(original)
    expect(existsSync(join(box.dataDir, sessionLockFileName))).toBe(false)
    expect(await fs.readdir(box.dataDir)).toEqual([])
  })

  it('a lock whose pid now belongs to another process (another start time, as after a reboot) counts as dead', async () => {
    const pid = await liveStandIn()
    const box = await leftBySession(pid, '1')
    const run = await box.revert()
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('Undid 1 change(s) left by an earlier session:')
    expect(await fs.readFile(box.hostsPath, 'utf8')).toBe(original)
    expect(await fs.readdir(box.dataDir)).toEqual([])
  })

  it('a dead lock with nothing else left: removed, exit 0', async () => {
    const pid = await exitedStandIn()
    const box = await leftBySession(pid, undefined)
    await fs.rm(join(box.dataDir, 'lease.json'))
    await fs.writeFile(box.hostsPath, original)
    await fs.rm(join(box.dataDir, 'hosts.backup'), { force: true })
    const run = await box.revert()
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('holds no acr-bridge block; nothing to do.')
    expect(existsSync(join(box.dataDir, sessionLockFileName))).toBe(false)
  })
})
