import type { Duplex } from 'node:stream'
import type { TunnelMode } from '../config/types.js'

/** Where a client connection must end up: the name it asked for and the port it dialed (443 or 80). */
export interface UpstreamTarget {
  readonly name: string
  readonly port: number
}

export interface DialOptions {
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
  /**
   * A client connection of the tunnel (its name already allowed): it may take a connection the dialer made ahead,
   * and it keeps the dialer's warm pool going. Probes and discovery leave it out: they always dial fresh, so they
   * measure a real dial and never keep upstream connections open on their own.
   */
  readonly pooled?: boolean
}

/** Counters of a dialer's warm pool of upstream connections (upstream-pool.ts), summed over its pools. */
export interface DialerPoolStats {
  /** Dials served by a connection made ahead of time. */
  readonly hits: number
  /** Dials that found the pool empty (cold, or drained) and dialed fresh. */
  readonly misses: number
  /** Connections held ready right now. */
  readonly idle: number
  /** Connections the pool made in the background. */
  readonly dialed: number
  /** Background dials that failed and idle connections the peer closed (each one backs off). */
  readonly failures: number
}

/**
 * Opens one upstream stream to `target` through the proxy ECS, in one of the three modes.
 * The probes and discovery dial through the same object, so they work before the hosts file is written.
 */
export interface Dialer {
  readonly mode: TunnelMode
  dial(target: UpstreamTarget, options?: DialOptions): Promise<Duplex>
  /** Tears down pooled or shared connections (the SSH session). */
  close(): Promise<void>
  /**
   * Dialers with a warm pool (sni, connect): closes the idle pooled connections and stops dialing ahead until the
   * next dial. The tunnel calls it when it closes, so a closed tunnel holds no upstream connection.
   */
  coolDown?(): void
  /** Dialers with a warm pool: its counters. */
  poolStats?(): DialerPoolStats
}
