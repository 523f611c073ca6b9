import { describe, expect, it } from 'vitest'
import type { ListenConfig } from '../../../electron/core/config/types.js'
import { BridgeError } from '../../../electron/core/errors.js'
import type { Platform } from '../../../electron/core/paths.js'
import { defaultAliasAddress } from '../../../electron/core/platform/addresses.js'
import {
  chooseListenStrategy,
  concreteRedirects,
  engineReach,
  type ListenMechanism,
  type ListenOverrides,
  type ListenStrategyInput,
} from '../../../electron/core/platform/listen-strategy.js'
import type { EngineKind } from '../../../electron/core/probes/container-engine.js'
import { listenOverrides } from '../../../electron/core/session/system-changes.js'

const ports = { tls: 443, http: 80 }

function choose(input: Partial<ListenStrategyInput> & Pick<ListenStrategyInput, 'platform'>) {
  return chooseListenStrategy({ engines: [], isPrivileged: false, ports, ...input })
}

describe('chooseListenStrategy: the decision table of docs/platforms.md', () => {
  it('Linux, rootful engine, as root: 127.0.0.1, binds 443/80 itself, changes nothing else', () => {
    const s = choose({ platform: 'linux', engines: ['native'], isPrivileged: true, unprivilegedPortStart: 1024 })
    expect(s).toMatchObject({ mechanism: 'direct', hostsAddress: '127.0.0.1', bindAddress: '127.0.0.1', bindPorts: ports, alias: undefined, redirects: [] })
  })

  it('Linux, rootful engine, unprivileged: high ports on 127.0.0.1 and an nft redirect of 127.0.0.1:443/80', () => {
    const s = choose({ platform: 'linux', engines: ['native'], unprivilegedPortStart: 1024 })
    expect(s).toMatchObject({
      mechanism: 'nft-redirect',
      hostsAddress: '127.0.0.1',
      bindAddress: '127.0.0.1',
      bindPorts: { tls: 0, http: 0 },
      publicPorts: ports,
      alias: undefined,
      redirects: [
        { address: '127.0.0.1', port: 443, listener: 'tls' },
        { address: '127.0.0.1', port: 80, listener: 'http' },
      ],
    })
  })

  it('Linux, no engine found at all: same as a rootful engine', () => {
    expect(choose({ platform: 'linux' }).hostsAddress).toBe('127.0.0.1')
  })

  it('Linux where ordinary users may already bind low ports: direct, no rule', () => {
    const s = choose({ platform: 'linux', unprivilegedPortStart: 80 })
    expect(s.mechanism).toBe('direct')
    expect(s.reasons.join(' ')).toContain('ip_unprivileged_port_start is 80')
    // 443 is allowed but 80 is not: still a redirect.
    expect(choose({ platform: 'linux', unprivilegedPortStart: 443 }).mechanism).toBe('nft-redirect')
    // No HTTP listener: only 443 matters.
    expect(choose({ platform: 'linux', unprivilegedPortStart: 443, ports: { tls: 443, http: null } }).mechanism).toBe('direct')
  })

  it('Linux, rootless engine: an alias outside 127/8 on lo, redirected to the unprivileged tunnel', () => {
    const s = choose({ platform: 'linux', engines: ['rootless-docker'], unprivilegedPortStart: 1024 })
    expect(s).toMatchObject({
      mechanism: 'nft-redirect',
      hostsAddress: defaultAliasAddress,
      alias: defaultAliasAddress,
      bindAddress: '127.0.0.1',
      redirects: [
        { address: defaultAliasAddress, port: 443, listener: 'tls' },
        { address: defaultAliasAddress, port: 80, listener: 'http' },
      ],
    })
    expect(s.reasons.join(' ')).toContain('own network namespace')
    expect(defaultAliasAddress.startsWith('127.')).toBe(false)
  })

  it('Linux, rootless engine, as root: the alias, bound directly', () => {
    const s = choose({ platform: 'linux', engines: ['rootless-docker'], isPrivileged: true })
    expect(s).toMatchObject({ mechanism: 'direct', hostsAddress: defaultAliasAddress, bindAddress: defaultAliasAddress, alias: defaultAliasAddress, bindPorts: ports })
  })

  it('macOS without a VM engine: pf rdr of 127.0.0.1:443/80 to high ports of 127.0.0.1', () => {
    const s = choose({ platform: 'darwin' })
    expect(s).toMatchObject({ mechanism: 'pf-rdr', hostsAddress: '127.0.0.1', bindAddress: '127.0.0.1', bindPorts: { tls: 0, http: 0 }, alias: undefined })
    expect(s.redirects.map((r) => r.address)).toEqual(['127.0.0.1', '127.0.0.1'])
  })

  for (const engine of ['docker-desktop', 'podman-machine', 'colima', 'lima', 'rancher-desktop', 'orbstack'] as const) {
    it(`macOS with ${engine}: a lo0 alias outside 127/8, pf rdr on that address, the tunnel unprivileged on it`, () => {
      const s = choose({ platform: 'darwin', engines: [engine] })
      expect(s).toMatchObject({
        mechanism: 'pf-rdr',
        hostsAddress: defaultAliasAddress,
        alias: defaultAliasAddress,
        // pf rdr keeps the address: the tunnel binds the alias itself, on high ports (allowed without root).
        bindAddress: defaultAliasAddress,
        bindPorts: { tls: 0, http: 0 },
      })
      expect(s.reasons.join(' ')).toContain('inside its VM')
    })
  }

  it('macOS as root (the CLI under sudo): binds the alias directly, no pf rule', () => {
    const s = choose({ platform: 'darwin', engines: ['docker-desktop'], isPrivileged: true })
    expect(s).toMatchObject({ mechanism: 'direct', bindAddress: defaultAliasAddress, bindPorts: ports, alias: defaultAliasAddress, redirects: [] })
  })

  it('Windows without a VM engine: 127.0.0.1, bound directly (no privileged ports), no alias, no redirect', () => {
    const s = choose({ platform: 'win32', engines: ['native'] })
    expect(s).toMatchObject({ mechanism: 'direct', hostsAddress: '127.0.0.1', bindAddress: '127.0.0.1', bindPorts: ports, alias: undefined, redirects: [], followsNetwork: false })
  })

  it('Windows with Docker Desktop (WSL2): the address Docker Desktop gives host.docker.internal, bound directly', () => {
    const s = choose({
      platform: 'win32',
      engines: ['docker-desktop'],
      windows: { dockerDesktopHostAddress: '192.168.1.23', interfaceAddresses: ['10.0.0.5', '192.168.1.23'] },
    })
    expect(s).toMatchObject({ mechanism: 'direct', hostsAddress: '192.168.1.23', bindAddress: '192.168.1.23', followsNetwork: true, alias: undefined })
    expect(s.warnings.join(' ')).toContain('other machines on this network can reach')
  })

  it('Windows with Docker Desktop just after a network change: a host.docker.internal address the machine no longer has is passed over', () => {
    const s = choose({
      platform: 'win32',
      engines: ['docker-desktop'],
      windows: { dockerDesktopHostAddress: '192.168.1.23', interfaceAddresses: ['10.0.0.7'] },
    })
    expect(s).toMatchObject({ hostsAddress: '10.0.0.7', bindAddress: '10.0.0.7', followsNetwork: true })
  })

  it('Windows with a VM engine and no Docker Desktop section: the first usable interface address', () => {
    const s = choose({
      platform: 'win32',
      engines: ['podman-machine'],
      windows: { interfaceAddresses: ['127.0.0.1', '169.254.10.20', '172.28.16.1'] },
    })
    expect(s.hostsAddress).toBe('172.28.16.1')
  })

  it('Windows with a VM engine and no address at all: 127.0.0.1 and a warning that containers will not reach it', () => {
    const s = choose({ platform: 'win32', engines: ['docker-desktop'], windows: { interfaceAddresses: [] } })
    expect(s.hostsAddress).toBe('127.0.0.1')
    expect(s.followsNetwork).toBe(false)
    expect(s.warnings.join(' ')).toContain('no other IPv4 address')
  })

  it('honours the overrides: address, alias on/off, mechanism, fixed high ports', () => {
    expect(choose({ platform: 'linux', overrides: { address: '10.200.10.1' } })).toMatchObject({ hostsAddress: '10.200.10.1', alias: undefined })
    expect(choose({ platform: 'linux', overrides: { address: '10.200.10.1', alias: true } }).alias).toBe('10.200.10.1')
    expect(choose({ platform: 'darwin', engines: ['docker-desktop'], overrides: { alias: false } })).toMatchObject({ hostsAddress: '127.0.0.1', alias: undefined })
    expect(choose({ platform: 'linux', overrides: { mechanism: 'direct' } }).mechanism).toBe('direct')
    expect(choose({ platform: 'linux', isPrivileged: true, overrides: { mechanism: 'redirect' } }).mechanism).toBe('nft-redirect')
    expect(choose({ platform: 'darwin', overrides: { highPorts: { tls: 14443, http: 14080 } } }).bindPorts).toEqual({ tls: 14443, http: 14080 })
    const windows = choose({ platform: 'win32', engines: ['docker-desktop'], overrides: { address: '10.1.2.3', alias: false } })
    expect(windows).toMatchObject({ hostsAddress: '10.1.2.3', alias: undefined, followsNetwork: false })
  })

  it('never asks for an IPv6 redirect (nft table ip, pf inet): an automatic mechanism binds directly and says why', () => {
    const s = choose({ platform: 'linux', overrides: { address: '::1' } })
    expect(s).toMatchObject({ mechanism: 'direct', hostsAddress: '::1', alias: undefined, redirects: [] })
    expect(s.warnings.join(' ')).toMatch(/IPv4/)
  })

  it('classifies engines by where they pull from', () => {
    expect(engineReach('native')).toBe('native')
    expect(engineReach('rootless-docker')).toBe('namespace')
    expect(engineReach('docker-desktop')).toBe('vm')
    expect(engineReach('colima')).toBe('vm')
  })
})

