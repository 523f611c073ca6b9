// The hosts file part against real files: a symlinked hosts file, mode and owner kept (as root, chown to another
// uid first), a bind-mounted hosts file (rename gives EBUSY → in-place rewrite), the backup; each through the direct
// write and through the elevated script (run for real by the fake elevator).

import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyHostsBlock, readHostsState, revertHostsBlock } from '../../../electron/core/hosts/hosts-manager.js'
import { createPrivilegedWriter } from '../../../electron/core/privileged/privileged-writer.js'
import type { PrivilegedWriter } from '../../../electron/core/privileged/types.js'
import { createFakeElevator } from '../../unit/privileged/fake-elevator.js'

const entries = [
  { address: '127.0.0.1', name: 'registry-vpc.cn-beijing.aliyuncs.com' },
  { address: '127.0.0.1', name: 'dockerauth-vpc.cn-beijing.aliyuncs.com' },
]
const original = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# no final line break'

let root: string
const mounts: string[] = []
const immutable: string[] = []

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (chown to another uid, mount --bind); run them as root')
}

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-hosts-it-'))
})

afterEach(async () => {
  while (immutable.length > 0) execFileSync('chattr', ['-i', immutable.pop()!])
  while (mounts.length > 0) {
    const mountPoint = mounts.pop()!
    execFileSync('umount', [mountPoint])
  }
  await fs.rm(root, { recursive: true, force: true })
})

type Path = 'direct' | 'elevated'

function writerFor(path: Path, dataDir: string): PrivilegedWriter {
  return createPrivilegedWriter({
    dataDir,
    platform: 'linux',
    elevator: createFakeElevator({ deny: path === 'direct' }),
    ...(path === 'elevated' ? { canWriteDirectly: async () => false } : {}),
  })
}

