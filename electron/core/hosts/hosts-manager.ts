// Apply / revert the managed block on a real hosts file, crash-safely. Easy to call from a CLI: a hosts path (any
// file; symlinks followed), a data dir, the platform and a PrivilegedWriter.
//
// Every write goes: repair a pending journal → read → plan → (backup, before the first apply) → journal → write with
// compare-and-swap (the writer refuses if the file changed since it was read; then we plan again) → clear journal.

import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { BridgeError, errnoCode, isBridgeError } from '../errors.js'
import { nullLogger, type Logger } from '../logger.js'
import type { Platform } from '../paths.js'
import { removeStaleTempFiles, writeFileAtomic } from '../privileged/atomic-file.js'
import type { FileInstallResult, PrivilegedWriter } from '../privileged/types.js'
import { decodeHosts, type HostsEncoding } from './codec.js'
import { parseHosts } from './document.js'
import {
  inspectHosts,
  type HostsBlockEntry,
  type HostsMalformation,
  type HostsMapping,
  type TakenOverLine,
} from './hosts-block.js'
import { assertNoBlockingConflicts, planHostsBytes, revertHostsBytes, type HostsConflict, type HostsPlan } from './hosts-plan.js'
import { backupFileName, clearJournal, journalPath, looksTorn, readJournal, writeJournal } from './journal.js'

/** How many times apply/revert plan again when another program changes the file under them. */
const maxAttempts = 5

export interface HostsFileOptions {
  /** The hosts file (the OS one, or `--hosts-file`); a symlink is followed and its target updated. */
  readonly hostsPath: string
  /** The app's data folder: hosts.backup and the write journal live here. */
  readonly dataDir: string
  readonly platform: Platform
  readonly writer: PrivilegedWriter
  readonly logger?: Logger
  /** Flush the OS resolver cache after writing; only meaningful for the OS hosts file. Default false. */
  readonly flushResolverCache?: boolean
}

export interface ApplyHostsOptions extends HostsFileOptions {
  readonly entries: readonly HostsMapping[]
  /** Comment out the user's own lines that map our names (restored on revert) instead of refusing. */
  readonly takeOver: boolean
}

export type HostsRepairStatus =
  /** No interrupted write. */
  | 'none'
  /** A write was interrupted but the file holds the old or the new content: nothing to do. */
  | 'clean'
  /** The file held a torn write: the old content was put back. */
  | 'restored'
  /** The file holds something else (another program wrote it since): left alone. */
  | 'changed-elsewhere'
  /** The file no longer exists: left alone. */
  | 'target-missing'

export interface HostsRepairResult {
  readonly status: HostsRepairStatus
  readonly target?: string
}

export interface HostsApplyResult {
  readonly hostsPath: string
  readonly realPath: string
  readonly changed: boolean
  readonly encoding: HostsEncoding
  readonly added: readonly HostsMapping[]
  readonly removed: readonly HostsMapping[]
  readonly unchanged: readonly HostsMapping[]
  readonly conflicts: readonly HostsConflict[]
  /** The conflicting lines that are commented out after this apply. */
  readonly takenOver: readonly HostsConflict[]
  readonly shadowed: readonly string[]
  /** The copy of the file from before the first apply, when one exists. */
  readonly backupPath: string | undefined
  readonly write: FileInstallResult | undefined
  readonly repair: HostsRepairResult
  readonly attempts: number
}

export interface HostsRevertResult {
  readonly hostsPath: string
  readonly realPath: string
  readonly changed: boolean
  readonly removed: readonly HostsBlockEntry[]
  readonly restored: readonly TakenOverLine[]
  readonly write: FileInstallResult | undefined
  readonly repair: HostsRepairResult
  readonly backupRemoved: boolean
}

