// A writer killed between creating its temp copy and renaming it leaves `.hosts.acr-bridge.XXXXXX` next to the hosts
// file (in /etc, for the real one). The next apply/revert sweeps the old ones and leaves young ones (a live writer's).
import { promises as fs, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyHostsBlock, revertHostsBlock } from '../../../electron/core/hosts/hosts-manager.js'
import { createPrivilegedWriter } from '../../../electron/core/privileged/privileged-writer.js'
import { createFakeElevator } from '../../unit/privileged/fake-elevator.js'

let dir: string
let hostsPath: string
let dataDir: string

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'acrb-leftover-'))
  hostsPath = join(dir, 'hosts')
  dataDir = join(dir, 'data')
  await fs.writeFile(hostsPath, '127.0.0.1 localhost\n')
})

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

async function plant(name: string, ageMs: number): Promise<string> {
  const path = join(dir, name)
  await fs.writeFile(path, 'half a hosts file')
  const when = (Date.now() - ageMs) / 1000
  utimesSync(path, when, when)
  return path
}

describe('leftover temp files', () => {
  it('apply and revert remove old temp copies of ours, and nothing else', async () => {
    const writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator: createFakeElevator() })
    const oldOne = await plant('.hosts.acr-bridge.Ab3xYz', 120_000)
    const young = await plant('.hosts.acr-bridge.Qq9Rr8', 0)
    const foreign = await plant('.hosts.other-tool.Ab3xYz', 120_000)
    const notOurPattern = await plant('.hosts.acr-bridge.too-long-name', 120_000)

    await applyHostsBlock({
      hostsPath, dataDir, platform: 'linux', writer, takeOver: false,
      entries: [{ address: '127.0.0.1', name: 'registry-vpc.cn-beijing.aliyuncs.com' }],
    })
    const names = await fs.readdir(dir)
    expect(names).not.toContain('.hosts.acr-bridge.Ab3xYz')
    expect(names).toEqual(expect.arrayContaining([young, foreign, notOurPattern].map((p) => p.slice(dir.length + 1))))

    const again = await plant('.hosts.acr-bridge.Zz0Zz0', 120_000)
    await revertHostsBlock({ hostsPath, dataDir, platform: 'linux', writer })
    await expect(fs.access(again)).rejects.toThrow()
    await expect(fs.access(oldOne)).rejects.toThrow()
    await expect(fs.readFile(hostsPath, 'utf8')).resolves.toBe('127.0.0.1 localhost\n')
  })
})