for (const path of ['direct', 'elevated'] as const) {
  describe(`hosts file on disk (${path} write)`, () => {
    it('follows a symlinked hosts file: the link stays, its target is updated, revert restores the bytes', async () => {
      const etc = join(root, 'private', 'etc')
      await fs.mkdir(etc, { recursive: true })
      const real = join(etc, 'hosts')
      await fs.writeFile(real, original)
      const link = join(root, 'hosts-link')
      await fs.symlink(real, link)
      const dataDir = join(root, 'data')
      const applied = await applyHostsBlock({ hostsPath: link, dataDir, platform: 'linux', writer: writerFor(path, dataDir), entries, takeOver: false })
      expect(applied.realPath).toBe(real)
      expect(applied.write).toMatchObject({ elevated: path === 'elevated', method: 'rename' })
      expect((await fs.lstat(link)).isSymbolicLink()).toBe(true)
      expect(await fs.readlink(link)).toBe(real)
      expect(await fs.readFile(real, 'utf8')).toContain('registry-vpc.cn-beijing.aliyuncs.com')
      expect(await fs.readFile(join(dataDir, 'hosts.backup'), 'utf8')).toBe(original)
      expect((await readHostsState(link, { dataDir })).hasBlock).toBe(true)
      // Nothing of ours is left next to the real file.
      expect(await fs.readdir(etc)).toEqual(['hosts'])

      await revertHostsBlock({ hostsPath: link, dataDir, platform: 'linux', writer: writerFor(path, dataDir) })
      expect(await fs.readFile(real, 'utf8')).toBe(original)
      expect((await fs.lstat(link)).isSymbolicLink()).toBe(true)
      await expect(fs.access(join(dataDir, 'hosts.backup'))).rejects.toThrow()
    })

    it('keeps mode and owner (the file belongs to another user)', async () => {
      requireRoot()
      const hostsPath = join(root, 'hosts')
      await fs.writeFile(hostsPath, original)
      await fs.chmod(hostsPath, 0o640)
      await fs.chown(hostsPath, 4242, 4343)
      const dataDir = join(root, 'data')
      const inode = (await fs.stat(hostsPath)).ino
      const applied = await applyHostsBlock({ hostsPath, dataDir, platform: 'linux', writer: writerFor(path, dataDir), entries, takeOver: false })
      expect(applied.write?.method).toBe('rename')
      const stat = await fs.stat(hostsPath)
      expect(stat.ino).not.toBe(inode)
      expect(stat.mode & 0o7777).toBe(0o640)
      expect([stat.uid, stat.gid]).toEqual([4242, 4343])
      await revertHostsBlock({ hostsPath, dataDir, platform: 'linux', writer: writerFor(path, dataDir) })
      const reverted = await fs.stat(hostsPath)
      expect(await fs.readFile(hostsPath, 'utf8')).toBe(original)
      expect([reverted.mode & 0o7777, reverted.uid, reverted.gid]).toEqual([0o640, 4242, 4343])
    })

    it('rewrites a bind-mounted hosts file in place (rename gives EBUSY) and ends byte-correct', async () => {
      requireRoot()
      const hostsPath = join(root, 'hosts')
      const backing = join(root, 'netns-hosts')
      await fs.writeFile(hostsPath, 'the file under the mount\n')
      await fs.writeFile(backing, original)
      try {
        execFileSync('mount', ['--bind', backing, hostsPath], { stdio: 'pipe' })
      } catch (error) {
        throw new Error(`mount --bind failed: this test needs root with CAP_SYS_ADMIN (${String(error)})`)
      }
      mounts.push(hostsPath)
      expect(await fs.readFile(hostsPath, 'utf8')).toBe(original)
      // The premise: rename onto a mount point fails with EBUSY.
      await fs.writeFile(join(root, 'probe'), 'x')
      await expect(fs.rename(join(root, 'probe'), hostsPath)).rejects.toMatchObject({ code: 'EBUSY' })
      await fs.rm(join(root, 'probe'))

      const dataDir = join(root, 'data')
      const inode = (await fs.stat(hostsPath)).ino
      const applied = await applyHostsBlock({ hostsPath, dataDir, platform: 'linux', writer: writerFor(path, dataDir), entries, takeOver: false })
      expect(applied.write).toEqual({ elevated: path === 'elevated', method: 'in-place' })
      const text = await fs.readFile(hostsPath, 'utf8')
      expect(text).toBe(
        `${original}\n# >>> acr-bridge managed block: do not edit >>>\n127.0.0.1 registry-vpc.cn-beijing.aliyuncs.com\n` +
          '127.0.0.1 dockerauth-vpc.cn-beijing.aliyuncs.com\n# <<< acr-bridge managed block <<<',
      )
      expect((await fs.stat(hostsPath)).ino).toBe(inode)
      expect(await fs.readFile(backing, 'utf8')).toBe(text)
      expect((await readHostsState(hostsPath, { dataDir })).pendingRepair).toBe(false)
      expect((await fs.readdir(root)).sort()).toEqual(['data', 'hosts', 'netns-hosts'])

      await revertHostsBlock({ hostsPath, dataDir, platform: 'linux', writer: writerFor(path, dataDir) })
      expect(await fs.readFile(hostsPath, 'utf8')).toBe(original)
      expect(await fs.readFile(backing, 'utf8')).toBe(original)
    })
  })
}

describe('hosts file on disk (direct write refused by the OS)', () => {
  it('falls back to one elevated run when access() allowed a write the OS then refuses (as with Windows ACLs)', async () => {
    requireRoot()
    const etc = join(root, 'etc')
    await fs.mkdir(etc)
    const hostsPath = join(etc, 'hosts')
    await fs.writeFile(hostsPath, original)
    try {
      execFileSync('chattr', ['+i', etc], { stdio: 'pipe' })
    } catch (error) {
      throw new Error(`chattr +i failed: this test needs root on a file system with immutable flags (${String(error)})`)
    }
    immutable.push(etc)
    const dataDir = join(root, 'data')
    const elevator = createFakeElevator()
    const writer = createPrivilegedWriter({ dataDir, platform: 'linux', elevator, canWriteDirectly: async () => true })
    const error = await applyHostsBlock({ hostsPath, dataDir, platform: 'linux', writer, entries, takeOver: false }).then(
      () => undefined,
      (failure: unknown) => failure,
    )
    // The immutable folder refuses root too, so the elevated script fails as well: but it was tried, once.
    expect(elevator.runs).toHaveLength(1)
    expect(error).toMatchObject({ code: 'ELEVATION_FAILED' })
    expect(await fs.readFile(hostsPath, 'utf8')).toBe(original)
    expect((await readHostsState(hostsPath, { dataDir })).pendingRepair).toBe(false)
  })
})
