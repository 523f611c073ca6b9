import type { CheckResult, SessionState } from '../../common/status.js'
import type { DiscoveryRequest, DiscoveryResult, HostsPreview, StaleLease } from '../../common/session-data.js'
import type { HostEntry } from '../catalog/types.js'
import type { Config } from '../config/types.js'
import type { Disposable } from '../disposable.js'
import type { Logger } from '../logger.js'
import type { Dialer } from '../tunnel/types.js'

// The controller's plain data types live in common (the window sees them through the IPC contract).
export type { DiscoveredHost, DiscoveryRequest, DiscoveryResult, HostsPreview, StaleLease } from '../../common/session-data.js'

/** How connect() treats a lease an earlier run left behind (a crash, a kill, a reboot). */
export interface ConnectOptions {
  /**
   * Take the stale lease over in the same one privileged run instead of refusing (LEASE_PENDING): what a restart
   * removed (alias, redirects) is made again, pointing at this run's ports; the hosts block is rewritten for the
   * current config; what the current plan does not want is undone. Afterwards the lease is this session's, so
   * disconnect gives the machine back as it was before the FIRST apply. A lease of a live session is still refused
   * (ALREADY_RUNNING). The app uses it when "Connect at start" is on.
   */
  readonly resumeStaleLease?: boolean
}

/**
 * The one owner of the session's state machine. The tray, the window (through IPC) and the CLI all drive this and
 * show `state`; nothing else decides what the state is.
 */
export interface SessionController {
  readonly state: SessionState
  onDidChangeState(listener: (state: SessionState) => void): Disposable
  getConfig(): Config
  /** Validates (BridgeError INVALID_CONFIG) and persists; a running session picks up the new name set. */
  setConfig(config: Config): Promise<void>
  previewHosts(config?: Config): Promise<HostsPreview>
  /**
   * Start the tunnel, apply the hosts block (one elevation at most), start probing. While a session runs: reconnect
   * its upstream and check every hop again (nothing bound or written, no prompt).
   */
  connect(options?: ConnectOptions): Promise<void>
  /** Stop accepting, drain, revert the hosts block (one elevation at most). */
  disconnect(): Promise<void>
  runDiagnostics(): Promise<readonly CheckResult[]>
  /**
   * The machine woke up after `suspendedMs` asleep: drop what a sleep leaves dead on the other side (the warm
   * upstream connections; in ssh mode, after a sleep of 10 s or more, the SSH connection, which reconnects at once)
   * and check every hop again now, so the state shown is today's. Nothing happens while no session runs.
   */
  systemResumed(suspendedMs: number): void
  discover(request: DiscoveryRequest): Promise<DiscoveryResult>
  findStaleLease(): Promise<StaleLease | undefined>
  revertStaleLease(): Promise<void>
  dispose(): Promise<void>
}

/** What the controller knows of its own tunnel, fed to the state derivation together with the probe results. */
export interface TunnelHealth {
  readonly kind: 'stopped' | 'starting' | 'running' | 'failed'
  /** ssh mode: the shared SSH connection; other modes: undefined. */
  readonly upstream?: 'connecting' | 'connected' | 'reconnecting' | 'failed'
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string }
}

/** Runs the probes (doctor's checks) periodically while a session is up; the controller owns its lifetime. */
export interface HealthMonitor {
  /** Start probing: at once, then periodically (backing off while failing). */
  start(): void
  /** Probe again now (after a config or hosts change), resolving with the fresh results. */
  runNow(): Promise<readonly CheckResult[]>
  onDidChangeChecks(listener: (checks: readonly CheckResult[]) => void): Disposable
  stop(): void
}

/**
 * What the controller hands to `createHealthMonitor` when a session starts (and again after a config change).
 * The monitor owns nothing here: the controller closes the dialer and stops the monitor.
 */
export interface HealthMonitorContext {
  /** The config with its secrets resolved. */
  readonly config: Config
  /** The active set: the names the hosts block maps and the tunnel serves, in order. */
  readonly entries: readonly HostEntry[]
  /** The session's own dialer (in ssh mode the shared SSH connection): probe through it; do not close it. */
  readonly dialer: Dialer
  /** The hosts file the session writes (the OS one or `--hosts-file`). */
  readonly hostsPath: string
  /** Where the tunnel listens: the bound address and ports. */
  readonly listen: { readonly address: string; readonly port: number; readonly httpPort?: number; readonly proxyPort?: number }
  readonly logger: Logger
  readonly now: () => Date
}