export interface HostsState {
  readonly hostsPath: string
  readonly realPath: string
  readonly encoding: HostsEncoding
  /** Our block is in the file (a stale one, if nothing is running: offer revert). */
  readonly hasBlock: boolean
  readonly entries: readonly HostsBlockEntry[]
  readonly takenOver: readonly TakenOverLine[]
  readonly malformed: HostsMalformation | undefined
  /** With a data dir: the backup path when a backup exists. */
  readonly backupPath: string | undefined
  /** With a data dir: an interrupted write waits for repairHosts (apply and revert run it first). */
  readonly pendingRepair: boolean
}

/** Temp files older than this next to the hosts file or in the data folder were left by a killed writer. */
const staleTempAgeMs = 30_000

/** Sweeps what killed writers left: temp copies next to the hosts file and next to our own data files. */
async function removeLeftoverTempFiles(realPath: string, dataDir: string): Promise<void> {
  await Promise.all(
    [realPath, backupPath(dataDir), journalPath(dataDir)].map((target) => removeStaleTempFiles(target, { olderThanMs: staleTempAgeMs })),
  )
}

export function backupPath(dataDir: string): string {
  return join(dataDir, backupFileName)
}

function readFailed(path: string, error: unknown): BridgeError {
  const code = errnoCode(error)
  const message =
    code === 'ENOENT'
      ? `The hosts file ${path} does not exist.`
      : code === 'EACCES' || code === 'EPERM'
        ? `The hosts file ${path} cannot be read (permission denied).`
        : `The hosts file ${path} cannot be read.`
  return new BridgeError('HOSTS_READ_FAILED', message, {
    hint: code === 'ENOENT' ? 'Check the path given with --hosts-file.' : 'Check the file and its permissions, then try again.',
    cause: error,
    details: { path },
  })
}

/** The real file behind `hostsPath` (macOS /etc/hosts → /private/etc/hosts). */
async function resolveTarget(hostsPath: string): Promise<string> {
  let realPath: string
  try {
    realPath = await fs.realpath(hostsPath)
  } catch (error) {
    throw readFailed(hostsPath, error)
  }
  const stat = await fs.stat(realPath).catch((error: unknown) => {
    throw readFailed(hostsPath, error)
  })
  if (!stat.isFile()) {
    throw new BridgeError('HOSTS_READ_FAILED', `The hosts path ${hostsPath} is not a regular file.`, {
      hint: 'Give the path of the hosts file itself with --hosts-file.',
      details: { path: hostsPath },
    })
  }
  return realPath
}

async function readTarget(hostsPath: string, realPath: string): Promise<Buffer> {
  try {
    return await fs.readFile(realPath)
  } catch (error) {
    throw readFailed(hostsPath, error)
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path)
    return true
  } catch {
    return false
  }
}

/**
 * Finishes an interrupted write found in the journal: if the file is the old or the new content, only the journal
 * goes; if it is a torn in-place write, the old content is put back; if another program changed it since, it is
 * left alone. Safe to call at any time (apply and revert call it first; the app may call it at start).
 */
export async function repairHosts(options: {
  readonly dataDir: string
  readonly platform: Platform
  readonly writer: PrivilegedWriter
  readonly logger?: Logger
}): Promise<HostsRepairResult> {
  const logger = options.logger ?? nullLogger
  const journal = await readJournal(options.dataDir)
  if (journal === undefined) {
    // An unreadable journal (only a crash inside the atomic write could leave one, and it cannot) is dropped.
    await clearJournal(options.dataDir)
    return { status: 'none' }
  }
  const target = journal.target
  let current: Buffer
  try {
    current = await fs.readFile(target)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw readFailed(target, error)
    logger.warn(`[hosts] an interrupted write of ${target} was found, but the file no longer exists`)
    await clearJournal(options.dataDir)
    return { status: 'target-missing', target }
  }
  const old = Buffer.from(journal.old, 'base64')
  const next = Buffer.from(journal.next, 'base64')
  if (current.equals(old) || current.equals(next)) {
    await clearJournal(options.dataDir)
    return { status: 'clean', target }
  }
  if (looksTorn(current, old, next)) {
    logger.warn(`[hosts] ${target} holds a torn write; putting back its previous content`)
    await options.writer.install({ target, expected: current, content: old, flushResolverCache: false })
    await clearJournal(options.dataDir)
    return { status: 'restored', target }
  }
  logger.warn(`[hosts] an interrupted write of ${target} was found, but the file has changed since; leaving it alone`)
  await clearJournal(options.dataDir)
  return { status: 'changed-elsewhere', target }
}

