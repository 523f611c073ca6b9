// Every change a session makes to the machine, made and undone crash-safely, with ONE privileged step each way.
//
//   applySystemChanges(plan, deps)  — hosts block + loopback alias + port redirects, in one privileged run
//   revertSystemChanges(deps)       — undoes exactly what the lease lists, in reverse order, in one privileged run
//   findLease(dataDir, options)     — at app/CLI start: what a session that did not end cleanly left behind
//   revertLease(deps)               — the same as revertSystemChanges (the name the start-up offer uses)
//
// Build the plan with planSystemChanges (plan.ts) from the listen strategy (platform/listen-strategy.ts) once the
// tunnel is bound. Order of the one apply script: alias, redirects, hosts block, resolver flush (names point at the
// address only once it answers). Revert: hosts block, resolver flush, redirects, alias.
//
// Crash safety: each change is written to the lease (fsync'd) as `pending` before the run and marked `applied`
// after it. Revert undoes every record whatever its state, and each undo is idempotent (a rule or alias that is
// not there any more — e.g. after a reboot, which drops them but keeps the hosts block — is fine), so a crash at
// any point, in apply or in revert, is repaired by running revert again.

import { promises as fs } from 'node:fs'
import { uptime } from 'node:os'
import { join } from 'node:path'
import { BridgeError, errnoCode, isBridgeError } from '../errors.js'
import {
  applyHostsBlock,
  readHostsState,
  revertHostsBlock,
  type HostsApplyResult,
  type HostsRevertResult,
} from '../hosts/hosts-manager.js'
import type { HostsMapping } from '../hosts/hosts-block.js'
import { nullLogger, type Logger } from '../logger.js'
import type { Platform } from '../paths.js'
import { assertCanonicalIpv4, assertPort } from '../platform/addresses.js'
import { localIpv4Addresses } from '../platform/machine-facts.js'
import { createDirectElevator } from '../privileged/direct-elevator.js'
import { elevationNeverRan } from '../privileged/elevation-error.js'
import { parsePfToken, pfHookMissingExitCode, pfTokenFileName, toolMissingExitCode } from '../privileged/network-steps.js'
import { createPrivilegedWriter } from '../privileged/privileged-writer.js'
import { runPrivileged } from '../privileged/run-privileged.js'
import type { CompanionSteps, Elevator, PortRedirect, PrivilegedStep, PrivilegedWriter } from '../privileged/types.js'
import { applyCompanionSteps, revertCompanionSteps } from './steps.js'
import {
  bootChanged,
  clearLease,
  readLease,
  writeLease,
  type BootMark,
  type Lease,
  type LeaseChange,
  type LeaseRecord,
} from './lease-journal.js'

/** What one apply makes true. Build it with planSystemChanges (plan.ts). */
export interface SystemChangePlan {
  /** Our block in a hosts file. */
  readonly hosts?: {
    readonly hostsPath: string
    readonly entries: readonly HostsMapping[]
    /** Comment out other lines that map our names (restored on revert) instead of refusing. */
    readonly takeOver: boolean
    /** Flush the OS resolver cache (only for the OS hosts file). */
    readonly flushResolverCache: boolean
  }
  /** An IPv4 address to put on the loopback interface (skipped when the machine already has it). */
  readonly alias?: string
  /** ADDRESS:port → toPort on this machine (Linux nft, macOS pf; never on Windows). */
  readonly redirects?: readonly PortRedirect[]
}

