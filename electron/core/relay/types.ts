import type { Logger } from '../logger.js'

// `acr-bridge relay`: the SNI / Host relay that runs on the proxy ECS (DESIGN.md "Relay").

export interface ListenAddress {
  /** An address to bind (`0.0.0.0`, `::`, `127.0.0.1`, ...). */
  readonly host: string
  /** 0 picks a free port; Relay.addresses tells which. */
  readonly port: number
}

export interface ConnectListen extends ListenAddress {
  /**
   * The shared secret a CONNECT request must carry, as `Proxy-Authorization: Basic base64(<anything>:<token>)`
   * or `Proxy-Authorization: Bearer <token>`. At least 16 printable characters, no white space.
   */
  readonly token: string
}

export interface ResolvedAddress {
  readonly address: string
  readonly family: number
}

/** Resolves a name once to all of its addresses (default: dns.lookup with all: true). */
export type RelayLookup = (name: string) => Promise<readonly ResolvedAddress[]>

export interface RelayOptions {
  /** TLS SNI passthrough: the connection goes to <sni>:443, the ClientHello replayed, TLS never terminated. */
  readonly listen: ListenAddress
  /** Plain HTTP routed by the request's host: the connection goes to <host>:80, the request head replayed. */
  readonly httpListen?: ListenAddress
  /** Authenticated HTTP CONNECT to <name>:443 or <name>:80 only. */
  readonly connectListen?: ConnectListen
  /** Name patterns to forward (allow-list.ts); default ['*.aliyuncs.com']. */
  readonly allow?: readonly string[]
  readonly lookup?: RelayLookup
  /**
   * How long the addresses a name resolved to are reused for later connections (the address checks run on every
   * use); default 5000; 0 resolves the name for every connection.
   */
  readonly lookupCacheMs?: number
  /** The ClientHello, an HTTP request head or a CONNECT request head must be complete within this; default 5000. */
  readonly clientHelloDeadlineMs?: number
  /** Bytes a ClientHello may take; default 64 KiB (request heads are bounded at 16 KiB by the head parser). */
  readonly maxHelloBytes?: number
  /** A forwarded connection with no bytes either way for this long is closed; default 5 minutes. */
  readonly idleTimeoutMs?: number
  /** Concurrent client connections over all listeners; one more is refused; default 1024. */
  readonly maxConnections?: number
  /** Resolving the name plus connecting to the origin; default 10000. */
  readonly connectTimeoutMs?: number
  /**
   * Loopback addresses (127.0.0.0/8, ::1) that allowed names may nevertheless resolve to: an origin on the relay
   * host itself. Empty by default, so every loopback answer is refused. Exact addresses, nothing else is exempt.
   */
  readonly allowLoopbackAddresses?: readonly string[]
  readonly logger?: Logger
}

/** Why a connection was refused: the counter key and the last word of the `[relay] refused` log line. */
export type RefusalReason =
  | 'connection-cap'
  | 'timeout'
  | 'too-large'
  | 'invalid'
  | 'no-sni'
  | 'no-host'
  | 'ip-literal'
  | 'not-allowed'
  | 'port-not-allowed'
  | 'wrong-method'
  | 'other-host'
  | 'auth-missing'
  | 'auth-failed'
  | 'resolve-failed'
  | 'resolves-to-loopback'
  | 'resolves-to-unspecified'
  | 'resolves-to-link-local'
  | 'resolves-to-metadata'
  | 'resolves-to-multicast'
  | 'resolves-to-broadcast'
  | 'resolves-to-reserved'
  | 'resolves-to-invalid'

export interface RelayStats {
  /** Client connections open now (all listeners). */
  readonly open: number
  /** Client connections accepted since start (refused ones included). */
  readonly accepted: number
  /** Connections spliced to an origin. */
  readonly forwarded: number
  /** Refusals by reason; a reason that never happened is absent. */
  readonly refused: Readonly<Partial<Record<RefusalReason, number>>>
  readonly refusedTotal: number
  /** Allowed connections whose origin could not be reached. */
  readonly upstreamFailures: number
  /** Forwarded connections closed by the idle timeout. */
  readonly idleTimeouts: number
  /** Clients that went away before sending a complete head. */
  readonly abandoned: number
  /** Client → origin bytes, the replayed head included. */
  readonly bytesUp: number
  /** Origin → client bytes. */
  readonly bytesDown: number
}

export interface RelayAddresses {
  readonly listen: ListenAddress
  readonly httpListen?: ListenAddress
  readonly connectListen?: ListenAddress
}

export interface Relay {
  /** The bound addresses (the real port where 0 was asked for). */
  readonly addresses: RelayAddresses
  stats(): RelayStats
  /**
   * Stops accepting, lets open connections finish for up to drainMs (default 0), then destroys what is left.
   * Resolves when every listener and socket is closed. Idempotent.
   */
  close(options?: { readonly drainMs?: number }): Promise<void>
}
