import { createInterface } from 'node:readline'
import type { HostEntry } from '../../core/catalog/types.js'
import type { HostsConflict } from '../../core/hosts/hosts-plan.js'
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