export interface SystemChangeDeps {
  /** The app's data folder (lease.json, the hosts backup and journal, staging folders). */
  readonly dataDir: string
  readonly platform: Platform
  /** Shows the one OS prompt (createSudoPromptElevator in the app and CLI; a fake in tests). */
  readonly elevator: Elevator
  /** This process already has the rights (root): the script runs without a prompt. */
  readonly isPrivileged?: boolean
  /** The hosts file writer (default: one made from `elevator`); companion steps always go through its elevated run. */
  readonly writer?: PrivilegedWriter
  readonly logger?: Logger
  readonly promptName?: string
  /** Writes the hosts file directly when this returns true and no other step needs privilege (default: access()). */
  readonly canWriteDirectly?: (target: string) => Promise<boolean>
  /** IPv4 addresses this machine has now (default: os.networkInterfaces()). */
  readonly localAddresses?: () => Promise<readonly string[]>
  /** What identifies this boot (default: readBootMark). */
  readonly bootMark?: () => Promise<BootMark>
  readonly now?: () => Date
  /** This process's id, recorded as the lease's owner (default: process.pid). */
  readonly pid?: number
  /** Is the owner of a lease still running? (default: signal 0). */
  readonly isProcessAlive?: (pid: number) => boolean
  /** Wait before re-reading the hosts file after a write (default: 1500 ms on Windows, where Defender acts, else 0). */
  readonly verifyDelayMs?: number
  readonly sleep?: (ms: number) => Promise<void>
}

export interface SystemApplyResult {
  readonly lease: Lease
  readonly hosts: HostsApplyResult | undefined
  /** A privileged run happened (a prompt, unless isPrivileged). */
  readonly privilegedRun: boolean
  /** The alias was added by this apply (false: not asked for, or the machine had it already). */
  readonly aliasAdded: boolean
  /** The earlier lease this apply took over (`adopt`): its owner's pid; undefined when there was none to take over. */
  readonly adoptedFrom?: number
  /** One line per change this run made again or anew (alias, redirects), for the log. */
  readonly made: readonly string[]
  /** One line per change of the lease the plan no longer wants, undone in the same run. */
  readonly removed: readonly string[]
}

export interface SystemRevertResult {
  /** There was a lease to undo. */
  readonly reverted: boolean
  readonly lease: Lease | undefined
  readonly hosts: readonly HostsRevertResult[]
  readonly privilegedRun: boolean
}

export interface LeaseFinding {
  readonly lease: Lease
  /** The process that took the lease still runs (then it is a live session, not a stale lease). */
  readonly ownerAlive: boolean
  /** The lease belongs to this process. */
  readonly ours: boolean
  /** The machine restarted since (aliases and rules are gone already; the hosts block is not). undefined: unknown. */
  readonly rebooted: boolean | undefined
  /** One line per change, for the start-up offer ("acr-bridge left these changes behind: …"). */
  readonly changes: readonly string[]
  /** The names of the hosts block(s) it holds. */
  readonly names: readonly string[]
}

/** Linux: the kernel's boot id; everywhere: the boot time. */
export async function readBootMark(platform: Platform, procRoot = '/proc'): Promise<BootMark> {
  const time = Math.round(Date.now() / 1000 - uptime())
  if (platform !== 'linux') return { time }
  try {
    const id = (await fs.readFile(join(procRoot, 'sys', 'kernel', 'random', 'boot_id'), 'utf8')).trim()
    return id === '' ? { time } : { id, time }
  } catch {
    return { time }
  }
}

function defaultIsProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errnoCode(error) === 'EPERM'
  }
}

function sameChange(a: LeaseChange, b: LeaseChange): boolean {
  switch (a.kind) {
    case 'hosts':
      return b.kind === 'hosts' && a.hostsPath === b.hostsPath
    case 'loopback-alias':
      return b.kind === 'loopback-alias' && a.address === b.address
    case 'port-redirect':
      // One table / anchor holds all our redirects: a new apply replaces it.
      return b.kind === 'port-redirect'
  }
}

/** One line per change, for the start-up offer and `acr-bridge revert`. */
export function describeLeaseChange(change: LeaseChange, platform: Platform): string {
  switch (change.kind) {
    case 'hosts':
      return `the acr-bridge block in ${change.hostsPath} (${change.names.length} names)`
    case 'loopback-alias':
      return `the address ${change.address} on ${platform === 'darwin' ? 'lo0' : 'lo'}`
    case 'port-redirect': {
      const list = change.redirects.map((r) => `${r.address}:${r.port} → ${r.toPort}`).join(', ')
      return change.mechanism === 'nft' ? `the nft table ip acr_bridge (${list})` : `the pf anchor com.apple/acr-bridge (${list})`
    }
  }
}

