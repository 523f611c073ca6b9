// The resolve check of the test host's probes. The host writes a TEMPORARY hosts file, which the OS resolver never
// reads, so the probes get this lookup instead of getaddrinfo: it answers from that file the way the resolver's
// "files" source (nsswitch.conf) answers from /etc/hosts, the first active line that maps the name, and nothing
// else (no DNS: a name the file does not map does not resolve). So "resolves to the listen address" stays an honest
// statement about the file the session wrote, not about the machine's resolver.

import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { hostsFileMappings, type Lookup } from '../../../electron/core/probes/index.js'
import { decodeHosts } from '../../../electron/core/hosts/codec.js'

export function hostsFileLookup(hostsPath: string): Lookup {
  return async (name) => {
    const text = decodeHosts(await readFile(hostsPath)).text
    const mapping = hostsFileMappings(text).get(name.toLowerCase())
    if (mapping === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name} (the hosts file ${hostsPath} does not map it)`), { code: 'ENOTFOUND' })
    }
    return [{ address: mapping.first.address, family: isIP(mapping.first.address) === 6 ? 6 : 4 }]
  }
}
