// The one config format (DESIGN.md "Config"): the app's saved settings, `--config`, profile export/import.
// config/schema.ts validates exactly this shape (unknown keys rejected) and fills the defaults.

export type EndpointKind =
  | 'registry'
  | 'registry-vpc'
  | 'registry-intl'
  | 'registry-intl-vpc'
  | 'registry-internal'
  | 'dockerauth'
  | 'dockerauth-vpc'
  | 'dockerauth-hyphen'
  | 'dockerauth-ee'
  | 'dockerauth-ee-vpc'
  | 'oss'
  | 'oss-internal'
  | 'pe-bucket'
  | 'pe-bucket-internal'

export type Network = 'vpc' | 'internet'
export type TunnelMode = 'sni' | 'connect' | 'ssh'

export interface RegionSelection {
  readonly id: string
  readonly endpoints: readonly EndpointKind[]
}

/** An Enterprise Edition instance. */
export interface EnterpriseInstance {
  readonly name: string
  readonly region: string
  readonly network: Network
  /** `cri-…`: yields the default blob bucket host `<instance-id>-registry.oss-<region>(-internal).aliyuncs.com`. */
  readonly instanceId?: string
  /** Also map the Helm chart domain `<name>-chart(-vpc).<region>.cr.aliyuncs.com`. */
  readonly chart?: boolean
}

/** A new-style Personal Edition instance (created on or after 2024-09-09): `crpi-<id>(-vpc).<region>.personal.cr.aliyuncs.com`. */
export interface PersonalInstance {
  /** The part after `crpi-`. */
  readonly id: string
  readonly region: string
  readonly network: Network
}

/** A host found by discovery or added by hand; `ports` defaults to [443]. */
export type ExtraHost = string | { readonly name: string; readonly ports: readonly number[] }

export interface ConnectOptions {
  readonly username?: string
  /** May also come from ACR_BRIDGE_PROXY_PASSWORD. */
  readonly password?: string
  /** Speak TLS to the proxy itself. */
  readonly tls?: boolean
  /** PEM file of a CA to trust for the proxy's certificate (tls: true). */
  readonly caFile?: string
}

export interface SshOptions {
  readonly username: string
  readonly privateKeyPath?: string
  /** May also come from ACR_BRIDGE_SSH_PASSPHRASE. */
  readonly passphrase?: string
  /** May also come from ACR_BRIDGE_SSH_PASSWORD. */
  readonly password?: string
  readonly knownHostsPath?: string
  /** true: use SSH_AUTH_SOCK; a string: that agent socket path. */
  readonly agent?: boolean | string
  readonly keepaliveIntervalMs?: number
}

export interface TunnelConfig {
  readonly mode: TunnelMode
  /** The proxy ECS: an IP address or DNS name. */
  readonly host: string
  /** sni: the ECS's SNI router port (443); connect: the proxy port; ssh: sshd's port (22). */
  readonly port: number
  /** sni mode: the ECS's Host-routing HTTP port for port-80 names (default 80). */
  readonly httpPort?: number
  readonly connect?: ConnectOptions
  readonly ssh?: SshOptions
}

export interface ListenConfig {
  readonly address: string
  /** TLS (SNI) listener, 443 by default. */
  readonly port: number
  /** HTTP (Host) listener for port-80 names, 80 by default; null turns it off. */
  readonly httpPort: number | null
  /** Optional local HTTP CONNECT proxy for HTTPS_PROXY-aware clients. */
  readonly proxyPort?: number
  /**
   * The loopback alias: true puts `address` (or, with the automatic address, 198.19.82.17) on the loopback
   * interface for the session; false never adds one; absent: automatic (only for a VM or rootless engine).
   */
  readonly alias?: boolean
  /** How clients' ports 443/80 reach the tunnel; absent or 'auto': chosen per OS and privilege (docs/platforms.md). */
  readonly mechanism?: ListenMechanismSetting
  /** Fixed high ports for redirected listeners; absent: the OS picks free ones per connect. */
  readonly highPorts?: HighPorts
}

/** listen.mechanism: 'direct' = the tunnel binds the public ports itself; 'redirect' = high ports + nft/pf redirect. */
export type ListenMechanismSetting = 'auto' | 'direct' | 'redirect'

export interface HighPorts {
  readonly tls: number
  readonly http: number
}

export interface HostsOptions {
  /** Comment out conflicting lines of other owners (restored on revert) instead of refusing. */
  readonly takeOver: boolean
}

export interface Config {
  readonly regions: readonly RegionSelection[]
  readonly instances: readonly EnterpriseInstance[]
  readonly personalInstances: readonly PersonalInstance[]
  readonly extraHosts: readonly ExtraHost[]
  readonly tunnel: TunnelConfig
  readonly listen: ListenConfig
  readonly hosts: HostsOptions
}
