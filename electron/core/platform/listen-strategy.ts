// Where the tunnel listens, what address the hosts block points at, and which privileged changes make the ports
// clients dial (443, 80) reach it: a pure function of the OS, the container engine found, whether this process is
// privileged, and the user's overrides. docs/platforms.md has the decision table and the reasons; ACR-FACTS.md §5
// and §6 the facts behind it.
//
//   chooseListenStrategy(input)        → ListenStrategy (bind here, point hosts there, add this alias, redirect that)
//   concreteRedirects(strategy, bound) → the PortRedirect list for applySystemChanges, once the listeners are bound
//
// The caller (session controller, `up`) binds the tunnel at bindAddress:bindPorts (0 = let the OS pick a free high
// port), then hands concreteRedirects(…) and the alias to applySystemChanges (core/lease), which makes them in the
// same single privileged run as the hosts block.

import { BridgeError } from '../errors.js'
import type { EngineKind } from '../probes/container-engine.js'
import type { Platform } from '../paths.js'
import type { PortRedirect } from '../privileged/types.js'
import { canonicalIpv4, defaultAliasAddress, isLinkLocalIpv4, isLoopbackIpv4 } from './addresses.js'

/** How an engine reaches this machine's addresses (ACR-FACTS.md §5). */
export type EngineReach =
  /** Pulls from this machine's own network stack: 127.0.0.1 is this machine. */
  | 'native'
  /** Pulls inside a VM (Docker Desktop, Podman machine, Lima, Colima, Rancher Desktop, OrbStack): 127.0.0.1 is the VM. */
  | 'vm'
  /** Pulls inside its own network namespace (rootless Docker): 127.0.0.1 is that namespace. */
  | 'namespace'

export function engineReach(kind: EngineKind): EngineReach {
  switch (kind) {
    case 'native':
      return 'native'
    case 'rootless-docker':
      return 'namespace'
    default:
      return 'vm'
  }
}

export type ListenMechanism =
  /** The tunnel binds the ports clients dial itself (root; Windows; or ports this process may bind). */
  | 'direct'
  /** Linux: the tunnel binds 127.0.0.1 on high ports; our nft table redirects ADDRESS:443/80 to them. */
  | 'nft-redirect'
  /** macOS: the tunnel binds ADDRESS on high ports; our pf anchor rdr's ADDRESS:443/80 to them. */
  | 'pf-rdr'

export interface ListenOverrides {
  /** The user's listen.address, when it is not the default: the hosts block points there. */
  readonly address?: string
  /**
   * Put `address` on the loopback interface (true; without `address`: our own alias 198.19.82.17 whatever engines
   * were found) or never add an alias (false). Default: our own alias, only for a VM or rootless engine.
   */
  readonly alias?: boolean
  /** Force binding the public ports directly, or force the redirect even when running privileged. */
  readonly mechanism?: 'direct' | 'redirect'
  /** Fixed high ports for redirected listeners; default 0 for both: the OS picks free ones. */
  readonly highPorts?: { readonly tls: number; readonly http: number }
}

export interface ListenStrategyInput {
  readonly platform: Platform
  /** Engines found on this machine (probes/container-engine.ts detectContainerEngines); empty when none. */
  readonly engines: readonly EngineKind[]
  /** This process may bind any port and change the system itself (POSIX uid 0). */
  readonly isPrivileged: boolean
  /** Linux: net.ipv4.ip_unprivileged_port_start of this network namespace, when known. */
  readonly unprivilegedPortStart?: number
  /** The ports clients dial: listen.port (443) and listen.httpPort (80, or null for none). */
  readonly ports: { readonly tls: number; readonly http: number | null }
  readonly overrides?: ListenOverrides
  /** Windows: what the machine offers as an address a VM can reach. */
  readonly windows?: {
    /** The address Docker Desktop's own hosts section gives host.docker.internal (it keeps it current). */
    readonly dockerDesktopHostAddress?: string
    /** IPv4 addresses of the machine's interfaces that are up (os.networkInterfaces()), in OS order. */
    readonly interfaceAddresses?: readonly string[]
  }
}

