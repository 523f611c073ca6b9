import type { EndpointKind, Network } from '../config/types.js'

export type RegionStatus = 'available' | 'closing' | 'closed'

export interface Region {
  readonly id: string
  readonly nameEn: string
  readonly nameZh: string
  readonly status: RegionStatus
  /** Why the region is flagged, or what about it is unconfirmed; shown by the UI. */
  readonly note?: string
  /** ACR availability itself is not confirmed by a source (ACR-FACTS.md §1). */
  readonly unconfirmed?: boolean
}

/** What one endpoint kind means, for the catalog listing and the UI toggles. */
export interface EndpointKindInfo {
  readonly kind: EndpointKind
  readonly network: Network
  readonly label: string
  /** Host name pattern with `<region>` placeholder, e.g. `registry-vpc.<region>.aliyuncs.com`. */
  readonly pattern: string
  readonly ports: readonly number[]
  readonly unconfirmed?: string
}

/** Where a hosts entry came from: a region kind, an instance, or extraHosts. */
export type HostOrigin =
  | { readonly kind: 'region'; readonly region: string; readonly endpoint: EndpointKind }
  | { readonly kind: 'enterprise'; readonly region: string; readonly instance: string; readonly role: 'registry' | 'auth' | 'bucket' | 'chart' }
  | { readonly kind: 'personal'; readonly region: string; readonly instance: string; readonly role: 'registry' | 'auth' }
  | { readonly kind: 'extra' }

/** One line the managed hosts block will hold, and what the tunnel must serve for it. */
export interface HostEntry {
  readonly address: string
  readonly name: string
  /** Ports clients will dial on this name: 443 (TLS, routed by SNI) and/or 80 (plain HTTP, routed by Host). */
  readonly ports: readonly number[]
  /** Every origin that asked for this name (deduplicated by name). */
  readonly origins: readonly HostOrigin[]
  /** Set when the facts do not confirm this name exists; the text says what is unconfirmed. */
  readonly unconfirmed?: string
}
