import { readHostsState, revertHostsBlock } from '../../core/hosts/hosts-manager.js'
import { booleanFlag } from '../args.js'
import { print } from '../context.js'
import type { Command } from '../run.js'
import { cliWriter, confirm, hostsTarget } from './hosts-support.js'

export const revertCommand: Command = {
  name: 'revert',
  summary: 'remove the managed block (and restore lines it took over)',
  usage: 'acr-bridge revert [--hosts-file P] [--yes]',
  flags: { 'hosts-file': 'string', yes: 'boolean' },
  async run(args, context) {
    const { io, platform } = context
    const target = hostsTarget(args, context)

    if (context.isTty && !booleanFlag(args, 'yes')) {
      const state = await readHostsState(target.path, { dataDir: context.dataDir })
      if (!state.hasBlock && state.takenOver.length === 0 && !state.pendingRepair) {
        print(io, `${target.path} holds no acr-bridge block; nothing to do.`)
        return 0
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
      return 0
    }
    print(io, `Removed ${result.removed.length} acr-bridge names from ${result.hostsPath}${result.write?.elevated === true ? ' (elevated)' : ''}.`)
    for (const line of result.restored) print(io, `  restored line ${line.line}: ${line.text}`)
    return 0
  },
}