/** A redirect the strategy asks for; the target port is the bound port of `listener`. */
export interface RedirectRequest {
  readonly address: string
  readonly port: number
  readonly listener: 'tls' | 'http'
}

export interface ListenStrategy {
  readonly mechanism: ListenMechanism
  /** What the hosts block maps every name to. */
  readonly hostsAddress: string
  /** Where the tunnel binds. */
  readonly bindAddress: string
  /** What the tunnel binds: the public ports (direct) or high ports (0 = any free one). */
  readonly bindPorts: { readonly tls: number; readonly http: number | null }
  /** What clients dial. */
  readonly publicPorts: { readonly tls: number; readonly http: number | null }
  /** An IPv4 address to put on the loopback interface (lo / lo0); undefined: none. */
  readonly alias: string | undefined
  readonly redirects: readonly RedirectRequest[]
  /** Windows with a VM engine: the address is the machine's LAN address; plan again when the network changes. */
  readonly followsNetwork: boolean
  /** Why, one sentence each (shown by doctor and the window). */
  readonly reasons: readonly string[]
  /** What the user should know (LAN exposure, a missing address). */
  readonly warnings: readonly string[]
}

const loopback = '127.0.0.1'

function isolatedEngines(engines: readonly EngineKind[]): EngineKind[] {
  return engines.filter((kind) => engineReach(kind) !== 'native')
}

/**
 * Docker Desktop's host.docker.internal address, unless the machine's interfaces are known and it is not among them
 * (the network changed and Docker Desktop has not rewritten its section yet: binding it would fail); else the first
 * usable interface address.
 */
function pickWindowsAddress(input: ListenStrategyInput): string | undefined {
  const fromDocker = canonicalIpv4(input.windows?.dockerDesktopHostAddress)
  const known = (input.windows?.interfaceAddresses ?? []).map((candidate) => canonicalIpv4(candidate))
  if (fromDocker !== undefined && !isLoopbackIpv4(fromDocker) && (known.length === 0 || known.includes(fromDocker))) return fromDocker
  for (const candidate of input.windows?.interfaceAddresses ?? []) {
    const address = canonicalIpv4(candidate)
    if (address !== undefined && !isLoopbackIpv4(address) && !isLinkLocalIpv4(address)) return address
  }
  return undefined
}

function lowestPublicPort(ports: ListenStrategyInput['ports']): number {
  return Math.min(ports.tls, ports.http ?? ports.tls)
}

/** An override this OS or address cannot honour: INVALID_CONFIG naming the listen field (the config is fine elsewhere). */
function refuseOverride(field: 'alias' | 'mechanism', message: string, hint: string): never {
  throw new BridgeError('INVALID_CONFIG', message, { field: `listen.${field}`, hint })
}

/** The overrides that make no sense on this OS or for this address: each a BridgeError (INVALID_CONFIG, field named). */
function checkOverrides(platform: Platform, overrides: ListenOverrides): void {
  if (platform === 'win32') {
    if (overrides.alias === true) {
      refuseOverride(
        'alias',
        'listen.alias is true, but Windows has no loopback aliases.',
        'Set listen.alias to automatic; for an address only this machine reaches, add it to the Microsoft KM-TEST Loopback Adapter yourself and set listen.address to it.',
      )
    }
    if (overrides.mechanism === 'redirect') {
      refuseOverride(
        'mechanism',
        'listen.mechanism is "redirect", but Windows needs no redirect: ordinary programs may bind ports 443 and 80 there.',
        'Set listen.mechanism to "auto" or "direct".',
      )
    }
    return
  }
  const address = overrides.address
  if (address === undefined || canonicalIpv4(address) !== undefined) return
  if (overrides.alias === true) {
    refuseOverride(
      'alias',
      `listen.alias is true, but ${address} is not an IPv4 address: only IPv4 addresses can be added to the loopback interface.`,
      'Set listen.alias to automatic or false, or give an IPv4 listen.address.',
    )
  }
  if (overrides.mechanism === 'redirect') {
    refuseOverride(
      'mechanism',
      `listen.mechanism is "redirect", but ${address} is not an IPv4 address: redirect rules are IPv4-only.`,
      'Set listen.mechanism to "auto" or "direct", or give an IPv4 listen.address.',
    )
  }
}