interface Computed<T> {
  readonly changed: boolean
  readonly newBytes: Buffer
  readonly value: T
}

/** read → compute → hook → journal → write (CAS) → clear journal; plans again when the file changed under us. */
async function writeWithRetry<T>(
  options: HostsFileOptions,
  realPath: string,
  compute: (bytes: Buffer) => Computed<T>,
  beforeWrite: (bytes: Buffer) => Promise<void>,
): Promise<{ value: T; changed: boolean; write: FileInstallResult | undefined; attempts: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const before = await readTarget(options.hostsPath, realPath)
    const computed = compute(before)
    if (!computed.changed) return { value: computed.value, changed: false, write: undefined, attempts: attempt }
    await beforeWrite(before)
    await writeJournal(options.dataDir, { target: realPath, old: before, next: computed.newBytes }, options.platform)
    try {
      const write = await options.writer.install({
        target: realPath,
        expected: before,
        content: computed.newBytes,
        flushResolverCache: options.flushResolverCache ?? false,
      })
      await clearJournal(options.dataDir)
      return { value: computed.value, changed: true, write, attempts: attempt }
    } catch (error) {
      // The journal decides what the failed write left: nothing, a torn file (put back), or someone else's change.
      try {
        await repairHosts(options)
      } catch (repairError) {
        (options.logger ?? nullLogger).error('[hosts] could not repair after a failed write; the journal is kept', repairError)
      }
      if (isBridgeError(error, 'HOSTS_CHANGED_BEHIND_US') && attempt < maxAttempts) {
        (options.logger ?? nullLogger).info(`[hosts] ${realPath} changed while writing; planning again`)
        continue
      }
      throw error
    }
  }
}

/**
 * Writes `entries` as our block into the hosts file (replacing our block in place, or appending one). Refuses with
 * HOSTS_CONFLICT when other lines map our names and may not (or, without takeOver, were not allowed to) be
 * commented out. Before the first apply (the file holds nothing of ours) the file is copied to
 * `<dataDir>/hosts.backup`. Applying the same entries again changes nothing.
 */
export async function applyHostsBlock(options: ApplyHostsOptions): Promise<HostsApplyResult> {
  const logger = options.logger ?? nullLogger
  const repair = await repairHosts(options)
  const realPath = await resolveTarget(options.hostsPath)
  await removeLeftoverTempFiles(realPath, options.dataDir)
  const backup = backupPath(options.dataDir)
  let encoding: HostsEncoding | undefined
  const outcome = await writeWithRetry(
    options,
    realPath,
    (bytes) => {
      const planned = planHostsBytes(bytes, options.entries, { takeOver: options.takeOver, platform: options.platform })
      assertNoBlockingConflicts(planned.plan)
      encoding = planned.encoding
      return { changed: planned.plan.changed, newBytes: planned.newBytes, value: planned.plan }
    },
    async (bytes) => {
      const inspection = inspectHosts(parseHosts(decodeHosts(bytes).text))
      if (!inspection.hasBlock && inspection.takenOver.length === 0) {
        await fs.mkdir(options.dataDir, { recursive: true, mode: 0o700 })
        await writeFileAtomic(backup, bytes, { mode: 0o600, platform: options.platform })
      }
    },
  )
  const plan = outcome.value
  if (outcome.changed) {
    logger.info(
      `[hosts] applied ${options.entries.length} names to ${realPath} (+${plan.added.length} -${plan.removed.length}` +
        `${outcome.write?.elevated ? ', elevated' : ''}, ${outcome.write?.method ?? 'unknown'})`,
    )
  }
  return {
    hostsPath: options.hostsPath,
    realPath,
    changed: outcome.changed,
    encoding: encoding ?? { charset: 'utf8', bom: false },
    added: plan.added,
    removed: plan.removed,
    unchanged: plan.unchanged,
    conflicts: plan.conflicts,
    takenOver: plan.conflicts.filter((conflict) => conflict.takenOver),
    shadowed: plan.shadowed,
    backupPath: (await exists(backup)) ? backup : undefined,
    write: outcome.write,
    repair,
    attempts: outcome.attempts,
  }
}

