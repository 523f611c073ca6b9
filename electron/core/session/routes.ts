// Where each name of the active set goes: the local listener(s) clients reach it on, and the upstream hop. Pure;
// `acr-bridge up` prints it, the window may show it.

import type { HostEntry } from '../catalog/types.js'
import type { Config, TunnelMode } from '../config/types.js'
import { formatHostPort } from '../tunnel/listen.js'

export interface NameRoute {
  readonly name: string
  /** The local listener per port the name needs: `127.0.0.1:443` (TLS, by SNI), `127.0.0.1:80` (HTTP, by Host). */
  readonly listen: readonly string[]
  readonly mode: TunnelMode
  /** The upstream hop, without the mode: `203.0.113.10:443, 203.0.113.10:80` (sni), `proxy 203.0.113.10:3128` (connect), `root@203.0.113.10:22` (ssh). */
  readonly upstream: string
}

export function describeRoutes(config: Config, entries: readonly HostEntry[]): NameRoute[] {
  const { listen, tunnel } = config
  return entries.map((entry) => {
    const ports = [...entry.ports].sort((a, b) => b - a) // 443 first
    const local = ports.map((port) => formatHostPort(listen.address, port === 80 ? (listen.httpPort ?? 80) : listen.port))
    let upstream: string
    switch (tunnel.mode) {
      case 'sni':
        upstream = ports.map((port) => formatHostPort(tunnel.host, port === 80 ? (tunnel.httpPort ?? 80) : tunnel.port)).join(', ')
        break
      case 'connect':
        upstream = `${tunnel.connect?.tls === true ? 'https proxy' : 'proxy'} ${formatHostPort(tunnel.host, tunnel.port)}`
        break
      case 'ssh':
        upstream = `${tunnel.ssh?.username ?? '?'}@${formatHostPort(tunnel.host, tunnel.port)}`
        break
    }
    return { name: entry.name, listen: local, mode: tunnel.mode, upstream }
  })
}
