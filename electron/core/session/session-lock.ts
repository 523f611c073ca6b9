// One running session per data folder: `<dataDir>/session.lock` names the process that holds it. A lock whose
// process is gone (crash, kill -9) is stale and is taken over; a live one makes the next start fail ALREADY_RUNNING.

import { randomBytes } from 'node:crypto'
import { promises as fs, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BridgeError, errnoCode } from '../errors.js'

export const sessionLockFileName = 'session.lock'

/** What the lock file holds (JSON). */
export interface SessionLockInfo {
  readonly pid: number
  /** ISO time the session started. */
  readonly startedAt: string
  /**
   * When the OS tells it (Linux: field 22 of /proc/<pid>/stat, clock ticks since boot): the holder's process start
   * time, so that a pid the OS has since given to another process does not count as the holder.
   */
  readonly processStart?: string
  /** The hosts file the session writes. */
  readonly hostsPath: string
}

/** How the lock learns about processes; tests pass their own. */
export interface ProcessProbe {
  /** This process. */
  self(): { readonly pid: number; readonly processStart?: string }
  /** Whether the process that wrote a lock (pid, and start time when recorded) still runs. */
  isAlive(pid: number, processStart: string | undefined): Promise<boolean>
}

export interface SessionLock {
  readonly info: SessionLockInfo
  readonly path: string
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>
}

export function sessionLockPath(dataDir: string): string {
  return join(dataDir, sessionLockFileName)
}

/** The real probe: signal 0 (EPERM counts as alive), and on Linux the start time from /proc. */
export const osProcessProbe: ProcessProbe = {
  self() {
    const processStart = readProcessStartSync(process.pid)
    return { pid: process.pid, ...(processStart === undefined ? {} : { processStart }) }
  },
  async isAlive(pid, processStart) {
    try {
      process.kill(pid, 0)
    } catch (error) {
      if (errnoCode(error) !== 'EPERM') return false
    }
    if (processStart === undefined) return true
    const now = await readProcessStart(pid)
    return now === undefined || now === processStart
  },
}

