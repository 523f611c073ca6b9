// The write journal: before every write of the hosts file, the old bytes and the hash of the new ones go to
// `<dataDir>/hosts.journal.json` (atomically). After the write it is removed. A journal found later means a write
// was interrupted; repairHosts (hosts-manager.ts) then decides from the file's content what happened.

import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { errnoCode } from '../errors.js'
import type { Platform } from '../paths.js'
import { writeFileAtomic } from '../privileged/atomic-file.js'

export const journalFileName = 'hosts.journal.json'
export const backupFileName = 'hosts.backup'

export interface HostsJournal {
  readonly version: 1
  /** The real path that was being written. */
  readonly target: string
  readonly oldSha256: string
  readonly newSha256: string
  /** The old content, base64: what repair restores. */
  readonly old: string
  /** The new content, base64: what a torn write is recognised by. */
  readonly next: string
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function journalPath(dataDir: string): string {
  return join(dataDir, journalFileName)
}

export async function writeJournal(
  dataDir: string,
  entry: { target: string; old: Uint8Array; next: Uint8Array },
  platform: Platform,
): Promise<void> {
  const journal: HostsJournal = {
    version: 1,
    target: entry.target,
    oldSha256: sha256(entry.old),
    newSha256: sha256(entry.next),
    old: Buffer.from(entry.old).toString('base64'),
    next: Buffer.from(entry.next).toString('base64'),
  }
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 })
  await writeFileAtomic(journalPath(dataDir), Buffer.from(JSON.stringify(journal)), { mode: 0o600, platform })
}

/** The journal, or undefined when there is none (or it is unreadable, which an atomic write never leaves). */
export async function readJournal(dataDir: string): Promise<HostsJournal | undefined> {
  let text: string
  try {
    text = await fs.readFile(journalPath(dataDir), 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const value = JSON.parse(text) as Partial<HostsJournal>
    if (
      value.version !== 1 ||
      typeof value.target !== 'string' ||
      typeof value.oldSha256 !== 'string' ||
      typeof value.newSha256 !== 'string' ||
      typeof value.old !== 'string' ||
      typeof value.next !== 'string'
    ) {
      return undefined
    }
    if (sha256(Buffer.from(value.old, 'base64')) !== value.oldSha256) return undefined
    if (sha256(Buffer.from(value.next, 'base64')) !== value.newSha256) return undefined
    return value as HostsJournal
  } catch {
    return undefined
  }
}

export async function clearJournal(dataDir: string): Promise<void> {
  await fs.rm(journalPath(dataDir), { force: true })
}

/**
 * Could `current` be what an interrupted in-place rewrite of `old` into `next` left behind? That is: a prefix of
 * `next` (the rewrite truncated first), or a byte-wise mix where every byte is the old one, the new one, or zero (a
 * write cut short, pages flushed out of order, or zero-filled by a power cut), with a length between the two.
 * An edit by another program almost never has that shape; for those, repair leaves the file alone.
 */
export function looksTorn(current: Uint8Array, old: Uint8Array, next: Uint8Array): boolean {
  const isPrefixOfNext = current.length < next.length && current.every((byte, index) => byte === next[index])
  if (isPrefixOfNext) return true
  const low = Math.min(old.length, next.length)
  const high = Math.max(old.length, next.length)
  if (current.length < low || current.length > high) return false
  for (let index = 0; index < current.length; index += 1) {
    const byte = current[index]
    if (byte !== old[index] && byte !== next[index] && byte !== 0) return false
  }
  return true
}
