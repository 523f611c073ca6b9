// From a listen strategy and the bound tunnel to the plan applySystemChanges makes true: the one place where the
// hosts block's address, the alias and the redirects are put together, so they cannot disagree.

import type { HostsMapping } from '../hosts/hosts-block.js'
import { concreteRedirects, type ListenStrategy } from '../platform/listen-strategy.js'
import type { SystemChangePlan } from './system-changes.js'

export interface PlanSystemChangesOptions {
  readonly strategy: ListenStrategy
  /** The tunnel's bound ports (Tunnel.addresses): the redirect targets. */
  readonly bound: { readonly port: number; readonly httpPort?: number }
  /** The names of the active set (catalog HostEntry or plain mappings); their address is replaced by the strategy's. */
  readonly names: readonly { readonly name: string }[]
  readonly hostsPath: string
  readonly takeOver: boolean
  /** Flush the resolver cache: only when hostsPath is the OS hosts file. */
  readonly flushResolverCache: boolean
}

export function planSystemChanges(options: PlanSystemChangesOptions): SystemChangePlan {
  const { strategy } = options
  const entries: HostsMapping[] = options.names.map((entry) => ({ address: strategy.hostsAddress, name: entry.name }))
  const redirects = concreteRedirects(strategy, options.bound)
  return {
    hosts: { hostsPath: options.hostsPath, entries, takeOver: options.takeOver, flushResolverCache: options.flushResolverCache },
    ...(strategy.alias === undefined ? {} : { alias: strategy.alias }),
    ...(redirects.length === 0 ? {} : { redirects }),
  }
}
