// The status model (one state, derived by the core's session controller from the probes). The tray colour, the
// window and the CLI's `up` output all show this and nothing else.

export type SessionStateKind = 'off' | 'starting' | 'healthy' | 'degraded' | 'down'

/** One hop of the path a pull takes, in the order a request meets them. */
export type HopKind =
  | 'resolve' // the name resolves (OS resolver, hosts file included) to the listen address, not shadowed
  | 'listener' // our local listener answers
  | 'upstream' // the proxy ECS answers (TCP / SSH handshake)
  | 'tls' // TLS to the name through the tunnel, certificate valid for the name
  | 'registry' // GET /v2/ answers 401 with a Bearer realm
  | 'realm-covered' // the realm host is in the active set
  | 'realm' // the realm answers
  | 'oss' // OSS GET / answers 403 AccessDenied XML
  | 'blob-covered' // a blob redirect's target host is in the active set

export interface CheckResult {
  readonly name: string
  readonly hop: HopKind
  readonly ok: boolean
  readonly latencyMs?: number
  /** What was seen, one short sentence. */
  readonly reason: string
  /** What to do about it, when it failed. */
  readonly hint?: string
}

export interface NameTraffic {
  readonly name: string
  readonly open: number
  readonly total: number
  readonly bytesUp: number
  readonly bytesDown: number
  readonly errors: number
}

/**
 * Where the running session listens, as the listen strategy decided it (core/platform/listening-state.ts builds it
 * from the controller's listening()): the window shows it next to the listen settings.
 */
export interface ListeningState {
  /** 'direct': the tunnel binds the public ports; 'nft-redirect' (Linux) / 'pf-rdr' (macOS): high ports + a redirect. */
  readonly mechanism: 'direct' | 'nft-redirect' | 'pf-rdr'
  /** What the hosts block maps every name to. */
  readonly hostsAddress: string
  /** What clients dial. */
  readonly publicPorts: { readonly tls: number; readonly http: number | null }
  /** Where the tunnel is bound (the high ports when redirected). */
  readonly bound: { readonly address: string; readonly tls: number; readonly http?: number }
  /** The address put on the loopback interface for the session, if any. */
  readonly alias?: string
  /** Why, one sentence each. */
  readonly reasons: readonly string[]
  readonly warnings: readonly string[]
}

export interface SessionState {
  readonly kind: SessionStateKind
  /** ISO time of the last change of kind. */
  readonly since: string
  /** Names whose checks fail, with the first failing check's reason. */
  readonly failing: readonly { readonly name: string; readonly reason: string }[]
  /** The latest result of every check, grouped by name in the order of the managed set. */
  readonly checks: readonly CheckResult[]
  readonly traffic: readonly NameTraffic[]
  /** While a session runs: where it listens and why (absent when off, or from a core that does not report it). */
  readonly listening?: ListeningState
  /** Set when kind is 'down' or 'off' after a failure: why. */
  readonly error?: {
    readonly code: string
    readonly message: string
    readonly hint?: string
    /** As SerializedError.details (e.g. an unknown SSH host key's fingerprint, keyType and key). */
    readonly details?: Readonly<Record<string, string | number | boolean>>
  }
}
