// Mode `sni`: one raw TCP connection to the ECS's SNI router per client connection. The tunnel replays the
// client's ClientHello on it, so the router sees exactly what the client sent. Connections come from a small warm
// pool per ECS port (upstream-pool.ts), so a client whose ClientHello names an allowed name does not wait for
// the TCP handshake with the ECS. Only the tunnel's client dials (DialOptions.pooled) use the pool.

import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { BridgeError } from '../errors.js'
import type { Logger } from '../logger.js'
import { connectTcp } from './tcp-connect.js'
import { formatHostPort } from './listen.js'
import type { DialOptions, Dialer, UpstreamTarget } from './types.js'
import { createUpstreamPool, resumeOnFirstDataListener, sumPoolStats, type UpstreamPool, type UpstreamPoolSettings } from './upstream-pool.js'

export interface SniDialerOptions {
  /** The proxy ECS (tunnel.host). */
  readonly host: string
  /** Its SNI router port, used for port-443 targets (tunnel.port). */
  readonly port: number
  /** Its Host-routing HTTP port, used for port-80 targets (tunnel.httpPort, default 80). */
  readonly httpPort?: number
  /** Default time limit for one connect (15 s); a dial's own timeoutMs wins. */
  readonly connectTimeoutMs?: number
  /** The warm pool's rules (defaults: 2 per port, 3 s idle, cold after 30 s); false: dial every time. */
  readonly pool?: UpstreamPoolSettings | false
  readonly logger?: Logger
}

export function createSniDialer(options: SniDialerOptions): Dialer {
  const httpPort = options.httpPort ?? 80
  const defaultTimeoutMs = options.connectTimeoutMs ?? 15_000
  const pools = new Map<number, UpstreamPool<Socket>>()
  let closed = false

  const connect = (port: number, field: string, dial: { readonly signal?: AbortSignal; readonly timeoutMs: number }): Promise<Socket> =>
    connectTcp({
      host: options.host,
      port,
      timeoutMs: dial.timeoutMs,
      ...(dial.signal === undefined ? {} : { signal: dial.signal }),
      role: 'proxy ECS',
      field: `tunnel.host and ${field}`,
    })

  const poolFor = (port: number, field: string): UpstreamPool<Socket> | undefined => {
    if (options.pool === false || closed) return undefined
    let pool = pools.get(port)
    if (pool === undefined) {
      pool = createUpstreamPool<Socket>({
        connectTimeoutMs: defaultTimeoutMs,
        ...options.pool,
        label: `proxy ECS ${formatHostPort(options.host, port)}`,
        connect: (dial) => connect(port, field, dial),
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      })
      pools.set(port, pool)
    }
    return pool
  }

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
      const dial = { timeoutMs: dialOptions.timeoutMs ?? defaultTimeoutMs, ...(dialOptions.signal === undefined ? {} : { signal: dialOptions.signal }) }
      const pool = dialOptions.pooled === true ? poolFor(port, field) : undefined
      if (pool === undefined) return connect(port, field, dial)
      const { socket, pooled } = await pool.acquire(dial)
      if (pooled) resumeOnFirstDataListener(socket)
      return socket
    },
    coolDown(): void {
      for (const pool of pools.values()) pool.coolDown()
    },
    poolStats: () => sumPoolStats([...pools.values()].map((pool) => pool.stats())),
    async close(): Promise<void> {
      closed = true
      for (const pool of pools.values()) pool.close()
    },
  }
}