// The overrides (listen.alias, listen.mechanism, listen.highPorts, listen.address) against OS, engine and privilege:
// one row each, with what the strategy must do. `undefined` alias = none added.
interface OverrideRow {
  readonly name: string
  readonly platform: Platform
  readonly engines?: readonly EngineKind[]
  readonly privileged?: boolean
  readonly overrides: ListenOverrides
  readonly mechanism: ListenMechanism
  readonly hostsAddress: string
  readonly alias: string | undefined
  readonly bindPorts?: { readonly tls: number; readonly http: number | null }
}

const overrideRows: readonly OverrideRow[] = [
  { name: 'Linux, no engine, alias always: our alias although no VM engine was found', platform: 'linux', overrides: { alias: true }, mechanism: 'nft-redirect', hostsAddress: defaultAliasAddress, alias: defaultAliasAddress },
  { name: 'macOS, no engine, alias always', platform: 'darwin', overrides: { alias: true }, mechanism: 'pf-rdr', hostsAddress: defaultAliasAddress, alias: defaultAliasAddress },
  { name: 'Linux, rootless engine, alias never: 127.0.0.1', platform: 'linux', engines: ['rootless-docker'], overrides: { alias: false }, mechanism: 'nft-redirect', hostsAddress: '127.0.0.1', alias: undefined },
  { name: 'macOS, Docker Desktop, alias automatic (absent): our alias', platform: 'darwin', engines: ['docker-desktop'], overrides: {}, mechanism: 'pf-rdr', hostsAddress: defaultAliasAddress, alias: defaultAliasAddress },
  { name: 'Linux, own address with alias always: that address on lo', platform: 'linux', overrides: { address: '10.200.10.1', alias: true }, mechanism: 'nft-redirect', hostsAddress: '10.200.10.1', alias: '10.200.10.1' },
  { name: 'Linux, own address with alias never', platform: 'linux', engines: ['rootless-docker'], overrides: { address: '10.200.10.1', alias: false }, mechanism: 'nft-redirect', hostsAddress: '10.200.10.1', alias: undefined },
  { name: 'Linux as root, mechanism redirect: high ports anyway', platform: 'linux', privileged: true, overrides: { mechanism: 'redirect' }, mechanism: 'nft-redirect', hostsAddress: '127.0.0.1', alias: undefined, bindPorts: { tls: 0, http: 0 } },
  { name: 'macOS as root with Docker Desktop, mechanism redirect', platform: 'darwin', engines: ['docker-desktop'], privileged: true, overrides: { mechanism: 'redirect' }, mechanism: 'pf-rdr', hostsAddress: defaultAliasAddress, alias: defaultAliasAddress },
  { name: 'Linux as a user, mechanism direct: binds 443/80 itself (and warns)', platform: 'linux', overrides: { mechanism: 'direct' }, mechanism: 'direct', hostsAddress: '127.0.0.1', alias: undefined, bindPorts: ports },
  { name: 'macOS as a user, mechanism direct with alias always', platform: 'darwin', overrides: { mechanism: 'direct', alias: true }, mechanism: 'direct', hostsAddress: defaultAliasAddress, alias: defaultAliasAddress, bindPorts: ports },
  { name: 'Linux, fixed high ports', platform: 'linux', overrides: { highPorts: { tls: 14443, http: 14080 } }, mechanism: 'nft-redirect', hostsAddress: '127.0.0.1', alias: undefined, bindPorts: { tls: 14443, http: 14080 } },
  { name: 'Linux as root, fixed high ports with automatic mechanism: direct, high ports unused', platform: 'linux', privileged: true, overrides: { highPorts: { tls: 14443, http: 14080 } }, mechanism: 'direct', hostsAddress: '127.0.0.1', alias: undefined, bindPorts: ports },
  { name: 'Linux IPv6 address, mechanism direct', platform: 'linux', overrides: { address: '::1', mechanism: 'direct' }, mechanism: 'direct', hostsAddress: '::1', alias: undefined },
  { name: 'Windows, mechanism direct: as automatic', platform: 'win32', overrides: { mechanism: 'direct' }, mechanism: 'direct', hostsAddress: '127.0.0.1', alias: undefined, bindPorts: ports },
  { name: 'Windows, alias never, Docker Desktop: still the LAN address (no alias is ever added there)', platform: 'win32', engines: ['docker-desktop'], overrides: { alias: false }, mechanism: 'direct', hostsAddress: '192.168.1.23', alias: undefined },
]