/** Checks a plan before anything is written (a bad value here is a bug in the caller, not a user error). */
function checkPlan(plan: SystemChangePlan, platform: Platform): void {
  if (platform === 'win32' && (plan.alias !== undefined || (plan.redirects?.length ?? 0) > 0)) {
    throw new Error('applySystemChanges: Windows needs no alias or redirect (the tunnel binds its ports directly)')
  }
  if (plan.alias !== undefined) assertCanonicalIpv4(plan.alias, 'alias')
  for (const redirect of plan.redirects ?? []) {
    assertCanonicalIpv4(redirect.address, 'redirect address')
    assertPort(redirect.port)
    assertPort(redirect.toPort)
  }
}

/** The one privileged run's failures, in the words the user needs. */
function explainRunFailure(error: unknown, platform: Platform): unknown {
  if (!isBridgeError(error, 'ELEVATION_FAILED')) return error
  const text = `${error.message} ${String((error.cause as { stderr?: unknown } | undefined)?.stderr ?? '')}`
  if (text.includes('pf-hook-missing') || text.includes(`exit code ${pfHookMissingExitCode}`)) {
    return new BridgeError('ELEVATION_FAILED', 'The pf configuration of this Mac has no rdr-anchor "com.apple/*" line, so the port redirect cannot work.', {
      hint: 'Restore the stock /etc/pf.conf (it has that line) and load it with sudo pfctl -f /etc/pf.conf, or run acr-bridge as root so it binds 443 itself.',
      cause: error,
    })
  }
  if (text.includes('is not installed') || text.includes(`exit code ${toolMissingExitCode}`)) {
    const tool = /acr-bridge: ([a-z]+ \([a-z0-9]+\)) is not installed/.exec(text)?.[1] ?? 'a required system tool'
    return new BridgeError('ELEVATION_FAILED', `The port redirect needs ${tool}, which is not installed.`, {
      hint:
        platform === 'linux'
          ? 'Install nftables and iproute2 (apt install nftables iproute2), or run acr-bridge as root so it binds 443 itself.'
          : 'Install the missing tool, or run acr-bridge as root so it binds 443 itself.',
      cause: error,
    })
  }
  return error
}

interface Context {
  readonly deps: SystemChangeDeps
  readonly logger: Logger
  readonly elevator: Elevator
  readonly now: () => Date
}

function contextFor(deps: SystemChangeDeps): Context {
  return {
    deps,
    logger: deps.logger ?? nullLogger,
    elevator: deps.isPrivileged === true ? createDirectElevator() : deps.elevator,
    now: deps.now ?? (() => new Date()),
  }
}

function writerFor(context: Context): PrivilegedWriter {
  const { deps } = context
  if (deps.writer !== undefined) return deps.writer
  return createPrivilegedWriter({
    dataDir: deps.dataDir,
    platform: deps.platform,
    elevator: context.elevator,
    logger: context.logger,
    ...(deps.promptName === undefined ? {} : { promptName: deps.promptName }),
    // A privileged process writes the hosts file itself; companion steps still go through one script.
    ...(deps.canWriteDirectly !== undefined
      ? { canWriteDirectly: deps.canWriteDirectly }
      : deps.isPrivileged === true
        ? { canWriteDirectly: async () => true }
        : {}),
  })
}

interface CompanionTracker {
  invoked: boolean
  output: string
}

/** A writer that adds the companion steps to every install, and remembers whether one was attempted. */
function withCompanions(writer: PrivilegedWriter, companions: CompanionSteps, tracker: CompanionTracker): PrivilegedWriter {
  const hasSteps = companions.before.length + companions.after.length > 0
  return {
    async install(request) {
      if (hasSteps) tracker.invoked = true
      const result = await writer.install(request, hasSteps ? companions : undefined)
      tracker.output += result.output ?? ''
      return result
    },
  }
}

/** The companion steps alone, when the hosts file needed no write (or there is none). */
async function runSteps(context: Context, steps: readonly PrivilegedStep[]): Promise<string> {
  const { deps } = context
  const output = await runPrivileged(
    {
      dataDir: deps.dataDir,
      platform: deps.platform,
      elevator: context.elevator,
      logger: context.logger,
      ...(deps.promptName === undefined ? {} : { promptName: deps.promptName }),
    },
    async () => ({ steps }),
  )
  return output.stdout
}

