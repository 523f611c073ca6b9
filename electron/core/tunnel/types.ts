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
}
