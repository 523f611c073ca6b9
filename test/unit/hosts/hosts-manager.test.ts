// The file part on real temp files (direct writes; the elevated path has its own tests in test/unit/privileged).

import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import { HOSTS_BLOCK_BEGIN } from '../../../electron/core/hosts/hosts-block.js'
import { applyHostsBlock, previewHostsBlock, readHostsState, repairHosts, revertHostsBlock } from '../../../electron/core/hosts/hosts-manager.js'
import { journalPath, looksTorn, readJournal, writeJournal } from '../../../electron/core/hosts/journal.js'
import { createPrivilegedWriter } from '../../../electron/core/privileged/privileged-writer.js'
import type { PrivilegedWriter } from '../../../electron/core/privileged/types.js'
import { createFakeElevator } from '../privileged/fake-elevator.js'

const entries = [
  { address: '127.0.0.1', name: 'registry-vpc.cn-beijing.aliyuncs.com' },
  { address: '127.0.0.1', name: 'dockerauth-vpc.cn-beijing.aliyuncs.com' },
]
const original = '127.0.0.1 localhost\r\n# a comment\r\n::1 localhost'

let root: string
let dataDir: string
let hostsPath: string
let writer: PrivilegedWriter

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-manager-'))
  dataDir = join(root, 'data')
  hostsPath = join(root, 'hosts')
  await fs.writeFile(hostsPath, original)
  // The fake elevator would run the script for real, but as root every write here is direct.
  writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator: createFakeElevator({ deny: true }) })
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

const base = () => ({ hostsPath, dataDir, platform: 'linux' as const, writer })

describe('applyHostsBlock / revertHostsBlock', () => {
  it('applies, backs up the pre-apply file, is idempotent, and reverts byte for byte', async () => {
    const applied = await applyHostsBlock({ ...base(), entries, takeOver: false })
    expect(applied).toMatchObject({ changed: true, added: entries, removed: [], attempts: 1, repair: { status: 'none' } })
    expect(applied.write).toEqual({ elevated: false, method: 'rename' })
    expect(applied.backupPath).toBe(join(dataDir, 'hosts.backup'))
    expect(await fs.readFile(join(dataDir, 'hosts.backup'), 'utf8')).toBe(original)
    const text = await fs.readFile(hostsPath, 'utf8')
    expect(text).toContain(`::1 localhost\r\n${HOSTS_BLOCK_BEGIN}\r\n`)
    await expect(fs.access(journalPath(dataDir))).rejects.toThrow()

    const again = await applyHostsBlock({ ...base(), entries, takeOver: false })
    expect(again).toMatchObject({ changed: false, unchanged: entries, write: undefined })
    expect(await fs.readFile(hostsPath, 'utf8')).toBe(text)

    const state = await readHostsState(hostsPath, { dataDir })
    expect(state).toMatchObject({ hasBlock: true, pendingRepair: false, backupPath: join(dataDir, 'hosts.backup') })
    expect(state.entries.map((entry) => entry.name)).toEqual(entries.map((entry) => entry.name))

    const reverted = await revertHostsBlock(base())
    expect(reverted).toMatchObject({ changed: true, backupRemoved: true })
    expect(reverted.removed.map((entry) => entry.name)).toEqual(entries.map((entry) => entry.name))
    expect(await fs.readFile(hostsPath, 'utf8')).toBe(original)
    await expect(fs.access(join(dataDir, 'hosts.backup'))).rejects.toThrow()
    expect(await revertHostsBlock(base())).toMatchObject({ changed: false })
  })

  it('previews without writing anything', async () => {
    await fs.writeFile(hostsPath, `${original}\r\n10.0.0.1 ${entries[0]!.name}\r\n`)
    const preview = await previewHostsBlock({ hostsPath, entries, takeOver: false, platform: 'linux' })
    expect(preview.plan.blocking.map((conflict) => conflict.line)).toEqual([4])
    expect(preview.plan.block).toBe(`${HOSTS_BLOCK_BEGIN}\n127.0.0.1 ${entries[0]!.name}\n127.0.0.1 ${entries[1]!.name}\n# <<< acr-bridge managed block <<<\n`)
    expect(await fs.readFile(hostsPath, 'utf8')).toBe(`${original}\r\n10.0.0.1 ${entries[0]!.name}\r\n`)
    await expect(fs.access(dataDir)).rejects.toThrow()
  })

  it('keeps the first backup when applying over an existing block', async () => {
    await applyHostsBlock({ ...base(), entries, takeOver: false })
    await applyHostsBlock({ ...base(), entries: entries.slice(0, 1), takeOver: false })
    expect(await fs.readFile(join(dataDir, 'hosts.backup'), 'utf8')).toBe(original)
  })

  it('refuses a conflict without take-over and touches nothing', async () => {
    await fs.writeFile(hostsPath, `${original}\r\n10.0.0.1 ${entries[0]!.name}\r\n`)
    const error = await rejection(applyHostsBlock({ ...base(), entries, takeOver: false }))
    expect(isBridgeError(error, 'HOSTS_CONFLICT')).toBe(true)
    expect((error as Error).message).toContain('line 4')
    expect(await fs.readFile(hostsPath, 'utf8')).toBe(`${original}\r\n10.0.0.1 ${entries[0]!.name}\r\n`)
    await expect(fs.access(join(dataDir, 'hosts.backup'))).rejects.toThrow()
  })

  it('plans again when another program changes the file between read and write, and keeps its line', async () => {
    let calls = 0
    const racing: PrivilegedWriter = {
      async install(request) {
        calls += 1
        if (calls === 1) await fs.appendFile(hostsPath, '\r\n10.9.9.9 added-meanwhile.example')
        return writer.install(request)
      },
    }
    const applied = await applyHostsBlock({ ...base(), writer: racing, entries, takeOver: false })
    expect(applied.attempts).toBe(2)
    const text = await fs.readFile(hostsPath, 'utf8')
    expect(text).toContain('10.9.9.9 added-meanwhile.example\r\n')
    expect(text).toContain(HOSTS_BLOCK_BEGIN)
    await revertHostsBlock(base())
    expect(await fs.readFile(hostsPath, 'utf8')).toBe(`${original}\r\n10.9.9.9 added-meanwhile.example`)
  })

  it('gives up with HOSTS_CHANGED_BEHIND_US when the file keeps changing', async () => {
    let calls = 0
    const churning: PrivilegedWriter = {
      async install(request) {
        calls += 1
        await fs.appendFile(hostsPath, `\n# change ${calls}`)
        return writer.install(request)
      },
    }
    const error = await rejection(applyHostsBlock({ ...base(), writer: churning, entries, takeOver: false }))
    expect(isBridgeError(error, 'HOSTS_CHANGED_BEHIND_US')).toBe(true)
    expect(calls).toBe(5)
    expect(await fs.readFile(hostsPath, 'utf8')).not.toContain(HOSTS_BLOCK_BEGIN)
  })

  it('repairs a torn write left by a failed in-place rewrite, then reports the failure', async () => {
    const tearing: PrivilegedWriter = {
      async install(request) {
        const torn = Buffer.concat([Buffer.from(request.content).subarray(0, 30), Buffer.from(request.expected).subarray(30)])
        await fs.writeFile(request.target, torn)
        throw new Error('EIO: simulated crash in the middle of an in-place write')
      },
    }
    const error = await rejection(applyHostsBlock({ ...base(), writer: tearing, entries, takeOver: false }))
    expect((error as Error).message).toContain('simulated crash')
    expect(await fs.readFile(hostsPath, 'utf8')).toBe(original)
    await expect(fs.access(journalPath(dataDir))).rejects.toThrow()
  })

  it('refuses a file whose markers do not pair up, and a missing file', async () => {
    await fs.writeFile(hostsPath, `${original}\n${HOSTS_BLOCK_BEGIN}\n`)
    expect(isBridgeError(await rejection(applyHostsBlock({ ...base(), entries, takeOver: false })), 'HOSTS_READ_FAILED')).toBe(true)
    expect(isBridgeError(await rejection(revertHostsBlock(base())), 'HOSTS_READ_FAILED')).toBe(true)
    expect((await readHostsState(hostsPath)).malformed?.line).toBe(4)
    const missing = await rejection(applyHostsBlock({ ...base(), hostsPath: join(root, 'nope'), entries, takeOver: false }))
    expect(isBridgeError(missing, 'HOSTS_READ_FAILED')).toBe(true)
    expect((missing as Error).message).toContain('does not exist')
  })
})