/**
 * Chooses where to listen and what to change; pure (docs/platforms.md, "Decision table"). Throws INVALID_CONFIG
 * (field listen.alias / listen.mechanism) for an override this OS or address cannot honour.
 */
export function chooseListenStrategy(input: ListenStrategyInput): ListenStrategy {
  const { platform, ports } = input
  const overrides = input.overrides ?? {}
  checkOverrides(platform, overrides)
  const isolated = isolatedEngines(input.engines)
  const reasons: string[] = []
  const warnings: string[] = []
  const engineList = isolated.join(', ')

  if (platform === 'win32') {
    if (overrides.highPorts !== undefined) warnings.push('listen.highPorts is not used on Windows: the tunnel binds 443 and 80 itself.')
    let hostsAddress = loopback
    let followsNetwork = false
    if (overrides.address !== undefined) {
      hostsAddress = overrides.address
      reasons.push(`listen.address ${overrides.address} is set in the settings.`)
    } else if (isolated.length > 0) {
      const picked = pickWindowsAddress(input)
      if (picked === undefined) {
        warnings.push(`${engineList} dials 127.0.0.1 inside its VM, and this machine has no other IPv4 address to offer it; connect to a network or set listen.address.`)
        reasons.push('No address a VM can reach was found, so 127.0.0.1 is used (host tools work; containers do not).')
      } else {
        hostsAddress = picked
        followsNetwork = true
        reasons.push(`${engineList} dials hosts-file answers inside its VM, where 127.0.0.1 is the VM itself: the names point at ${picked}, an address of this machine the VM reaches.`)
        warnings.push(`The tunnel listens on ${picked}, which other machines on this network can reach; it forwards only the configured registry names, and Windows Firewall asks before it lets them in.`)
      }
    } else {
      reasons.push('No VM-based engine was found: 127.0.0.1 is reachable by every client on this machine.')
    }
    reasons.push('Windows has no privileged ports for ordinary sockets: the tunnel binds 443 and 80 itself, no redirect is needed.')
    return {
      mechanism: 'direct',
      hostsAddress,
      bindAddress: hostsAddress,
      bindPorts: { ...ports },
      publicPorts: { ...ports },
      alias: undefined,
      redirects: [],
      followsNetwork,
      reasons,
      warnings,
    }
  }

  // Linux and macOS.
  let hostsAddress: string
  let alias: string | undefined
  if (overrides.address !== undefined) {
    hostsAddress = overrides.address
    // checkOverrides let alias: true through only for an IPv4 address.
    alias = overrides.alias === true ? canonicalIpv4(overrides.address) : undefined
    reasons.push(`listen.address ${overrides.address} is set in the settings${alias === undefined ? '' : ' (added to the loopback interface)'}.`)
  } else if ((isolated.length > 0 && overrides.alias !== false) || overrides.alias === true) {
    hostsAddress = defaultAliasAddress
    alias = defaultAliasAddress
    const lo = platform === 'darwin' ? 'lo0' : 'lo'
    if (isolated.length === 0) {
      reasons.push(
        `The loopback alias is set to always in the settings: the names point at ${defaultAliasAddress}, put on ${lo} for the session ` +
          '(no VM-based or rootless engine was found; one the probes missed reaches it too).',
      )
    } else {
      const where = isolated.every((kind) => engineReach(kind) === 'namespace') ? 'in its own network namespace' : 'inside its VM'
      reasons.push(
        `${engineList} dials hosts-file answers ${where}, where 127.0.0.1 is not this machine: the names point at ${defaultAliasAddress}, ` +
          `an address outside 127/8 put on ${lo} for the session (a restart removes it; reconnecting adds it back).`,
      )
    }
  } else {
    hostsAddress = loopback
    alias = undefined
    reasons.push(
      isolated.length > 0
        ? `${engineList} was found, but aliases are turned off: containers in it will not reach 127.0.0.1.`
        : 'No VM-based or rootless engine was found: every client pulls from this machine, where 127.0.0.1 works.',
    )
    if (isolated.length > 0) warnings.push(`${engineList} will not reach 127.0.0.1; allow the loopback alias or set listen.address.`)
  }

  const lowest = lowestPublicPort(ports)
  const ipv4 = canonicalIpv4(hostsAddress) !== undefined
  const portsArePrivileged =
    platform === 'linux' ? lowest < (input.unprivilegedPortStart ?? 1024) : lowest < 1024
  let direct: boolean
  if (overrides.mechanism === 'direct') {
    direct = true
    reasons.push('Binding the ports directly was chosen in the settings.')
    if (!input.isPrivileged && portsArePrivileged) {
      warnings.push(`Port ${lowest} needs root here, and acr-bridge runs as an ordinary user: binding it directly will fail unless listen.mechanism is "auto" or "redirect".`)
    }
  } else if (overrides.mechanism === 'redirect') {
    direct = false
    reasons.push('Redirecting the ports to high ports was chosen in the settings.')
  } else if (input.isPrivileged) {
    direct = true
    reasons.push('acr-bridge runs as root, so the tunnel binds the ports itself.')
  } else if (!portsArePrivileged) {
    direct = true
    reasons.push(
      platform === 'linux' && input.unprivilegedPortStart !== undefined && lowest >= input.unprivilegedPortStart
        ? `net.ipv4.ip_unprivileged_port_start is ${input.unprivilegedPortStart}, so ordinary users may bind port ${lowest}.`
        : `Port ${lowest} needs no privilege.`,
    )
  } else {
    direct = false
  }
  if (!direct && !ipv4) {
    direct = true
    warnings.push(`Redirect rules are IPv4-only; ${hostsAddress} must be bindable by the tunnel itself (run as root or pick ports above 1023).`)
  }

  const highPorts = overrides.highPorts ?? { tls: 0, http: 0 }
  if (direct) {
    return {
      mechanism: 'direct',
      hostsAddress,
      bindAddress: hostsAddress,
      bindPorts: { ...ports },
      publicPorts: { ...ports },
      alias,
      redirects: [],
      followsNetwork: false,
      reasons,
      warnings,
    }
  }
  const redirects: RedirectRequest[] = [{ address: hostsAddress, port: ports.tls, listener: 'tls' }]
  if (ports.http !== null) redirects.push({ address: hostsAddress, port: ports.http, listener: 'http' })
  const redirected = `${hostsAddress}:${ports.tls}${ports.http === null ? '' : `/${ports.http}`}`
  const linux = platform === 'linux'
  reasons.push(
    linux
      ? `Ports below ${input.unprivilegedPortStart ?? 1024} need root: the tunnel runs unprivileged on high ports of 127.0.0.1 and the nft table ` +
          `ip acr_bridge redirects ${redirected} to them (only that address, only this session).`
      : `macOS lets ordinary users bind ports below 1024 only on the wildcard address: the tunnel runs unprivileged on high ports of ${hostsAddress} ` +
          `and the pf anchor com.apple/acr-bridge redirects ${redirected} to them.`,
  )
  return {
    mechanism: linux ? 'nft-redirect' : 'pf-rdr',
    hostsAddress,
    // nft `redirect` in the output hook sends locally made connections to 127.0.0.1; pf rdr keeps the address and
    // changes only the port.
    bindAddress: linux ? loopback : hostsAddress,
    bindPorts: { tls: highPorts.tls, http: ports.http === null ? null : highPorts.http },
    publicPorts: { ...ports },
    alias,
    redirects,
    followsNetwork: false,
    reasons,
    warnings,
  }
}

/** The redirects to install once the tunnel is bound: each request's target is its listener's real port. */
export function concreteRedirects(strategy: ListenStrategy, bound: { readonly port: number; readonly httpPort?: number }): PortRedirect[] {
  return strategy.redirects.map((request) => {
    const toPort = request.listener === 'tls' ? bound.port : bound.httpPort
    if (toPort === undefined) throw new Error(`concreteRedirects: the ${request.listener} listener is not bound`)
    return { address: request.address, port: request.port, toPort }
  })
}
