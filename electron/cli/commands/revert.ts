import { BridgeError } from '../../core/errors.js'
import { readHostsState, revertHostsBlock } from '../../core/hosts/hosts-manager.js'
import { findLease, revertLease } from '../../core/lease/system-changes.js'
import { isProcessPrivileged } from '../../core/privileged/direct-elevator.js'
import { createSudoPromptElevator } from '../../core/privileged/sudo-prompt-elevator.js'
import { liveSessionLock, readSessionLock, removeStaleSessionLock } from '../../core/session/session-lock.js'
import { booleanFlag, type ParsedArgs } from '../args.js'
import { print, type CliContext } from '../context.js'
import type { Command } from '../run.js'
import { cliWriter, confirm, hostsTarget } from './hosts-support.js'

/**
 * A lease left by a session that did not end cleanly (crash, kill -9, reboot): undo everything it lists (hosts
 * block, loopback alias, port redirects) in one privileged step. undefined: there is no lease, fall back to the
 * hosts block alone.
 */
async function revertLeaseIfAny(args: ParsedArgs, context: CliContext, staleLock: boolean): Promise<number | undefined> {
  const { io, platform } = context
  // A session holds the session lock while it runs. The caller found a lock whose process is gone: so is the lease's
  // owner (its pid may belong to another process by now, after a reboot most likely). Without any lock, the pid says.
  const finding = await findLease(context.dataDir, { platform, ...(staleLock ? { isProcessAlive: () => false } : {}) })
  if (finding === undefined) return undefined
  if (finding.ownerAlive && !finding.ours) {
    io.stderr.write(`A running acr-bridge session (PID ${finding.lease.pid}) holds these changes; stop that session instead:\n`)
    for (const line of finding.changes) io.stderr.write(`  ${line}\n`)
    return 1
  }
  if (context.isTty && !booleanFlag(args, 'yes')) {
    print(io, 'An acr-bridge session did not end cleanly and left these changes:')
    for (const line of finding.changes) print(io, `  ${line}`)
    if (!(await confirm(io, 'Undo them all now (one administrator prompt)? [y/N] '))) {
      print(io, 'Nothing changed.')
      return 1
    }
  }
  const result = await revertLease({
    dataDir: context.dataDir,
    platform,
    elevator: createSudoPromptElevator(),
    isPrivileged: isProcessPrivileged(),
    logger: context.logger,
  })
  print(io, `Undid ${finding.changes.length} change(s) left by an earlier session${result.privilegedRun && !isProcessPrivileged() ? ' (elevated)' : ''}:`)
  for (const line of finding.changes) print(io, `  - ${line}`)
  for (const hosts of result.hosts) {
    for (const line of hosts.restored) print(io, `  restored line ${line.line} of ${hosts.hostsPath}: ${line.text}`)
  }
  return 0
}

export const revertCommand: Command = {
  name: 'revert',
  summary: 'undo what a session left behind (hosts block, alias, port redirects), or remove the managed block',
  usage: 'acr-bridge revert [--hosts-file P] [--yes]',
  flags: { 'hosts-file': 'string', yes: 'boolean' },
  async run(args, context) {
    const { io, platform } = context
    const target = hostsTarget(args, context)
    // A running session's changes are its own: it undoes them when it stops. Its lock (pid and start time) says so.
    const lock = await readSessionLock(context.dataDir)
    const holder = lock === undefined ? undefined : await liveSessionLock(context.dataDir)
    if (holder !== undefined) {
      throw new BridgeError('ALREADY_RUNNING', `A running acr-bridge session (pid ${holder.pid}) holds these changes, so revert changed nothing.`, {
        hint: `Stop that session instead (Ctrl-C in its terminal, kill ${holder.pid}, or Disconnect in the app): it undoes its changes itself.`,
        details: { pid: holder.pid },
      })
    }
    const leaseOutcome = await revertLeaseIfAny(args, context, lock !== undefined)
    if (leaseOutcome !== undefined) return leaseOutcome === 0 ? withStaleLockRemoved(context, 0) : leaseOutcome

    if (context.isTty && !booleanFlag(args, 'yes')) {
      const state = await readHostsState(target.path, { dataDir: context.dataDir })
      if (!state.hasBlock && state.takenOver.length === 0 && !state.pendingRepair) {
        print(io, `${target.path} holds no acr-bridge block; nothing to do.`)
        return withStaleLockRemoved(context, 0)
      }
      if (!(await confirm(io, `Remove ${state.entries.length} acr-bridge names from ${target.path}? [y/N] `))) {
        print(io, 'Nothing changed.')
        return 1
      }
    }

    const result = await revertHostsBlock({
      hostsPath: target.path,
      dataDir: context.dataDir,
      platform,
      writer: cliWriter(context),
      logger: context.logger,
      flushResolverCache: target.isSystem,
    })
    if (result.repair.status === 'restored') {
      print(io, `Repaired ${result.realPath}: an interrupted earlier write was rolled back first.`)
    }
    if (!result.changed) {
      print(io, `${result.hostsPath} holds no acr-bridge block; nothing to do.`)
      return withStaleLockRemoved(context, 0)
    }
    print(io, `Removed ${result.removed.length} acr-bridge names from ${result.hostsPath}${result.write?.elevated === true ? ' (elevated)' : ''}.`)
    for (const line of result.restored) print(io, `  restored line ${line.line}: ${line.text}`)
    return withStaleLockRemoved(context, 0)
  },
}

/** The session lock a dead process left (crash, kill -9, reboot) goes too once its changes are undone. */
async function withStaleLockRemoved(context: CliContext, code: number): Promise<number> {
  if (await removeStaleSessionLock(context.dataDir)) print(context.io, 'Removed the session lock the earlier session left.')
  return code
}