function leaseOf(context: Context, previous: Lease | undefined, records: readonly LeaseRecord[], boot: BootMark): Lease {
  const at = context.now().toISOString()
  return {
    version: 1,
    platform: context.deps.platform,
    pid: context.deps.pid ?? process.pid,
    boot,
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
    records,
  }
}

function leasePending(lease: Lease, ownerAlive: boolean): BridgeError {
  if (ownerAlive) {
    return new BridgeError('LEASE_PENDING', `Another acr-bridge process (PID ${lease.pid}) holds system changes for its session.`, {
      hint: 'Disconnect that session (or quit that acr-bridge) first, then connect again.',
      details: { pid: lease.pid, changes: lease.records.length },
    })
  }
  return new BridgeError('LEASE_PENDING', 'An earlier acr-bridge session did not end cleanly and left system changes behind.', {
    hint: 'Undo them first: acr-bridge revert (or accept the offer in the app), then connect again.',
    details: { pid: lease.pid, changes: lease.records.length },
  })
}

async function verifyHostsBlock(context: Context, hostsPath: string, entries: readonly HostsMapping[]): Promise<void> {
  const { deps } = context
  const delay = deps.verifyDelayMs ?? (deps.platform === 'win32' ? 1500 : 0)
  if (delay > 0) await (deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(delay)
  const state = await readHostsState(hostsPath)
  const present = new Set(state.entries.map((entry) => `${entry.address} ${entry.name.toLowerCase()}`))
  const missing = entries.filter((entry) => !present.has(`${entry.address} ${entry.name.toLowerCase()}`))
  if (state.hasBlock && missing.length === 0) return
  const gone = state.hasBlock ? `${missing.length} of its names` : 'the acr-bridge block'
  if (deps.platform === 'win32') {
    throw new BridgeError('HOSTS_CHANGED_BEHIND_US', `Something removed ${gone} from ${hostsPath} right after acr-bridge wrote it.`, {
      hint:
        'Microsoft Defender resets a hosts file it flags as SettingsModifier:Win32/HostsFileHijack, removing every entry. ' +
        'Open Windows Security > Virus & threat protection > Protection history: if it lists HostsFileHijack, choose ' +
        '"Allow on device" for that item (acr-bridge writes only Alibaba Cloud registry names), then connect again.',
      details: { path: hostsPath, missing: missing.length },
    })
  }
  throw new BridgeError('HOSTS_CHANGED_BEHIND_US', `Something removed ${gone} from ${hostsPath} right after acr-bridge wrote it.`, {
    hint: 'Another program manages this hosts file (a hosts editor, a security tool, a configuration manager); stop it from rewriting the file, then connect again.',
    details: { path: hostsPath, missing: missing.length },
  })
}

/** Is this change of the lease still wanted by the plan? (An unwanted alias or redirect is undone by the apply.) */
function wantedByPlan(change: LeaseChange, plan: SystemChangePlan): boolean {
  switch (change.kind) {
    case 'hosts':
      return plan.hosts !== undefined && plan.hosts.hostsPath === change.hostsPath
    case 'loopback-alias':
      return plan.alias === change.address
    case 'port-redirect':
      return (plan.redirects?.length ?? 0) > 0
  }
}

/**
 * Makes the plan true with ONE privileged run (none at all when nothing needs privilege or nothing changes), writing
 * every change to the lease before it is made. The plan is the whole truth: an alias or a redirect the lease holds
 * that the plan no longer wants (the listen strategy changed) is undone in the same run, behind the hosts write, so
 * that afterwards the lease lists exactly the plan. A lease left by another process is refused (LEASE_PENDING)
 * unless `adopt` is set — the app starting connected after a crash or a reboot takes its earlier lease over (the
 * caller has made sure its owner holds no session any more): what the restart removed is re-created, the hosts block
 * is rewritten for the plan, what the plan does not want is undone, and the lease becomes this process's.
 * Idempotent: applying the same plan again re-creates missing aliases/rules and changes nothing else.
 */
export async function applySystemChanges(
  plan: SystemChangePlan,
  deps: SystemChangeDeps,
  options: { readonly adopt?: boolean } = {},
): Promise<SystemApplyResult> {
  checkPlan(plan, deps.platform)
  const context = contextFor(deps)
  const { logger } = context
  const pid = deps.pid ?? process.pid
  const previous = await readLease(deps.dataDir)
  if (previous !== undefined && previous.pid !== pid && previous.records.length > 0 && options.adopt !== true) {
    throw leasePending(previous, (deps.isProcessAlive ?? defaultIsProcessAlive)(previous.pid))
  }
  const boot = await (deps.bootMark ?? (() => readBootMark(deps.platform)))()
  const adopting = previous !== undefined && previous.pid !== pid && previous.records.length > 0
  // macOS: a pf enable reference does not survive a restart, and a number from the old boot may name someone else's.
  const restarted = adopting && bootChanged(previous.boot, boot) === true
  const records: LeaseRecord[] = (previous?.records ?? []).map((record): LeaseRecord => {
    if (!restarted || record.change.kind !== 'port-redirect' || record.change.pfToken === undefined) return record
    const { pfToken: _stale, ...change } = record.change
    return { ...record, change }
  })
  const otherHosts = records.find((record) => record.change.kind === 'hosts' && !wantedByPlan(record.change, plan))?.change
  if (otherHosts?.kind === 'hosts') {
    throw new BridgeError('LEASE_PENDING', `An earlier acr-bridge session changed another hosts file (${otherHosts.hostsPath}).`, {
      hint: 'Undo the earlier changes first: acr-bridge revert (or Revert in the app), then connect again.',
      details: { pid: previous?.pid ?? pid, hostsPath: otherHosts.hostsPath },
    })
  }
  // Undone in this run, behind the hosts write (names stop pointing at them first); dropped from the lease after it.
  const obsolete = records.filter((record) => !wantedByPlan(record.change, plan)).map((record) => record.change)
  const { after } = revertCompanionSteps(obsolete, deps.platform)
  const upsert = (change: LeaseChange): void => {
    const index = records.findIndex((record) => sameChange(record.change, change))
    if (index === -1) records.push({ change, state: 'pending' })
    else records[index] = { change, state: 'pending' }
  }

  let addAlias: string | undefined
  if (plan.alias !== undefined) {
    const alias = plan.alias
    const recorded = records.some((record) => record.change.kind === 'loopback-alias' && record.change.address === alias)
    const present = (await (deps.localAddresses ?? (async () => localIpv4Addresses()))()).includes(alias)
    if (!present) {
      addAlias = alias
      upsert({ kind: 'loopback-alias', address: alias })
    } else if (!recorded) {
      // Someone else's address: use it, never remove it.
      logger.info(`[platform] ${alias} is already on this machine; acr-bridge uses it and will leave it in place`)
    }
  }
  const redirects = plan.redirects ?? []
  const previousRedirect = records.find((record) => record.change.kind === 'port-redirect')?.change
  const releasePfToken = previousRedirect?.kind === 'port-redirect' ? previousRedirect.pfToken : undefined
  if (redirects.length > 0) {
    upsert({
      kind: 'port-redirect',
      mechanism: deps.platform === 'darwin' ? 'pf' : 'nft',
      redirects,
      ...(releasePfToken === undefined ? {} : { pfToken: releasePfToken }),
    })
  }
  const { before } = applyCompanionSteps({
    platform: deps.platform,
    redirects,
    ...(addAlias === undefined ? {} : { addAlias }),
    ...(releasePfToken === undefined ? {} : { releasePfToken }),
  })
  const aliasAdded = addAlias !== undefined
  if (plan.hosts !== undefined) {
    upsert({
      kind: 'hosts',
      hostsPath: plan.hosts.hostsPath,
      names: plan.hosts.entries.map((entry) => entry.name),
      flushResolverCache: plan.hosts.flushResolverCache,
    })
  }

  // Written down (fsync'd) before anything is changed.
  const pendingLease = leaseOf(context, previous, records, boot)
  await writeLease(deps.dataDir, pendingLease)

  const tracker: CompanionTracker = { invoked: false, output: '' }
  let hosts: HostsApplyResult | undefined
  let privilegedRun = false
  try {
    if (plan.hosts !== undefined) {
      hosts = await applyHostsBlock({
        hostsPath: plan.hosts.hostsPath,
        dataDir: deps.dataDir,
        platform: deps.platform,
        writer: withCompanions(writerFor(context), { before, after }, tracker),
        logger,
        entries: plan.hosts.entries,
        takeOver: plan.hosts.takeOver,
        flushResolverCache: plan.hosts.flushResolverCache,
      })
      privilegedRun = tracker.invoked || hosts.write?.elevated === true
    }
    if (!tracker.invoked && before.length + after.length > 0) {
      tracker.output += await runSteps(context, [...before, ...after])
      privilegedRun = true
    }
  } catch (error) {
    if (elevationNeverRan(error) || (isBridgeError(error, 'HOSTS_CONFLICT') && !tracker.invoked)) {
      // Nothing ran (the prompt was cancelled or could not be shown; a conflict found before any run): the lease goes
      // back to what it was.
      if (previous === undefined) await clearLease(deps.dataDir, deps.platform)
      else await writeLease(deps.dataDir, previous)
    }
    // Otherwise a step may have run: the pending records stay so that revert undoes them.
    throw explainRunFailure(error, deps.platform)
  }

  const token = parsePfToken(tracker.output)
  const applied = records.filter((record) => !obsolete.includes(record.change)).map((record): LeaseRecord => {
    if (record.change.kind === 'port-redirect' && redirects.length > 0 && token !== undefined) {
      return { change: { ...record.change, pfToken: token }, state: 'applied' }
    }
    return { change: record.change, state: 'applied' }
  })
  if (deps.platform === 'darwin' && redirects.length > 0 && token === undefined) {
    logger.warn('[platform] pfctl -E printed no token: pf may not be enabled, so the redirect may not work')
  }
  const lease = leaseOf(context, previous, applied, boot)
  await writeLease(deps.dataDir, lease)
  logger.info(`[platform] system changes applied: ${applied.map((record) => describeLeaseChange(record.change, deps.platform)).join('; ')}`)
  const made = applied
    .filter((record) => (record.change.kind === 'loopback-alias' && aliasAdded) || (record.change.kind === 'port-redirect' && redirects.length > 0))
    .map((record) => describeLeaseChange(record.change, deps.platform))
  const removed = obsolete.map((change) => describeLeaseChange(change, deps.platform))
  if (adopting) {
    logger.info(
      `[platform] took over the lease of pid ${previous.pid}${restarted ? ' (the machine restarted since)' : ''}: ` +
        `made ${made.length === 0 ? 'nothing' : made.join('; ')}; removed ${removed.length === 0 ? 'nothing' : removed.join('; ')}`,
    )
  } else if (removed.length > 0) {
    logger.info(`[platform] undid what the new plan no longer wants: ${removed.join('; ')}`)
  }

  if (plan.hosts !== undefined && hosts?.changed === true) {
    await verifyHostsBlock(context, plan.hosts.hostsPath, plan.hosts.entries)
  }
  return { lease, hosts, privilegedRun, aliasAdded, made, removed, ...(adopting ? { adoptedFrom: previous.pid } : {}) }
}

async function stagingFolders(dataDir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dataDir)).filter((name) => /^elevate-[A-Za-z0-9]{6}$/.test(name)).map((name) => join(dataDir, name))
  } catch {
    return []
  }
}