describe('repairHosts', () => {
  const old = Buffer.from('old content of the hosts file\n')
  const next = Buffer.from('new content, longer than the old content of the hosts file\n')

  it('restores the old content over a torn write and clears the journal', async () => {
    await writeJournal(dataDir, { target: hostsPath, old, next }, 'linux')
    await fs.writeFile(hostsPath, Buffer.concat([next.subarray(0, 12), old.subarray(12)]))
    expect((await readHostsState(hostsPath, { dataDir })).pendingRepair).toBe(true)
    expect(await repairHosts({ dataDir, platform: 'linux', writer })).toEqual({ status: 'restored', target: hostsPath })
    expect((await fs.readFile(hostsPath)).equals(old)).toBe(true)
    expect(await readJournal(dataDir)).toBeUndefined()
  })

  it('only clears the journal when the file holds the old or the new content', async () => {
    for (const content of [old, next]) {
      await writeJournal(dataDir, { target: hostsPath, old, next }, 'linux')
      await fs.writeFile(hostsPath, content)
      expect((await repairHosts({ dataDir, platform: 'linux', writer })).status).toBe('clean')
      expect((await fs.readFile(hostsPath)).equals(content)).toBe(true)
    }
    expect((await repairHosts({ dataDir, platform: 'linux', writer })).status).toBe('none')
  })

  it('leaves a file another program changed since alone', async () => {
    await writeJournal(dataDir, { target: hostsPath, old, next }, 'linux')
    await fs.writeFile(hostsPath, '127.0.0.1 localhost\n# Added by Docker Desktop\n')
    expect((await repairHosts({ dataDir, platform: 'linux', writer })).status).toBe('changed-elsewhere')
    expect(await fs.readFile(hostsPath, 'utf8')).toBe('127.0.0.1 localhost\n# Added by Docker Desktop\n')
  })
})

describe('looksTorn', () => {
  const old = Buffer.from('abcdefghij')
  const next = Buffer.from('ABCDEFGHIJKLMNOP')
  it('recognises what an interrupted in-place rewrite leaves', () => {
    expect(looksTorn(Buffer.from(''), old, next)).toBe(true) // truncated, nothing written yet
    expect(looksTorn(Buffer.from('ABCDE'), old, next)).toBe(true) // truncated, then a prefix written
    expect(looksTorn(Buffer.from('ABCDEfghij'), old, next)).toBe(true) // written over without truncation
    expect(looksTorn(Buffer.from('ABCDE\0\0\0\0\0KL'), old, next)).toBe(true) // pages lost to a power cut
  })
  it('does not mistake an edit for a torn write', () => {
    expect(looksTorn(Buffer.from('abcdefghij # edited'), old, next)).toBe(false)
    expect(looksTorn(Buffer.from('xbcdefghij'), old, next)).toBe(false)
    expect(looksTorn(Buffer.from('ABCDEFGHIJKLMNOPQ'), old, next)).toBe(false)
  })
})
