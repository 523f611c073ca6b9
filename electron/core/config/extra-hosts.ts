// extraHosts editing: discovery's --save and the window's "add host" use this.

import { parseConfig } from './schema.js'
import type { Config, ExtraHost } from './types.js'

/**
 * A copy of `config` with `hosts` added to extraHosts: names compared case-insensitively, an existing entry keeps
 * its place and gains the new ports, new names are appended in order. An entry whose ports are just [443] is
 * written as a plain name. The result is validated (INVALID_CONFIG names the bad extraHosts entry).
 */
export function addExtraHosts(config: Config, hosts: readonly ExtraHost[]): Config {
  const merged = new Map<string, { name: string; ports: Set<number> }>()
  for (const host of [...config.extraHosts, ...hosts]) {
    const name = typeof host === 'string' ? host : host.name
    const ports = typeof host === 'string' ? [443] : host.ports
    const key = typeof name === 'string' ? name.toLowerCase() : String(name)
    const entry = merged.get(key)
    if (entry === undefined) merged.set(key, { name, ports: new Set(ports) })
    else for (const port of ports) entry.ports.add(port)
  }
  const extraHosts: ExtraHost[] = [...merged.values()].map(({ name, ports }) => {
    const list = [...ports].sort((a, b) => a - b)
    return list.length === 1 && list[0] === 443 ? name : { name, ports: list }
  })
  return parseConfig({ ...config, extraHosts })
}