/** macOS: pf enable references that runs killed before their app recorded the token left in their staging folder. */
async function strayPfTokens(dataDir: string): Promise<string[]> {
  const tokens: string[] = []
  for (const folder of await stagingFolders(dataDir)) {
    const text = await fs.readFile(join(folder, pfTokenFileName), 'utf8').catch(() => '')
    const token = text.trim()
    if (/^[0-9]{1,20}$/.test(token)) tokens.push(token)
  }
  return tokens
}

/** Removes staging folders a killed run left in the data folder (their scripts were never deleted). */
async function sweepStagingFolders(dataDir: string): Promise<void> {
  await Promise.all((await stagingFolders(dataDir)).map((folder) => fs.rm(folder, { recursive: true, force: true })))
}

/**
 * Undoes every change the lease lists, in reverse order, in ONE privileged run (none when nothing is left to undo
 * that needs privilege), then removes the lease. Safe to run again after a failure or a crash halfway: every undo
 * is idempotent, and the lease stays until all of them succeeded.
 */
export async function revertSystemChanges(deps: SystemChangeDeps): Promise<SystemRevertResult> {
  const context = contextFor(deps)
  const lease = await readLease(deps.dataDir)
  if (lease === undefined) return { reverted: false, lease: undefined, hosts: [], privilegedRun: false }
  // Read now, swept only once the revert succeeded: a revert killed halfway must leave them for the next one.
  const stray = deps.platform === 'darwin' ? await strayPfTokens(deps.dataDir) : []
  const reversed = [...lease.records].reverse()
  const { after } = revertCompanionSteps(
    lease.records.map((record) => record.change),
    deps.platform,
    stray,
  )
  const hostsRecords = reversed.flatMap((record) => (record.change.kind === 'hosts' ? [record.change] : []))

  const tracker: CompanionTracker = { invoked: false, output: '' }
  const results: HostsRevertResult[] = []
  let privilegedRun = false
  try {
    for (const [index, change] of hostsRecords.entries()) {
      const companions = index === 0 ? { before: [], after } : { before: [], after: [] }
      try {
        const result = await revertHostsBlock({
          hostsPath: change.hostsPath,
          dataDir: deps.dataDir,
          platform: deps.platform,
          writer: withCompanions(writerFor(context), companions, tracker),
          logger: context.logger,
          flushResolverCache: change.flushResolverCache,
        })
        results.push(result)
        privilegedRun ||= result.write?.elevated === true
      } catch (error) {
        // A hosts file that is gone holds no block of ours.
        if (isBridgeError(error, 'HOSTS_READ_FAILED') && errnoCode(error.cause) === 'ENOENT') {
          context.logger.warn(`[platform] ${change.hostsPath} no longer exists; nothing to remove there`)
          continue
        }
        throw error
      }
    }
    if (!tracker.invoked && after.length > 0) {
      await runSteps(context, after)
    }
    privilegedRun ||= tracker.invoked || after.length > 0
  } catch (error) {
    throw explainRunFailure(error, deps.platform)
  }
  await sweepStagingFolders(deps.dataDir)
  await clearLease(deps.dataDir, deps.platform)
  context.logger.info(`[platform] system changes reverted: ${reversed.map((record) => describeLeaseChange(record.change, deps.platform)).join('; ')}`)
  return { reverted: true, lease, hosts: results, privilegedRun }
}

