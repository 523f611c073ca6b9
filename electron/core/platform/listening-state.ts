// The listen strategy in use, as plain data for the window (SessionState.listening): built from the controller's
// listening() — the strategy it chose and the addresses the tunnel really bound.

import type { ListeningState } from '../../common/status.js'
import type { ListenStrategy } from './listen-strategy.js'

export function listeningState(strategy: ListenStrategy, bound: { readonly address: string; readonly port: number; readonly httpPort?: number }): ListeningState {
  return {
    mechanism: strategy.mechanism,
    hostsAddress: strategy.hostsAddress,
    publicPorts: { tls: strategy.publicPorts.tls, http: strategy.publicPorts.http },
    bound: { address: bound.address, tls: bound.port, ...(bound.httpPort === undefined ? {} : { http: bound.httpPort }) },
    ...(strategy.alias === undefined ? {} : { alias: strategy.alias }),
    reasons: [...strategy.reasons],
    warnings: [...strategy.warnings],
  }
}