/**
 * Removes our block and restores the lines we commented out: the file as it was before apply, byte for byte (plus
 * whatever other programs changed outside our lines since). On success the backup is deleted.
 */
export async function revertHostsBlock(options: HostsFileOptions): Promise<HostsRevertResult> {
  const logger = options.logger ?? nullLogger
  const repair = await repairHosts(options)
  const realPath = await resolveTarget(options.hostsPath)
  await removeLeftoverTempFiles(realPath, options.dataDir)
  const outcome = await writeWithRetry(
    options,
    realPath,
    (bytes) => {
      const reverted = revertHostsBytes(bytes)
      return { changed: reverted.revert.changed, newBytes: reverted.newBytes, value: reverted.revert }
    },
    async () => {},
  )
  const backup = backupPath(options.dataDir)
  const backupRemoved = await exists(backup)
  await fs.rm(backup, { force: true })
  if (outcome.changed) {
    logger.info(`[hosts] removed the acr-bridge block from ${realPath} (${outcome.value.removed.length} names, ${outcome.value.restored.length} lines restored)`)
  }
  return {
    hostsPath: options.hostsPath,
    realPath,
    changed: outcome.changed,
    removed: outcome.value.removed,
    restored: outcome.value.restored,
    write: outcome.write,
    repair,
    backupRemoved,
  }
}

/** What of ours the hosts file holds now (for status, and for offering to revert a block left by a crash). */
export async function readHostsState(hostsPath: string, options: { readonly dataDir?: string } = {}): Promise<HostsState> {
  const realPath = await resolveTarget(hostsPath)
  const bytes = await readTarget(hostsPath, realPath)
  const { encoding, text } = decodeHosts(bytes)
  const inspection = inspectHosts(parseHosts(text))
  const dataDir = options.dataDir
  const backup = dataDir === undefined ? undefined : backupPath(dataDir)
  return {
    hostsPath,
    realPath,
    encoding,
    hasBlock: inspection.hasBlock,
    entries: inspection.entries,
    takenOver: inspection.takenOver,
    malformed: inspection.malformed,
    backupPath: backup !== undefined && (await exists(backup)) ? backup : undefined,
    pendingRepair: dataDir !== undefined && (await exists(journalPath(dataDir))),
  }
}

export interface HostsFilePreview {
  readonly hostsPath: string
  readonly realPath: string
  readonly encoding: HostsEncoding
  /** What apply would do; `plan.blocking` non-empty means apply would refuse with HOSTS_CONFLICT. */
  readonly plan: HostsPlan
}

/** What applyHostsBlock would change, without writing anything (the window's preview, `acr-bridge hosts`). */
export async function previewHostsBlock(options: {
  readonly hostsPath: string
  readonly entries: readonly HostsMapping[]
  readonly takeOver: boolean
  readonly platform: Platform
}): Promise<HostsFilePreview> {
  const realPath = await resolveTarget(options.hostsPath)
  const bytes = await readTarget(options.hostsPath, realPath)
  const planned = planHostsBytes(bytes, options.entries, { takeOver: options.takeOver, platform: options.platform })
  return { hostsPath: options.hostsPath, realPath, encoding: planned.encoding, plan: planned.plan }
}