// Combinations that make no sense: INVALID_CONFIG naming the field, with a hint, never a silent fallback.
const refusedRows: readonly { readonly name: string; readonly platform: Platform; readonly overrides: ListenOverrides; readonly field: string; readonly message: RegExp }[] = [
  { name: 'Windows, alias always', platform: 'win32', overrides: { alias: true }, field: 'listen.alias', message: /Windows has no loopback aliases/ },
  { name: 'Windows, own address with alias always', platform: 'win32', overrides: { address: '10.1.2.3', alias: true }, field: 'listen.alias', message: /Windows has no loopback aliases/ },
  { name: 'Windows, mechanism redirect', platform: 'win32', overrides: { mechanism: 'redirect' }, field: 'listen.mechanism', message: /Windows needs no redirect/ },
  { name: 'Linux, IPv6 address with alias always', platform: 'linux', overrides: { address: '::1', alias: true }, field: 'listen.alias', message: /not an IPv4 address/ },
  { name: 'macOS, IPv6 address with alias always', platform: 'darwin', overrides: { address: 'fd00::17', alias: true }, field: 'listen.alias', message: /loopback interface/ },
  { name: 'Linux, IPv6 address with mechanism redirect', platform: 'linux', overrides: { address: '::1', mechanism: 'redirect' }, field: 'listen.mechanism', message: /redirect rules are IPv4-only/ },
  { name: 'macOS, IPv6 address with mechanism redirect', platform: 'darwin', overrides: { address: '2001:db8::5', mechanism: 'redirect' }, field: 'listen.mechanism', message: /IPv4-only/ },
]

