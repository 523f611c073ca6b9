import { catalogListing, endpointKinds, regions } from '../../core/catalog/index.js'
import { booleanFlag } from '../args.js'
import { print, printJson } from '../context.js'
import type { Command } from '../run.js'

export const catalogCommand: Command = {
  name: 'catalog',
  summary: 'regions and endpoint kinds',
  usage: 'acr-bridge catalog [--json]',
  flags: { json: 'boolean' },
  async run(args, { io }) {
    if (booleanFlag(args, 'json')) {
      printJson(io, catalogListing())
      return 0
    }
    print(io, 'Regions:')
    const idWidth = Math.max(...regions.map((r) => r.id.length))
    for (const region of regions) {
      const flags = [region.status === 'available' ? '' : region.status, region.unconfirmed === true ? 'unconfirmed' : '']
        .filter((f) => f !== '')
        .join(', ')
      print(io, `  ${region.id.padEnd(idWidth)}  ${region.nameEn} / ${region.nameZh}${flags === '' ? '' : `  [${flags}]`}`)
    }
    print(io)
    print(io, 'Endpoint kinds:')
    const kindWidth = Math.max(...endpointKinds.map((k) => k.kind.length))
    for (const kind of endpointKinds) {
      const note = kind.unconfirmed === undefined ? '' : `  [unconfirmed: ${kind.unconfirmed}]`
      print(io, `  ${kind.kind.padEnd(kindWidth)}  ${kind.pattern}  ports ${kind.ports.join(',')}${note}`)
    }
    return 0
  },
}
