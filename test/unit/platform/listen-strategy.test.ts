import { describe, expect, it } from 'vitest'
import { defaultAliasAddress } from '../../../electron/core/platform/addresses.js'
import { chooseListenStrategy, concreteRedirects, engineReach, type ListenStrategyInput } from '../../../electron/core/platform/listen-strategy.js'

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
      windows: { dockerDesktopHostAddress: '192.168.1.23', interfaceAddresses: ['10.0.0.5'] },
    })
    expect(s).toMatchObject({ mechanism: 'direct', hostsAddress: '192.168.1.23', bindAddress: '192.168.1.23', followsNetwork: true, alias: undefined })
    expect(s.warnings.join(' ')).toContain('other machines on this network can reach')
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
    const windows = choose({ platform: 'win32', engines: ['docker-desktop'], overrides: { address: '10.1.2.3', alias: true } })
    expect(windows).toMatchObject({ hostsAddress: '10.1.2.3', alias: undefined, followsNetwork: false })
    expect(windows.warnings.join(' ')).toContain('KM-TEST Loopback Adapter')
  })

  it('never asks for an IPv6 redirect or alias (nft table ip, pf inet): binds directly and says why', () => {
    const s = choose({ platform: 'linux', overrides: { address: '::1', alias: true } })
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
