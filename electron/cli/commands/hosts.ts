import { hostEntriesForConfig } from '../../core/catalog/host-entries.js'
import { loadConfig } from '../../core/config/config-store.js'
import { renderBlockLines } from '../../core/hosts/hosts-plan.js'
import { booleanFlag, requiredFlag } from '../args.js'
import { print, printJson } from '../context.js'
import type { Command } from '../run.js'
import { describeEntry } from './hosts-support.js'

export const hostsCommand: Command = {
  name: 'hosts',
  summary: 'the managed block this config yields',
  usage: 'acr-bridge hosts --config F [--json]',
  flags: { config: 'string', json: 'boolean' },
  async run(args, { io }) {
    const config = await loadConfig(requiredFlag(args, 'config', 'hosts'))
    const entries = hostEntriesForConfig(config)
    const block = renderBlockLines(entries)
    if (booleanFlag(args, 'json')) {
      printJson(io, {
        address: config.listen.address,
        entries: entries.map((e) => ({ address: e.address, name: e.name, ports: e.ports, ...(e.unconfirmed === undefined ? {} : { unconfirmed: e.unconfirmed }) })),
        block: block.join('\n'),
      })
      return 0
    }
    for (const line of block) print(io, line)
    const unconfirmed = entries.filter((e) => e.unconfirmed !== undefined || e.ports.includes(80))
    if (unconfirmed.length > 0) {
      io.stderr.write(`\n${unconfirmed.map((e) => `note: ${describeEntry(e)}${e.unconfirmed === undefined ? '' : `: ${e.unconfirmed}`}`).join('\n')}\n`)
    }
    return 0
  },
}
