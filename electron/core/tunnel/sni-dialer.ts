// Mode `sni`: one raw TCP connection to the ECS's SNI router per client connection. The tunnel replays the
// client's ClientHello on it, so the router sees exactly what the client sent.

import type { Duplex } from 'node:stream'
import { BridgeError } from '../errors.js'
import { connectTcp } from './tcp-connect.js'
import type { DialOptions, Dialer, UpstreamTarget } from './types.js'

export interface SniDialerOptions {
  /** The proxy ECS (tunnel.host). */
  readonly host: string
  /** Its SNI router port, used for port-443 targets (tunnel.port). */
  readonly port: number
  /** Its Host-routing HTTP port, used for port-80 targets (tunnel.httpPort, default 80). */
  readonly httpPort?: number
  /** Default time limit for one connect (15 s); a dial's own timeoutMs wins. */
  readonly connectTimeoutMs?: number
}

export function createSniDialer(options: SniDialerOptions): Dialer {
  const httpPort = options.httpPort ?? 80
  return {
    mode: 'sni',
    async dial(target: UpstreamTarget, dialOptions: DialOptions = {}): Promise<Duplex> {
      let port: number
      let field: string
      if (target.port === 443) {
        port = options.port
        field = 'tunnel.port'
      } else if (target.port === 80) {
        port = httpPort
        field = 'tunnel.httpPort'
      } else {
        throw new BridgeError('UPSTREAM_REFUSED', `Mode sni carries only ports 443 and 80, not ${target.name}:${target.port}.`, {
          hint: 'Use mode connect or ssh for other ports.',
        })
      }
      return connectTcp({
        host: options.host,
        port,
        timeoutMs: dialOptions.timeoutMs ?? options.connectTimeoutMs ?? 15_000,
        ...(dialOptions.signal === undefined ? {} : { signal: dialOptions.signal }),
        role: 'proxy ECS',
        field: `tunnel.host and ${field}`,
      })
    },
    async close(): Promise<void> {},
  }
}
