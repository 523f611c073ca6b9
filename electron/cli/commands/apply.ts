import { hostEntriesForConfig } from '../../core/catalog/host-entries.js'
import { loadConfig } from '../../core/config/config-store.js'
import { applyHostsBlock, previewHostsBlock } from '../../core/hosts/hosts-manager.js'
import { booleanFlag, requiredFlag } from '../args.js'
import { print } from '../context.js'
import type { Command } from '../run.js'
import { cliWriter, confirm, describeConflict, hostsTarget, warnAboutStaleLease } from './hosts-support.js'

export const applyCommand: Command = {
  name: 'apply',
  summary: 'write the managed block into the hosts file',
  usage: 'acr-bridge apply --config F [--hosts-file P] [--yes]',
  flags: { config: 'string', 'hosts-file': 'string', yes: 'boolean' },
  async run(args, context) {
    const { io, platform } = context
    const config = await loadConfig(requiredFlag(args, 'config', 'apply'))
    const entries = hostEntriesForConfig(config)
    const target = hostsTarget(args, context)
    const takeOver = config.hosts.takeOver
    await warnAboutStaleLease(context)

    if (context.isTty && !booleanFlag(args, 'yes')) {
      const preview = await previewHostsBlock({ hostsPath: target.path, entries, takeOver, platform })
      if (!preview.plan.changed) {
        print(io, `${target.path} already holds this block; nothing to do.`)
        return 0
      }
      const question = `Write ${entries.length} names to ${target.path} (+${preview.plan.added.length} -${preview.plan.removed.length})? [y/N] `
      if (!(await confirm(io, question))) {
        print(io, 'Nothing changed.')
        return 1
      }
    }

    const result = await applyHostsBlock({
      hostsPath: target.path,
      dataDir: context.dataDir,
      platform,
      writer: cliWriter(context),
      logger: context.logger,
      entries,
      takeOver,
      flushResolverCache: target.isSystem,
    })
    if (result.repair.status === 'restored') {
      print(io, `Repaired ${result.realPath}: an interrupted earlier write was rolled back first.`)
    }
    if (!result.changed) {
      print(io, `${result.hostsPath} already holds this block; nothing to do.`)
    } else {
      print(io, `Wrote ${entries.length} names to ${result.hostsPath} (+${result.added.length} -${result.removed.length}${result.write?.elevated === true ? ', elevated' : ''}).`)
      for (const mapping of result.added) print(io, `  + ${mapping.address} ${mapping.name}`)
      for (const mapping of result.removed) print(io, `  - ${mapping.address} ${mapping.name}`)
    }
    for (const conflict of result.takenOver) print(io, `  took over ${describeConflict(conflict)} (restored on revert)`)
    for (const name of result.shadowed) {
      io.stderr.write(`warning: an earlier line of ${result.hostsPath} maps ${name}: resolvers take the first match, so that line wins\n`)
    }
    print(io, 'Undo with: acr-bridge revert' + (target.isSystem ? '' : ` --hosts-file ${target.path}`))
    return 0
  },
}