/** Field 22 (starttime) of /proc/<pid>/stat; undefined where there is no /proc. */
export async function readProcessStart(pid: number): Promise<string | undefined> {
  try {
    return parseProcStat(await fs.readFile(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

function readProcessStartSync(pid: number): string | undefined {
  try {
    // Once per lock, a tiny procfs read: sync so that ProcessProbe.self() stays a plain getter.
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/** `pid (comm) state ppid …`: comm may hold spaces and parentheses, so count fields after the last ')'. */
export function parseProcStat(text: string): string | undefined {
  const close = text.lastIndexOf(')')
  if (close === -1) return undefined
  const fields = text.slice(close + 2).trim().split(/\s+/)
  // fields[0] is field 3 (state); starttime is field 22.
  const value = fields[19]
  return value !== undefined && /^\d+$/.test(value) ? value : undefined
}

/** The lock file's content, or undefined when there is none or it is unreadable (a crash mid-write cannot leave one). */
export async function readSessionLock(dataDir: string): Promise<SessionLockInfo | undefined> {
  let text: string
  try {
    text = await fs.readFile(sessionLockPath(dataDir), 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw dataDirUnwritable(dataDir, error)
  }
  return parseLock(text)
}

function parseLock(text: string): SessionLockInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<SessionLockInfo>
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined
    return {
      pid: value.pid,
      startedAt: typeof value.startedAt === 'string' ? value.startedAt : '',
      ...(typeof value.processStart === 'string' ? { processStart: value.processStart } : {}),
      hostsPath: typeof value.hostsPath === 'string' ? value.hostsPath : '',
    }
  } catch {
    return undefined
  }
}

/** The holder of the lock when it is a live process; undefined when there is no lock or it is stale. */
export async function liveSessionLock(dataDir: string, probe: ProcessProbe = osProcessProbe): Promise<SessionLockInfo | undefined> {
  const info = await readSessionLock(dataDir)
  if (info === undefined) return undefined
  return (await probe.isAlive(info.pid, info.processStart)) ? info : undefined
}

export function alreadyRunning(holder: SessionLockInfo): BridgeError {
  const since = holder.startedAt === '' ? '' : ` since ${holder.startedAt}`
  return new BridgeError('ALREADY_RUNNING', `acr-bridge is already running (pid ${holder.pid}${since}).`, {
    hint: `Stop that session first (Ctrl-C in its terminal, or kill ${holder.pid}), or quit the desktop app.`,
    details: { pid: holder.pid },
  })
}

/**
 * Takes the data folder's session lock: creates the file atomically (hard link of a complete temp file, so no
 * reader ever sees half a lock), takes over a stale one (its process is gone), and fails ALREADY_RUNNING naming the
 * pid of a live holder (this process included: one session per data folder, even within one process).
 */
export async function acquireSessionLock(
  dataDir: string,
  session: { readonly hostsPath: string; readonly startedAt: Date },
  probe: ProcessProbe = osProcessProbe,
): Promise<SessionLock> {
  const self = probe.self()
  const info: SessionLockInfo = {
    pid: self.pid,
    startedAt: session.startedAt.toISOString(),
    ...(self.processStart === undefined ? {} : { processStart: self.processStart }),
    hostsPath: session.hostsPath,
  }
  const content = `${JSON.stringify(info)}\n`
  const path = sessionLockPath(dataDir)
  const temp = join(dataDir, `.${sessionLockFileName}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 })
    await fs.writeFile(temp, content, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    throw dataDirUnwritable(dataDir, error)
  }
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await fs.link(temp, path)
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error
        if (attempt >= 3) throw lockFailed(path, error)
        const text = await fs.readFile(path, 'utf8').catch(() => undefined)
        const holder = text === undefined ? undefined : parseLock(text)
        if (holder !== undefined && (await probe.isAlive(holder.pid, holder.processStart))) throw alreadyRunning(holder)
        // Stale (or unreadable): remove it, but only if it is still the file we judged.
        const again = await fs.readFile(path, 'utf8').catch(() => undefined)
        if (again === text) await fs.rm(path, { force: true })
        continue
      }
      // Two processes taking over the same stale lock: only one of them finds its own content now.
      const written = await fs.readFile(path, 'utf8').catch(() => undefined)
      if (written !== content) {
        const holder = written === undefined ? undefined : parseLock(written)
        if (holder !== undefined) throw alreadyRunning(holder)
        continue
      }
      break
    }
  } finally {
    await fs.rm(temp, { force: true })
  }
  let released = false
  return {
    info,
    path,
    async release() {
      if (released) return
      released = true
      const now = await fs.readFile(path, 'utf8').catch(() => undefined)
      if (now === content) await fs.rm(path, { force: true })
    },
  }
}

/** Removes a lock whose holder is gone; a live holder's lock is left alone. Returns whether one was removed. */
export async function removeStaleSessionLock(dataDir: string, probe: ProcessProbe = osProcessProbe): Promise<boolean> {
  const path = sessionLockPath(dataDir)
  const text = await fs.readFile(path, 'utf8').catch(() => undefined)
  if (text === undefined) return false
  const holder = parseLock(text)
  if (holder !== undefined && (await probe.isAlive(holder.pid, holder.processStart))) return false
  const again = await fs.readFile(path, 'utf8').catch(() => undefined)
  if (again !== text) return false
  await fs.rm(path, { force: true })
  return true
}

/**
 * The data folder holds the lock, the hosts backup and the write journal: without it no hosts write is safe, so this
 * is a HOSTS_WRITE_FAILED. The usual cause is a folder a run with sudo created as root.
 */
function dataDirUnwritable(dataDir: string, error: unknown): BridgeError {
  const code = errnoCode(error) ?? 'error'
  return new BridgeError('HOSTS_WRITE_FAILED', `The acr-bridge data folder ${dataDir} cannot be used (${code}), so no hosts change would be safe.`, {
    hint:
      code === 'EACCES' || code === 'EPERM'
        ? 'Give the folder back to your user (a run with sudo may have created it as root: sudo chown -R "$USER" <folder>), or set ACR_BRIDGE_DATA_DIR to a writable folder.'
        : 'Check the disk and the folder, or set ACR_BRIDGE_DATA_DIR to a writable folder.',
    cause: error,
    details: { dataDir },
  })
}

function lockFailed(path: string, error: unknown): BridgeError {
  return new BridgeError('ALREADY_RUNNING', `Cannot take the session lock ${path} (${errnoCode(error) ?? 'error'}).`, {
    hint: 'Check that the acr-bridge data folder is writable; if no acr-bridge is running, delete the lock file.',
    cause: error,
  })
}
