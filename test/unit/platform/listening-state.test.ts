import { describe, expect, it } from 'vitest'
import { defaultAliasAddress } from '../../../electron/core/platform/addresses.js'
import { chooseListenStrategy } from '../../../electron/core/platform/listen-strategy.js'
import { listeningState } from '../../../electron/core/platform/listening-state.js'

describe('listeningState: the strategy in use as the window shows it', () => {
  it('a redirected session: the public ports, the real bound high ports, the alias and the reasons', () => {
    const strategy = chooseListenStrategy({ platform: 'linux', engines: ['rootless-docker'], isPrivileged: false, unprivilegedPortStart: 1024, ports: { tls: 443, http: 80 } })
    const state = listeningState(strategy, { address: '127.0.0.1', port: 38211, httpPort: 40111, proxyPort: 3129 } as { address: string; port: number; httpPort?: number })
    expect(state).toEqual({
      mechanism: 'nft-redirect',
      hostsAddress: defaultAliasAddress,
      publicPorts: { tls: 443, http: 80 },
      bound: { address: '127.0.0.1', tls: 38211, http: 40111 },
      alias: defaultAliasAddress,
      reasons: strategy.reasons,
      warnings: [],
    })
    // Plain data: survives IPC (structured clone / JSON) unchanged.
    expect(JSON.parse(JSON.stringify(state))).toEqual(state)
  })

  it('a direct session without an HTTP listener or alias leaves those out', () => {
    const strategy = chooseListenStrategy({ platform: 'linux', engines: [], isPrivileged: true, ports: { tls: 443, http: null } })
    const state = listeningState(strategy, { address: '127.0.0.1', port: 443 })
    expect(state).toMatchObject({ mechanism: 'direct', publicPorts: { tls: 443, http: null }, bound: { address: '127.0.0.1', tls: 443 } })
    expect('alias' in state).toBe(false)
    expect('http' in state.bound).toBe(false)
  })
})
