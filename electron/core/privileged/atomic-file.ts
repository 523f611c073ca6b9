// Crash-safe file replacement for files this process may write itself.

import { randomBytes } from 'node:crypto'
import { constants, promises as fs } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { BridgeError, errnoCode } from '../errors.js'
import type { Platform } from '../paths.js'
import type { InstallMethod } from './types.js'

const tempAlphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** `.<name>.acr-bridge.<6 random>`, next to the target: the same pattern the elevated script's mktemp uses. */
export function tempPathFor(target: string): string {
  const random = [...randomBytes(6)].map((byte) => tempAlphabet[byte % tempAlphabet.length]).join('')
  return join(dirname(target), `.${basename(target)}.acr-bridge.${random}`)
}

/** Matches temp files left next to `target` by a crash (ours only). */
export function isTempFileOf(target: string, candidate: string): boolean {
  const prefix = `.${basename(target)}.acr-bridge.`
  return candidate.startsWith(prefix) && /^[A-Za-z0-9]{6}$/.test(candidate.slice(prefix.length))
}

/**
 * Removes temp files a killed writer left next to `target` (only names of our own pattern, and only those older
 * than `olderThanMs`: a live write holds its temp file for milliseconds, an elevated one for as long as its copy
 * takes). Files it may not remove (a folder only the elevated step can write) are left for that step. Never throws.
 */
export async function removeStaleTempFiles(target: string, options: { olderThanMs: number; now?: number }): Promise<number> {
  const now = options.now ?? Date.now()
  let removed = 0
  let names: string[]
  try {
    names = await fs.readdir(dirname(target))
  } catch {
    return 0
  }
  for (const name of names) {
    if (!isTempFileOf(target, name)) continue
    const path = join(dirname(target), name)
    try {
      const stat = await fs.lstat(path)
      if (!stat.isFile() || now - stat.mtimeMs < options.olderThanMs) continue
      await fs.rm(path)
      removed++
    } catch {
      // Gone already, or not ours to remove: either way nothing to do here.
    }
  }
  return removed
}

/** fsync a directory so a rename in it survives a power cut. Platforms that cannot (Windows) are skipped. */
export async function fsyncDirectory(dir: string, platform: Platform): Promise<void> {
  if (platform === 'win32') return
  const handle = await fs.open(dir, constants.O_RDONLY)
  try {
    await handle.sync()
  } catch (error) {
    // Some file systems refuse fsync on directories; the rename itself is still atomic there.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF', 'ENOTSUP'].includes(errnoCode(error) ?? '')) throw error
  } finally {
    await handle.close()
  }
}

async function writeAll(handle: fs.FileHandle, content: Uint8Array, position: number): Promise<void> {
  let offset = 0
  while (offset < content.length) {
    const { bytesWritten } = await handle.write(content, offset, content.length - offset, position + offset)
    offset += bytesWritten
  }
}

/**
 * Writes a file of our own (data folder: backup, journal) atomically: temp file in the same folder, write, fsync,
 * rename over the target, fsync the folder. A crash leaves the old file or the new one, and maybe a temp file.
 */
export async function writeFileAtomic(path: string, content: Uint8Array, options: { mode: number; platform: Platform }): Promise<void> {
  const temp = tempPathFor(path)
  const handle = await fs.open(temp, 'wx', options.mode)
  try {
    try {
      await writeAll(handle, content, 0)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temp, path)
  } catch (error) {
    await fs.rm(temp, { force: true })
    throw error
  }
  await fsyncDirectory(dirname(path), options.platform)
}

function changedBehindUs(target: string): BridgeError {
  return new BridgeError('HOSTS_CHANGED_BEHIND_US', `${target} changed while acr-bridge was preparing its change.`, {
    hint: 'Try again; acr-bridge plans the change afresh from the current file.',
    details: { path: target },
  })
}

/** Reads the target and refuses (HOSTS_CHANGED_BEHIND_US) unless it still holds exactly `expected`. */
export async function assertContent(target: string, expected: Uint8Array): Promise<void> {
  const current = await fs.readFile(target)
  if (!current.equals(expected)) throw changedBehindUs(target)
}

/** Error codes of rename that mean "the target cannot be replaced, but can be rewritten": a mount point. */
function isMountPointRename(error: unknown, platform: Platform): boolean {
  const code = errnoCode(error)
  return code === 'EBUSY' || code === 'EXDEV' || (platform === 'win32' && code === 'EPERM')
}

/**
 * Rewrites the target in place (open r+, write, truncate, fsync): for a target that is a mount point. Not atomic:
 * the caller must have journaled the old content first so a torn write can be repaired.
 */
export async function rewriteInPlace(target: string, expected: Uint8Array, content: Uint8Array): Promise<void> {
  await assertContent(target, expected)
  const handle = await fs.open(target, 'r+')
  try {
    await writeAll(handle, content, 0)
    await handle.truncate(content.length)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Replaces the content of `target` (a regular file, symlinks already resolved) when it still holds `expected`:
 * temp file in the same folder with the target's mode and owner, fsync, rename, fsync the folder. Falls back to an
 * in-place rewrite when rename cannot replace the target (EBUSY/EXDEV: a bind-mounted file) or the owner cannot be
 * kept (a file we may write but do not own). The caller journals the old content before calling.
 */
export async function replaceFileContent(
  target: string,
  expected: Uint8Array,
  content: Uint8Array,
  options: { platform: Platform },
): Promise<InstallMethod> {
  const stat = await fs.lstat(target)
  if (!stat.isFile()) throw new Error(`replaceFileContent: ${target} is not a regular file (resolve symlinks first)`)
  const temp = tempPathFor(target)
  let keepsOwner = true
  const handle = await fs.open(temp, 'wx', 0o600)
  try {
    try {
      await writeAll(handle, content, 0)
      if (options.platform !== 'win32') {
        try {
          await handle.chown(stat.uid, stat.gid)
        } catch (error) {
          if (errnoCode(error) !== 'EPERM') throw error
          keepsOwner = false
        }
        await handle.chmod(stat.mode & 0o7777)
      }
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (!keepsOwner) {
      await fs.rm(temp, { force: true })
      await rewriteInPlace(target, expected, content)
      return 'in-place'
    }
    await assertContent(target, expected)
    try {
      await fs.rename(temp, target)
    } catch (error) {
      if (!isMountPointRename(error, options.platform)) throw error
      await fs.rm(temp, { force: true })
      await rewriteInPlace(target, expected, content)
      return 'in-place'
    }
  } catch (error) {
    await fs.rm(temp, { force: true })
    throw error
  }
  await fsyncDirectory(dirname(target), options.platform)
  return 'rename'
}