/** Undo a lease found by findLease, in one privileged step (the start-up offer, `acr-bridge revert`). */
export const revertLease = revertSystemChanges

/**
 * The lease in the data folder, with what the user needs to decide: whether its owner still runs (then it is a
 * live session, leave it alone), whether the machine restarted since, and one line per change. undefined: none.
 */
export async function findLease(
  dataDir: string,
  options: {
    readonly platform: Platform
    readonly pid?: number
    readonly isProcessAlive?: (pid: number) => boolean
    readonly bootMark?: () => Promise<BootMark>
  },
): Promise<LeaseFinding | undefined> {
  const lease = await readLease(dataDir)
  if (lease === undefined) return undefined
  const pid = options.pid ?? process.pid
  const ours = lease.pid === pid
  const ownerAlive = ours || (options.isProcessAlive ?? defaultIsProcessAlive)(lease.pid)
  const now = await (options.bootMark ?? (() => readBootMark(options.platform)))()
  const rebooted = bootChanged(lease.boot, now)
  const changes = lease.records.map((record) => {
    const line = describeLeaseChange(record.change, lease.platform)
    const goneAfterRestart = rebooted === true && record.change.kind !== 'hosts' ? ' (already gone: the machine restarted)' : ''
    return `${line}${record.state === 'pending' ? ' (maybe half-made)' : ''}${goneAfterRestart}`
  })
  const names = lease.records.flatMap((record) => (record.change.kind === 'hosts' ? record.change.names : []))
  return { lease, ownerAlive, ours, rebooted, changes, names }
}
