// The lease: `<dataDir>/lease.json`, the list of every system change a session made (hosts block, loopback alias,
// port redirects). A change is written down (atomically: temp file, fsync, rename, fsync the folder) BEFORE the
// privileged run that makes it, as `pending`, and marked `applied` after. Revert undoes every record, whatever its
// state, and removes the file; a file found at start means a session did not end cleanly (crash, kill, reboot).

import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { errnoCode } from '../errors.js'
import type { Platform } from '../paths.js'
import { canonicalIpv4, isPort } from '../platform/addresses.js'
import { fsyncDirectory, writeFileAtomic } from '../privileged/atomic-file.js'
import type { PortRedirect } from '../privileged/types.js'

export const leaseFileName = 'lease.json'

export type LeaseChange =
  /** Our block in a hosts file (the hosts engine keeps the backup and its own write journal). */
  | {
      readonly kind: 'hosts'
      readonly hostsPath: string
      readonly names: readonly string[]
      readonly flushResolverCache: boolean
    }
  /** An address we put on the loopback interface (only recorded when the machine did not have it). */
  | { readonly kind: 'loopback-alias'; readonly address: string }
  /** Our nft table (Linux) or pf anchor + enable reference (macOS). */
  | {
      readonly kind: 'port-redirect'
      readonly mechanism: 'nft' | 'pf'
      readonly redirects: readonly PortRedirect[]
      /** macOS: the pf enable reference to release on revert. */
      readonly pfToken?: string
    }

export type LeaseState = 'pending' | 'applied'

export interface LeaseRecord {
  readonly change: LeaseChange
  readonly state: LeaseState
}

/** What identifies the boot a lease was taken in (aliases and rules do not survive a restart; the hosts block does). */
export interface BootMark {
  /** Linux: /proc/sys/kernel/random/boot_id. */
  readonly id?: string
  /** Boot time, seconds since the epoch (other systems; a few seconds of jitter are normal). */
  readonly time?: number
}

export interface Lease {
  readonly version: 1
  readonly platform: Platform
  /** The process that took the lease. */
  readonly pid: number
  readonly boot: BootMark
  readonly createdAt: string
  readonly updatedAt: string
  readonly records: readonly LeaseRecord[]
}

export function leasePath(dataDir: string): string {
  return join(dataDir, leaseFileName)
}

export async function writeLease(dataDir: string, lease: Lease): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 })
  await writeFileAtomic(leasePath(dataDir), Buffer.from(`${JSON.stringify(lease, null, 2)}\n`), { mode: 0o600, platform: lease.platform })
}

export async function clearLease(dataDir: string, platform: Platform): Promise<void> {
  try {
    await fs.rm(leasePath(dataDir))
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return
    throw error
  }
  await fsyncDirectory(dataDir, platform)
}

function isString(value: unknown): value is string {
  return typeof value === 'string'
}

function parseRedirect(value: unknown): PortRedirect | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Record<string, unknown>
  const address = canonicalIpv4(record['address'])
  if (address === undefined || !isPort(record['port']) || !isPort(record['toPort'])) return undefined
  return { address, port: record['port'], toPort: record['toPort'] }
}

/** Checks one change read from disk; values that will reach a privileged script must be exactly what we wrote. */
function parseChange(value: unknown): LeaseChange | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Record<string, unknown>
  switch (record['kind']) {
    case 'hosts': {
      const names = record['names']
      if (!isString(record['hostsPath']) || !Array.isArray(names) || !names.every(isString) || typeof record['flushResolverCache'] !== 'boolean') {
        return undefined
      }
      return { kind: 'hosts', hostsPath: record['hostsPath'], names, flushResolverCache: record['flushResolverCache'] }
    }
    case 'loopback-alias': {
      const address = canonicalIpv4(record['address'])
      return address === undefined ? undefined : { kind: 'loopback-alias', address }
    }
    case 'port-redirect': {
      const mechanism = record['mechanism']
      const list = record['redirects']
      if ((mechanism !== 'nft' && mechanism !== 'pf') || !Array.isArray(list)) return undefined
      const redirects = list.map(parseRedirect)
      if (redirects.some((redirect) => redirect === undefined)) return undefined
      const token = record['pfToken']
      if (token !== undefined && !(isString(token) && /^[0-9]{1,20}$/.test(token))) return undefined
      return { kind: 'port-redirect', mechanism, redirects: redirects as PortRedirect[], ...(token === undefined ? {} : { pfToken: token }) }
    }
    default:
      return undefined
  }
}

/** Why a lease file could not be used. */
export class UnreadableLeaseError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`The lease file ${path} is unreadable: ${reason}`)
    this.name = 'UnreadableLeaseError'
  }
}

/**
 * The lease, or undefined when there is none. A file that is not exactly what writeLease writes (it cannot be
 * torn: writes are atomic) throws UnreadableLeaseError rather than being guessed at.
 */
export async function readLease(dataDir: string): Promise<Lease | undefined> {
  const path = leasePath(dataDir)
  let text: string
  try {
    text = await fs.readFile(path, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw error
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new UnreadableLeaseError(path, 'not JSON')
  }
  if (typeof json !== 'object' || json === null) throw new UnreadableLeaseError(path, 'not an object')
  const value = json as Record<string, unknown>
  const platform = value['platform']
  const boot = value['boot']
  if (value['version'] !== 1) throw new UnreadableLeaseError(path, 'unknown version')
  if (platform !== 'linux' && platform !== 'darwin' && platform !== 'win32') throw new UnreadableLeaseError(path, 'unknown platform')
  if (typeof value['pid'] !== 'number' || !isString(value['createdAt']) || !isString(value['updatedAt'])) {
    throw new UnreadableLeaseError(path, 'missing fields')
  }
  if (typeof boot !== 'object' || boot === null) throw new UnreadableLeaseError(path, 'missing boot mark')
  const bootRecord = boot as Record<string, unknown>
  const records = value['records']
  if (!Array.isArray(records)) throw new UnreadableLeaseError(path, 'missing records')
  const parsed: LeaseRecord[] = []
  for (const record of records) {
    const state = (record as Record<string, unknown> | null)?.['state']
    const change = parseChange((record as Record<string, unknown> | null)?.['change'])
    if (change === undefined || (state !== 'pending' && state !== 'applied')) throw new UnreadableLeaseError(path, 'a record is malformed')
    parsed.push({ change, state })
  }
  return {
    version: 1,
    platform,
    pid: value['pid'],
    boot: {
      ...(isString(bootRecord['id']) ? { id: bootRecord['id'] } : {}),
      ...(typeof bootRecord['time'] === 'number' ? { time: bootRecord['time'] } : {}),
    },
    createdAt: value['createdAt'],
    updatedAt: value['updatedAt'],
    records: parsed,
  }
}

/** Was the machine restarted since `then` was taken? undefined when it cannot be told. */
export function bootChanged(then: BootMark, now: BootMark): boolean | undefined {
  if (then.id !== undefined && now.id !== undefined) return then.id !== now.id
  if (then.time !== undefined && now.time !== undefined) return Math.abs(then.time - now.time) > 120
  return undefined
}
