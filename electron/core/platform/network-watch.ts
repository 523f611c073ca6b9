// Notices when this machine's addresses change — Wi-Fi switched, a cable pulled, a VPN up or down — so a running
// session can drop what the change left dead (ANCHORS.md pain point 8: "the tunnel doesn't recover after a network
// switch"). Node has no event for it, and Electron's is renderer-only, so the interface list is read every few
// seconds (machine-facts.ts networkAddresses): a system call and a few objects, nothing a poll of seconds would notice.

import type { Disposable } from '../disposable.js'
import { networkAddresses } from './machine-facts.js'

export interface NetworkChange {
  /** The addresses the machine has now, sorted. */
  readonly addresses: readonly string[]
  /** Addresses it had at the last look and has no more. */
  readonly gone: readonly string[]
  /** Addresses it has now and did not have at the last look. */
  readonly added: readonly string[]
}

export interface NetworkWatchOptions {
  /** The machine's addresses (default: networkAddresses()). */
  readonly readAddresses?: () => readonly string[]
  /** How often to look (default 3000 ms). */
  readonly intervalMs?: number
}

export const defaultNetworkWatchIntervalMs = 3000

/**
 * Calls onChange whenever the machine's addresses differ from the last look (the first look is the baseline: no
 * call). The timer does not keep the process alive; dispose() stops it.
 */
export function watchNetwork(onChange: (change: NetworkChange) => void, options: NetworkWatchOptions = {}): Disposable {
  const read = options.readAddresses ?? (() => networkAddresses())
  let last = new Set(read())
  const timer = setInterval(() => {
    const now = new Set(read())
    const gone = [...last].filter((address) => !now.has(address)).sort()
    const added = [...now].filter((address) => !last.has(address)).sort()
    last = now
    if (gone.length > 0 || added.length > 0) onChange({ addresses: [...now].sort(), gone, added })
  }, options.intervalMs ?? defaultNetworkWatchIntervalMs)
  timer.unref()
  return { dispose: () => clearInterval(timer) }
}
