import { createInterface } from 'node:readline'
import type { HostEntry } from '../../core/catalog/types.js'
import type { HostsConflict } from '../../core/hosts/hosts-plan.js'
import { findLease } from '../../core/lease/system-changes.js'
import { defaultHostsPath } from '../../core/paths.js'
import { createPrivilegedWriter } from '../../core/privileged/privileged-writer.js'
import { createSudoPromptElevator } from '../../core/privileged/sudo-prompt-elevator.js'
import type { PrivilegedWriter } from '../../core/privileged/types.js'
import { stringFlag, type ParsedArgs } from '../args.js'
import type { CliContext, CliIo } from '../context.js'

/** The hosts file a command works on, and whether it is the OS one (only then is the resolver cache flushed). */
export function hostsTarget(args: ParsedArgs, context: CliContext): { path: string; isSystem: boolean } {
  const given = stringFlag(args, 'hosts-file')
  const system = defaultHostsPath(context.platform, context.io.env)
  return { path: given ?? system, isSystem: given === undefined || given === system }
}

/**
 * A lease left by a session that did not end cleanly (crash, kill -9, reboot), told on stderr so that `apply` and
 * `doctor` do not run on top of it unnoticed; `revert` undoes it in one step. A running session's lease is its own
 * business and is not mentioned. Never fails the command: an unreadable journal is reported the same way.
 */
export async function warnAboutStaleLease(context: CliContext): Promise<void> {
  const { io } = context
  try {
    const finding = await findLease(context.dataDir, { platform: context.platform })
    if (finding === undefined || finding.ownerAlive) return
    io.stderr.write('warning: an earlier acr-bridge session did not end cleanly and left these changes in place:\n')
    for (const line of finding.changes) io.stderr.write(`  - ${line}\n`)
    io.stderr.write('Undo them with: acr-bridge revert\n')
  } catch (error) {
    io.stderr.write(`warning: the record of an earlier session's changes cannot be read (${error instanceof Error ? error.message : String(error)}); \`acr-bridge revert\` says more\n`)
  }
}

/** Writes directly when allowed, else one elevation prompt (the same writer the app uses). */
export function cliWriter(context: CliContext): PrivilegedWriter {
  return createPrivilegedWriter({
    dataDir: context.dataDir,
    platform: context.platform,
    elevator: createSudoPromptElevator(),
    logger: context.logger,
  })
}

export function describeEntry(entry: HostEntry): string {
  const ports = entry.ports.join('+')
  const note = entry.unconfirmed === undefined ? '' : '  (unconfirmed)'
  return `${entry.address} ${entry.name}  :${ports}${note}`
}

export function describeConflict(conflict: HostsConflict): string {
  const owner = conflict.owner === 'user' ? 'your line' : `${conflict.owner}'s section`
  return `line ${conflict.line}: ${conflict.address} ${conflict.name} (${owner})`
}

/** Asks once on a terminal; anything but y/yes is no. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  const reader = createInterface({ input: io.stdin, output: io.stderr, terminal: false })
  try {
    io.stderr.write(question)
    const answer = await new Promise<string>((resolve) => {
      reader.once('line', resolve)
      reader.once('close', () => resolve(''))
    })
    return /^\s*y(es)?\s*$/i.test(answer)
  } finally {
    reader.close()
  }
}