describe('chooseListenStrategy: the overrides', () => {
  for (const row of overrideRows) {
    it(row.name, () => {
      // Windows offers Docker Desktop's LAN address (used only with a VM engine there).
      const windows = { dockerDesktopHostAddress: '192.168.1.23', interfaceAddresses: [] }
      const s = choose({ platform: row.platform, engines: row.engines ?? [], isPrivileged: row.privileged === true, unprivilegedPortStart: 1024, overrides: row.overrides, windows })
      expect(s.mechanism).toBe(row.mechanism)
      expect(s.hostsAddress).toBe(row.hostsAddress)
      expect(s.alias).toBe(row.alias)
      if (row.bindPorts !== undefined) expect(s.bindPorts).toEqual(row.bindPorts)
      expect(s.redirects.length).toBe(row.mechanism === 'direct' ? 0 : 2)
      expect(s.reasons.length).toBeGreaterThan(0)
    })
  }

  it('says why when an override decided: the settings are named', () => {
    expect(choose({ platform: 'linux', isPrivileged: true, overrides: { mechanism: 'redirect' } }).reasons.join(' ')).toContain('chosen in the settings')
    expect(choose({ platform: 'linux', overrides: { alias: true } }).reasons.join(' ')).toContain('always')
    expect(choose({ platform: 'linux', unprivilegedPortStart: 1024, overrides: { mechanism: 'direct' } }).warnings.join(' ')).toContain('will fail')
    expect(choose({ platform: 'linux', isPrivileged: true, overrides: { mechanism: 'direct' } }).warnings).toEqual([])
    expect(choose({ platform: 'win32', overrides: { highPorts: { tls: 14443, http: 14080 } } }).warnings.join(' ')).toContain('not used on Windows')
  })

  for (const row of refusedRows) {
    it(`refuses: ${row.name}`, () => {
      let caught: unknown
      try {
        choose({ platform: row.platform, overrides: row.overrides })
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(BridgeError)
      const error = caught as BridgeError
      expect(error.code).toBe('INVALID_CONFIG')
      expect(error.field).toBe(row.field)
      expect(error.message).toMatch(row.message)
      expect(error.hint).toMatch(/listen\./)
    })
  }
})

describe('listenOverrides: the config fields the strategy gets', () => {
  const listen: ListenConfig = { address: '127.0.0.1', port: 443, httpPort: 80 }
  it('the defaults are no override at all', () => {
    expect(listenOverrides(listen)).toEqual({})
    expect(listenOverrides({ ...listen, mechanism: 'auto' })).toEqual({})
  })
  it('maps every field the user set', () => {
    expect(listenOverrides({ ...listen, address: '10.0.0.9' })).toEqual({ address: '10.0.0.9' })
    expect(listenOverrides({ ...listen, alias: false })).toEqual({ alias: false })
    expect(listenOverrides({ ...listen, alias: true })).toEqual({ alias: true })
    expect(listenOverrides({ ...listen, mechanism: 'direct' })).toEqual({ mechanism: 'direct' })
    expect(listenOverrides({ ...listen, mechanism: 'redirect' })).toEqual({ mechanism: 'redirect' })
    expect(listenOverrides({ ...listen, address: '10.0.0.9', alias: true, mechanism: 'redirect', highPorts: { tls: 14443, http: 14080 } })).toEqual({
      address: '10.0.0.9',
      alias: true,
      mechanism: 'redirect',
      highPorts: { tls: 14443, http: 14080 },
    })
  })
  it('the mapped config drives the strategy: alias never with a rootless engine keeps 127.0.0.1', () => {
    const s = choose({ platform: 'linux', engines: ['rootless-docker'], overrides: listenOverrides({ ...listen, alias: false, highPorts: { tls: 14443, http: 14080 } }) })
    expect(s).toMatchObject({ hostsAddress: '127.0.0.1', alias: undefined, bindPorts: { tls: 14443, http: 14080 } })
  })
})

describe('concreteRedirects', () => {
  it('targets the bound listener ports', () => {
    const s = choose({ platform: 'linux' })
    expect(concreteRedirects(s, { port: 38211, httpPort: 40111 })).toEqual([
      { address: '127.0.0.1', port: 443, toPort: 38211 },
      { address: '127.0.0.1', port: 80, toPort: 40111 },
    ])
    expect(() => concreteRedirects(s, { port: 38211 })).toThrow(/http listener is not bound/)
    expect(concreteRedirects(choose({ platform: 'linux', isPrivileged: true }), { port: 443, httpPort: 80 })).toEqual([])
  })
})
