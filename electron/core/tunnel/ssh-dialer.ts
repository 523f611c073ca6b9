// The `ssh` upstream mode (DESIGN.md "Tunnel rules"): one SSH connection to the proxy ECS's sshd, shared by every
// dial; each dial opens one direct-tcpip channel (what `ssh -L` does) to name:port as the ECS resolves it.
//
// - Host key checked against an OpenSSH known_hosts file (known-hosts.ts); no "accept any key" mode. Unknown and
//   changed keys are final failures with the offered key's fingerprint (a UI can offer trustHostKey, then connect()).
// - Auth: private key (+ passphrase), agent, password (also answered to keyboard-interactive), in that order.
// - TCP_NODELAY on our socket, and one non-pty `exec('true')` after 'ready' so sshd sets it on its side too
//   (PERF-NOTES.md trap 1: otherwise sshd holds small replies ~40 ms); the connection waits for sshd to take the
//   request, not for the command (a slow login shell on the ECS). Refused or failing: carry on quietly.
// - Keepalive; reconnect with exponential backoff and jitter after a loss or a transient failure; backoff resets after
//   a connection that stayed up for backoff.stableMs. Host-key and auth failures do not retry (state 'failed') until
//   connect() is called again. Dials wait for the connection up to their timeout, then fail UPSTREAM_UNREACHABLE.
// - Every channel is counted from open until sshd confirms its close (or the connection is gone): stats().

import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import ssh2 from 'ssh2'
import type { AnyAuthMethod, AuthenticationType, ClientChannel, NextAuthHandler, ParsedKey } from 'ssh2'
import { Emitter, type Disposable } from '../disposable.js'
import { BridgeError, errnoCode } from '../errors.js'
import { nullLogger, type Logger } from '../logger.js'
import { connectWithDedicatedReads } from './large-reads.js'
import { ForwardedStream, ssh2OpenWindow, wideWindow, windowControl } from './ssh-channel-stream.js'
import { noWayOutHint } from './tcp-connect.js'
import { checkHostKey, hostKeyError, knownKeyTypesFor, readKnownHosts, type KnownHostsEntry } from './known-hosts.js'
import type { Dialer, DialerPoolStats, DialOptions, UpstreamTarget } from './types.js'
import { createUpstreamPool, resumeOnFirstDataListener, sumPoolStats, type UpstreamPool } from './upstream-pool.js'

export interface SshBackoffOptions {
  /** First retry delay (default 500 ms). */
  readonly initialMs?: number
  /** Upper bound of a delay (default 30 s). */
  readonly maxMs?: number
  /** Growth per failed attempt (default 2). */
  readonly factor?: number
  /** Each delay is spread by ±jitter×delay (default 0.2), so many laptops do not retry in step. */
  readonly jitter?: number
  /** A connection that stayed up this long resets the backoff (default 30 s). */
  readonly stableMs?: number
}

/** Time as the dialer sees it; tests may pass their own. ssh2's own keepalive/handshake timers stay real. */
export interface SshClock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface SshDialerOptions {
  readonly host: string
  readonly port: number
  readonly username: string
  /** The private key itself (file contents), OpenSSH or PEM. */
  readonly privateKey?: Buffer | string
  readonly passphrase?: string
  readonly password?: string
  /** Path of an SSH agent socket (SSH_AUTH_SOCK) or Windows pipe name. */
  readonly agent?: string
  /** OpenSSH known_hosts file the server's host key is checked against (required; a missing file is empty). */
  readonly knownHostsPath: string
  /** SSH-level keepalive interval (default 15000 ms; 0 turns it off). */
  readonly keepaliveIntervalMs?: number
  /** Unanswered keepalives before the connection counts as lost (default 3). */
  readonly keepaliveCountMax?: number
  /** TCP connect, and separately SSH handshake + auth, must finish within this (default 20000 ms). */
  readonly readyTimeoutMs?: number
  /** Default DialOptions.timeoutMs (default 20000 ms). */
  readonly dialTimeoutMs?: number
  readonly logger?: Logger
  readonly backoff?: SshBackoffOptions
  readonly clock?: SshClock
  /** [0, 1) source for the backoff jitter (default Math.random). */
  readonly random?: () => number
  /** One channel opened ahead per target a tunnel client recently dialed (see SshWarmOptions); false: none. Default on. */
  readonly warm?: SshWarmOptions | false
}

/**
 * After a tunnel client's dial (DialOptions.pooled) that reached its target, the dialer opens the next channel to the
 * same name:port ahead, so the next client connection to it skips the channel-open round trip through sshd (and
 * sshd's connect to the target): the SSH counterpart of the warm pool of sni and connect (PERF-NOTES.md trap 6), and
 * the same pool (upstream-pool.ts), one of size 1 per target and SSH connection. Refused names never get one; probes
 * dial without `pooled` and neither take nor warm one. A channel not taken within maxIdleMs is closed and replaced
 * while the target is hot; after coldAfterMs without a dial to the target none is kept; a channel the target ended
 * meanwhile is not handed out; a failed open backs off (1 s doubling to 30 s). coolDown() (the tunnel's close)
 * closes them all; a lost connection takes its pools with it.
 */
export interface SshWarmOptions {
  /** A warm channel older than this is closed (and replaced while the target is hot). Default 3000 ms. */
  readonly maxIdleMs?: number
  /** No warm channel for a target not dialed for this long. Default 30000 ms. */
  readonly coldAfterMs?: number
}

/** The shared connection's state, for the status model. `idle` until the first dial or connect(). */
export type SshConnectionState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected'; readonly since: number }
  /** Not connected; the next attempt starts in retryInMs. `attempt` counts consecutive failed tries (1, 2, …). */
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly retryInMs: number; readonly error: BridgeError }
  /** A final failure (host key, auth, unreadable key or known_hosts): no retry until connect(). */
  | { readonly kind: 'failed'; readonly error: BridgeError }
  | { readonly kind: 'closed' }

export interface SshDialerStats {
  readonly connected: boolean
  /** Forwarded channels opened and not yet confirmed closed by sshd (0 when idle: anything else is a leak). */
  readonly openChannels: number
  /** Connections established after the first one (after a loss or failed attempts). */
  readonly reconnects: number
  /** Channels opened ahead and waiting for a dial (SshWarmOptions); not counted in openChannels. */
  readonly warmChannels: number
}

export interface SshDialer extends Dialer {
  readonly mode: 'ssh'
  readonly state: SshConnectionState
  onDidChangeState(listener: (state: SshConnectionState) => void): Disposable
  /**
   * Connects now if not connected: starts the first attempt, retries at once when a retry is pending, and starts
   * over after a final failure (e.g. after trustHostKey). Resolves when connected; rejects like dial().
   */
  connect(options?: DialOptions): Promise<void>
  stats(): SshDialerStats
  /** Closes the warm channels and opens none until the next pooled dial. */
  coolDown(): void
  /** Warm channels as a pool: hits, misses (pooled dials that found none), idle, opened ahead, failures. */
  poolStats(): DialerPoolStats
  /**
   * The connection is presumed dead (the machine slept longer than a NAT or the ECS keeps an idle connection):
   * drop it now, its channels failing, and connect again after the first backoff step, rather than wait until the
   * keepalives notice (up to keepaliveInterval × keepaliveCountMax). A pending retry runs at once. Nothing happens
   * while idle, after a final failure (connect() starts over) or after close().
   */
  reconnectNow(reason: string): void
  /**
   * The address of this machine the SSH connection leaves from (its socket's local address); undefined while not
   * connected. When the network takes it away (Wi-Fi switched), the connection is dead though nothing has said so.
   */
  localAddress(): string | undefined
}

const defaultBackoff: Required<SshBackoffOptions> = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2, stableMs: 30_000 }
const noDelayExecTimeoutMs = 5_000
const closeGraceMs = 2_000
/**
 * A connection whose fastest channel open took at least this long gets wideWindow; faster ones (loopback, a LAN)
 * keep 2 MiB: there the larger window only made bulk transfers slower (side bench on loopback: 0.76–0.85× OpenSSH
 * with 8 MiB against 0.88–0.91× with 2 MiB, at the same CPU). A channel open is one round trip to sshd plus sshd's
 * connect to the target: an upper bound of the round trip, and its minimum over the connection a fair estimate.
 */
const wideWindowOpenMs = 4
/** ssh2's default host key algorithm order (ssh-dss left out); known key types for the host are moved first. */
const hostKeyAlgorithms = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
]

const realClock: SshClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The delay before retry number `retryIndex` (0-based): initial × factor^n, capped, spread by the jitter. */
export function backoffDelay(retryIndex: number, options: SshBackoffOptions = {}, random: () => number = Math.random): number {
  const o = { ...defaultBackoff, ...options }
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** Math.max(0, retryIndex))
  const spread = base * o.jitter
  return Math.round(Math.min(o.maxMs, Math.max(0, base - spread + 2 * spread * random())))
}

/** Host key algorithms to offer: those of the key types known_hosts lists for the host first (as OpenSSH does). */
export function preferredHostKeyAlgorithms(knownKeyTypes: readonly string[]): string[] {
  const first: string[] = []
  for (const type of knownKeyTypes) {
    const algorithms = type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]
    for (const algorithm of algorithms) {
      if (hostKeyAlgorithms.includes(algorithm) && !first.includes(algorithm)) first.push(algorithm)
    }
  }
  return [...first, ...hostKeyAlgorithms.filter((algorithm) => !first.includes(algorithm))]
}

/** Creates the dialer; nothing connects until the first dial() or connect(). Throws INVALID_CONFIG on bad options. */
export function createSshDialer(options: SshDialerOptions): SshDialer {
  validateOptions(options)
  return new SshDialerImpl(options)
}

function validateOptions(options: SshDialerOptions): void {
  const invalid = (field: string, message: string, hint: string): never => {
    throw new BridgeError('INVALID_CONFIG', message, { hint, field })
  }
  if (options.host.length === 0 || /[\s,]/.test(options.host)) {
    invalid('tunnel.host', `"${options.host}" is not an SSH server address.`, 'Give the ECS address or DNS name.')
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    invalid('tunnel.port', `${options.port} is not a TCP port.`, "Give sshd's port on the ECS (usually 22).")
  }
  if (options.username.length === 0 || /[\s\0]/.test(options.username)) {
    invalid('tunnel.ssh.username', 'The SSH user name is empty or contains spaces.', 'Give the account to log in as on the ECS.')
  }
  if (options.knownHostsPath.length === 0) {
    invalid('tunnel.ssh.knownHostsPath', 'No known_hosts file is set for the SSH tunnel.', 'Set tunnel.ssh.knownHostsPath (usually ~/.ssh/known_hosts).')
  }
  if (options.agent !== undefined && options.agent.length === 0) {
    invalid('tunnel.ssh.agent', 'The SSH agent socket path is empty.', 'Give the agent socket (SSH_AUTH_SOCK) or leave the agent out.')
  }
  if (options.privateKey === undefined && options.agent === undefined && options.password === undefined) {
    invalid('tunnel.ssh', 'The SSH tunnel has no way to log in.', 'Set a private key, an SSH agent or a password.')
  }
}

/** A failed connection attempt: `isFinal` ones stop the retry loop. */
class AttemptFailure extends Error {
  constructor(
    readonly error: BridgeError,
    readonly isFinal: boolean,
  ) {
    super(error.message)
  }
}

/** The connection dropped while a channel was being opened: the dial may wait for the next connection. */
class ConnectionLost extends Error {}

interface ChannelEntry {
  readonly stream: ForwardedStream
  closed: boolean
}

/** One SSH connection that reached 'ready'. */
interface Live {
  readonly client: ssh2.Client
  readonly socket: Socket
  /** When it became ready (clock.now()). */
  since: number
  readonly channels: Set<ChannelEntry>
  lost: boolean
  /** The transport socket is corked until the next tick (batchWrites). */
  corked: boolean
  /** Channels opened ahead: one pool of size 1 per target (`name:port`). */
  readonly warm: Map<string, UpstreamPool<ForwardedStream>>
  /** The fastest channel open seen on this connection (ms, clock.now()), Infinity before the first. */
  fastestOpenMs: number
  /** Channels get wideWindow (decided anew with every channel open, logged when it changes). */
  wide: boolean
}

interface Waiter {
  resolve(live: Live): void
  reject(error: Error): void
}

interface AuthRecord {
  readonly tried: string[]
  serverMethods: readonly string[] | undefined
  agentProblem: string | undefined
}

type SshError = Error & { level?: string; code?: unknown; reason?: unknown }

class SshDialerImpl implements SshDialer {
  readonly mode = 'ssh' as const
  private readonly where: string
  private readonly logger: Logger
  private readonly clock: SshClock
  private readonly random: () => number
  private readonly backoff: Required<SshBackoffOptions>
  private readonly readyTimeoutMs: number
  private readonly dialTimeoutMs: number
  private readonly stateEmitter = new Emitter<SshConnectionState>()
  private currentState: SshConnectionState = { kind: 'idle' }
  private live: Live | undefined
  private attempt: { readonly abort: AbortController; readonly done: Promise<void> } | undefined
  private retryTimer: unknown
  private retryIndex = 0
  private lastError: BridgeError | undefined
  private readonly waiters = new Set<Waiter>()
  private parsedKey: ParsedKey | undefined
  private isClosed = false
  private closing: Promise<void> | undefined
  private connections = 0
  private openChannelCount = 0
  /** Counters of the warm pools of connections that are gone (poolStats() covers the whole dialer's life). */
  private retiredPoolStats: DialerPoolStats = { hits: 0, misses: 0, idle: 0, dialed: 0, failures: 0 }
  private readonly warmOptions: Required<SshWarmOptions> | undefined

  constructor(private readonly options: SshDialerOptions) {
    this.where = `${options.host}:${options.port}`
    this.logger = options.logger ?? nullLogger
    this.clock = options.clock ?? realClock
    this.random = options.random ?? Math.random
    this.backoff = { ...defaultBackoff, ...options.backoff }
    this.readyTimeoutMs = options.readyTimeoutMs ?? 20_000
    this.dialTimeoutMs = options.dialTimeoutMs ?? 20_000
    this.warmOptions = options.warm === false ? undefined : { maxIdleMs: 3_000, coldAfterMs: 30_000, ...options.warm }
  }

  get state(): SshConnectionState {
    return this.currentState
  }

  onDidChangeState(listener: (state: SshConnectionState) => void): Disposable {
    return this.stateEmitter.event(listener)
  }

  stats(): SshDialerStats {
    const warm = this.warmChannelCount()
    return {
      connected: this.live !== undefined,
      openChannels: this.openChannelCount - warm,
      reconnects: Math.max(0, this.connections - 1),
      warmChannels: warm,
    }
  }

  coolDown(): void {
    for (const pool of this.live?.warm.values() ?? []) pool.coolDown()
  }

  poolStats(): DialerPoolStats {
    return sumPoolStats([this.retiredPoolStats, ...[...(this.live?.warm.values() ?? [])].map((pool) => pool.stats())])
  }

  localAddress(): string | undefined {
    return this.live?.socket.localAddress
  }

  reconnectNow(reason: string): void {
    if (this.isClosed) return
    this.retryIndex = 0
    if (this.live !== undefined) this.onConnectionLost(this.live, new Error(reason))
    else this.retryAtOnce()
  }

  async connect(options: DialOptions = {}): Promise<void> {
    if (this.isClosed) throw this.closedError()
    if (this.live !== undefined) return
    if (this.currentState.kind === 'failed') {
      this.retryIndex = 0
      this.setState({ kind: 'connecting' })
      this.startAttempt()
    } else {
      this.retryAtOnce()
    }
    const timeoutMs = options.timeoutMs ?? this.dialTimeoutMs
    await this.waitForConnection(this.clock.now() + timeoutMs, timeoutMs, options.signal)
  }

  async dial(target: UpstreamTarget, options: DialOptions = {}): Promise<Duplex> {
    if (target.name.length === 0 || /[\s\0]/.test(target.name) || !Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
      throw new Error(`ssh dial: invalid target ${JSON.stringify(target)}`)
    }
    options.signal?.throwIfAborted()
    const timeoutMs = options.timeoutMs ?? this.dialTimeoutMs
    const deadline = this.clock.now() + timeoutMs
    for (;;) {
      const live = await this.waitForConnection(deadline, timeoutMs, options.signal)
      const pool = options.pooled === true ? this.warmPoolFor(live, target) : undefined
      try {
        if (pool === undefined) return await this.openChannel(live, target, deadline, timeoutMs, options.signal)
        const dial = { timeoutMs: Math.max(0, deadline - this.clock.now()), ...(options.signal === undefined ? {} : { signal: options.signal }) }
        const { socket, pooled } = await pool.acquire(dial)
        if (pooled) resumeOnFirstDataListener(socket)
        return socket
      } catch (error) {
        if (!(error instanceof ConnectionLost)) throw error
        if (this.isClosed) throw this.closedError()
        if (this.clock.now() >= deadline) throw this.unreachableError(timeoutMs)
        // The connection went away under us: wait for the next one within the same deadline.
      }
    }
  }

  /**
   * Stops reconnecting, rejects waiting dials, destroys open streams (without an error: they see 'close' before
   * 'end'), ends the SSH connection and resolves once its socket is closed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  // ---- connection lifecycle ---------------------------------------------------------------------------------

  private setState(state: SshConnectionState): void {
    this.currentState = state
    try {
      this.stateEmitter.fire(state)
    } catch (error) {
      // A listener's bug must not break the connection logic that called us from a socket event.
      this.logger.error('[tunnel] ssh: a state listener threw', error)
    }
  }

  /** A retry waiting for its backoff runs now. */
  private retryAtOnce(): void {
    if (this.attempt !== undefined || this.retryTimer === undefined) return
    this.clock.clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.startAttempt()
  }

  private startAttempt(): void {
    if (this.isClosed || this.attempt !== undefined || this.live !== undefined) return
    const abort = new AbortController()
    const done = this.openConnection(abort.signal).then(
      (live) => this.onConnected(live),
      (error: unknown) => this.onAttemptFailed(error),
    )
    this.attempt = { abort, done }
  }

  private onConnected(live: Live): void {
    this.attempt = undefined
    if (this.isClosed) {
      live.lost = true
      live.client.end()
      live.socket.destroy()
      return
    }
    this.live = live
    this.connections++
    this.lastError = undefined
    this.logger.info(`[tunnel] ssh: connected to ${this.where} as ${this.options.username}`)
    this.setState({ kind: 'connected', since: live.since })
    for (const waiter of [...this.waiters]) waiter.resolve(live)
  }

  private onAttemptFailed(error: unknown): void {
    this.attempt = undefined
    if (this.isClosed) return
    const failure =
      error instanceof AttemptFailure
        ? error
        : new AttemptFailure(
            new BridgeError('UPSTREAM_UNREACHABLE', `Could not connect to the SSH server ${this.where}.`, { cause: error, hint: this.reachHint(errnoCode(error)) }),
            false,
          )
    this.lastError = failure.error
    if (failure.isFinal) {
      this.logger.error(`[tunnel] ssh: ${failure.error.message}`)
      this.setState({ kind: 'failed', error: failure.error })
      for (const waiter of [...this.waiters]) waiter.reject(failure.error)
      return
    }
    this.scheduleRetry(failure.error)
  }

  /** Says what failed and when the next attempt is, and schedules it. */
  private scheduleRetry(error: BridgeError): void {
    const delay = backoffDelay(this.retryIndex, this.backoff, this.random)
    this.retryIndex++
    this.logger.warn(`[tunnel] ssh: ${error.message} Trying again in ${(delay / 1000).toFixed(1)} s (attempt ${this.retryIndex}).`)
    this.setState({ kind: 'reconnecting', attempt: this.retryIndex, retryInMs: delay, error })
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined
      this.startAttempt()
    }, delay)
  }

  private onConnectionLost(live: Live, reason: Error | undefined): void {
    if (live.lost) return
    live.lost = true
    if (this.live === live) this.live = undefined
    const error = new BridgeError(
      'UPSTREAM_UNREACHABLE',
      `The SSH connection to ${this.where} was lost${reason === undefined ? '' : ` (${reason.message})`}.`,
      { hint: this.reachHint(), ...(reason === undefined ? {} : { cause: reason }) },
    )
    this.dropChannels(live, error)
    live.socket.destroy()
    if (this.isClosed) return
    this.lastError = error
    if (this.clock.now() - live.since >= this.backoff.stableMs) this.retryIndex = 0
    this.scheduleRetry(error)
  }

  /** Destroys the connection's streams: with `error` when the connection was lost, without one on close(). */
  private dropChannels(live: Live, error: Error | undefined): void {
    // The pools first: their idle channels go quietly, not as failures that would start a backoff.
    for (const pool of live.warm.values()) {
      this.retiredPoolStats = sumPoolStats([this.retiredPoolStats, { ...pool.stats(), idle: 0 }])
      pool.close()
    }
    live.warm.clear()
    for (const entry of live.channels) {
      entry.stream.destroy(error)
      this.release(live, entry)
    }
  }

  private release(live: Live, entry: ChannelEntry): void {
    if (entry.closed) return
    entry.closed = true
    live.channels.delete(entry)
    this.openChannelCount--
  }

  /** What to check when sshd cannot be reached: this machine's way out when the error says so, else the ECS. */
  private reachHint(code?: string): string {
    return (
      noWayOutHint(code, this.options.host) ??
      `Check that the ECS is running, that sshd listens on port ${this.options.port}, and that its security group lets this computer in.`
    )
  }

  private async shutdown(): Promise<void> {
    this.isClosed = true
    if (this.retryTimer !== undefined) {
      this.clock.clearTimeout(this.retryTimer)
      this.retryTimer = undefined
    }
    const closed = this.closedError()
    for (const waiter of [...this.waiters]) waiter.reject(closed)
    const attempt = this.attempt
    attempt?.abort.abort()
    const live = this.live
    this.live = undefined
    if (live !== undefined) {
      live.lost = true
      this.dropChannels(live, undefined)
      await endConnection(live, this.clock)
    }
    await attempt?.done
    this.logger.info(`[tunnel] ssh: closed the connection to ${this.where}`)
    this.setState({ kind: 'closed' })
    this.stateEmitter.dispose()
  }

  // ---- waiting and channels ---------------------------------------------------------------------------------

  private waitForConnection(deadline: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<Live> {
    if (this.isClosed) return Promise.reject(this.closedError())
    if (this.live !== undefined) return Promise.resolve(this.live)
    if (this.currentState.kind === 'failed') return Promise.reject(this.currentState.error)
    if (this.currentState.kind === 'idle') {
      this.setState({ kind: 'connecting' })
      this.startAttempt()
    }
    return new Promise<Live>((resolve, reject) => {
      const remaining = deadline - this.clock.now()
      const timer = this.clock.setTimeout(() => waiter.reject(this.unreachableError(timeoutMs)), Math.max(0, remaining))
      const onAbort = (): void => waiter.reject(abortReason(signal))
      const cleanup = (): void => {
        this.waiters.delete(waiter)
        this.clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const waiter: Waiter = {
        resolve: (live) => {
          cleanup()
          resolve(live)
        },
        reject: (error) => {
          cleanup()
          reject(error)
        },
      }
      this.waiters.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
      if (signal?.aborted === true) onAbort()
    })
  }

  private openChannel(live: Live, target: UpstreamTarget, deadline: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<ForwardedStream> {
    return new Promise<ForwardedStream>((resolve, reject) => {
      let settled = false
      const settle = (error: Error): void => {
        if (settled) return
        settled = true
        this.clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        reject(error)
      }
      const timer = this.clock.setTimeout(
        () =>
          settle(
            new BridgeError('UPSTREAM_UNREACHABLE', `The ECS did not open a channel to ${target.name}:${target.port} within ${seconds(timeoutMs)}.`, {
              hint: 'Check that the ECS can resolve and reach the name (VPC endpoints resolve only inside the VPC).',
              details: { timedOut: true },
            }),
          ),
        Math.max(0, deadline - this.clock.now()),
      )
      const onAbort = (): void => settle(abortReason(signal))
      signal?.addEventListener('abort', onAbort, { once: true })
      if (signal?.aborted === true) {
        onAbort()
        return
      }
      try {
        const sentAt = this.clock.now()
        live.client.forwardOut('127.0.0.1', 0, target.name, target.port, (error, channel) => {
          if (error !== undefined && error !== null) {
            settle(live.lost ? new ConnectionLost() : openFailure(error as SshError, target))
            return
          }
          const stream = this.track(live, channel, sentAt)
          if (settled || live.lost) {
            stream.destroy() // abandoned (timeout or abort) while sshd was opening it
            return
          }
          settled = true
          this.clock.clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          resolve(stream)
        })
      } catch {
        settle(new ConnectionLost()) // ssh2 throws "Not connected" when the socket already closed
      }
    })
  }

  // ---- warm channels (SshWarmOptions) -----------------------------------------------------------------------

  /** The target's pool of channels opened ahead on this connection; undefined when warm channels are off. */
  private warmPoolFor(live: Live, target: UpstreamTarget): UpstreamPool<ForwardedStream> | undefined {
    const options = this.warmOptions
    if (options === undefined || live.lost || this.isClosed) return undefined
    const key = `${target.name}:${target.port}`
    let pool = live.warm.get(key)
    if (pool === undefined) {
      const to = { name: target.name, port: target.port }
      pool = createUpstreamPool<ForwardedStream>({
        size: 1,
        maxIdleMs: options.maxIdleMs,
        coldAfterMs: options.coldAfterMs,
        connectTimeoutMs: this.dialTimeoutMs,
        ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
        label: `ssh channel to ${key}`,
        logger: this.logger,
        connect: async ({ signal, timeoutMs }) => {
          const stream = await this.openChannel(live, to, this.clock.now() + timeoutMs, timeoutMs, signal)
          stream.on('error', () => {}) // the pool's contract: a late error never goes uncaught between owners
          return stream
        },
      })
      live.warm.set(key, pool)
    }
    return pool
  }

  private warmChannelCount(): number {
    let count = 0
    for (const pool of this.live?.warm.values() ?? []) count += pool.stats().idle
    return count
  }

  /** `sentAt`: clock.now() when the channel open was sent. */
  private track(live: Live, channel: ClientChannel, sentAt: number): ForwardedStream {
    live.fastestOpenMs = Math.min(live.fastestOpenMs, this.clock.now() - sentAt)
    const wide = live.fastestOpenMs >= wideWindowOpenMs
    if (wide !== live.wide) {
      live.wide = wide
      this.logger.debug(`[tunnel] ssh: channel window ${wide ? wideWindow / 1048576 : ssh2OpenWindow / 1048576} MiB (fastest channel open ${live.fastestOpenMs} ms)`)
    }
    const stream = new ForwardedStream(channel, wide ? windowControl(live.client, channel) : undefined, () => batchWrites(live))
    const entry: ChannelEntry = { stream, closed: false }
    live.channels.add(entry)
    this.openChannelCount++
    channel.once('close', () => this.release(live, entry))
    return stream
  }

  // ---- one connection attempt -------------------------------------------------------------------------------

  private async openConnection(signal: AbortSignal): Promise<Live> {
    let entries: readonly KnownHostsEntry[]
    let key: ParsedKey | undefined
    try {
      entries = (await readKnownHosts(this.options.knownHostsPath)).entries
      key = this.loadKey()
    } catch (error) {
      if (error instanceof BridgeError) throw new AttemptFailure(error, true)
      throw error
    }
    const socket = await this.connectTcp(signal)
    return await this.handshake(socket, entries, key, signal)
  }

  private loadKey(): ParsedKey | undefined {
    const { privateKey, passphrase } = this.options
    if (privateKey === undefined) return undefined
    if (this.parsedKey !== undefined) return this.parsedKey
    const parsed = ssh2.utils.parseKey(privateKey, passphrase)
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed
    if (key instanceof Error || key === undefined || !key.isPrivateKey()) {
      const reason = key instanceof Error ? key.message : 'no private key found'
      const field = 'tunnel.ssh.privateKeyPath'
      if (/no passphrase given/i.test(reason)) {
        throw new BridgeError('SSH_AUTH_FAILED', 'The SSH private key is encrypted and no passphrase was given.', {
          hint: 'Give the key passphrase (tunnel.ssh.passphrase or ACR_BRIDGE_SSH_PASSPHRASE), or load the key into an SSH agent.',
          field,
        })
      }
      if (passphrase !== undefined && /passphrase|decrypt/i.test(reason)) {
        throw new BridgeError('SSH_AUTH_FAILED', 'The SSH private key could not be decrypted with the passphrase given.', {
          hint: 'Check the passphrase (tunnel.ssh.passphrase or ACR_BRIDGE_SSH_PASSPHRASE).',
          field,
        })
      }
      throw new BridgeError('SSH_AUTH_FAILED', `The SSH private key cannot be used (${reason}).`, {
        hint: 'Point tunnel.ssh.privateKeyPath at an OpenSSH or PEM private key (ed25519, ecdsa or rsa), not at the .pub file.',
        field,
      })
    }
    this.parsedKey = key
    return key
  }

  private connectTcp(signal: AbortSignal): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      if (signal.aborted) {
        reject(new AttemptFailure(this.closedError(), true))
        return
      }
      // Large reads (large-reads.ts): ssh2 parses a whole read at once, and decrypts in place, so each channel's
      // data is a view of the read and the splices' corked writes send many packets' worth in one call.
      const socket = connectWithDedicatedReads({ host: this.options.host, port: this.options.port, noDelay: true })
      let settled = false
      const fail = (error: Error, message: string): void => {
        if (settled) return
        settled = true
        cleanup()
        socket.destroy()
        reject(
          new AttemptFailure(
            new BridgeError('UPSTREAM_UNREACHABLE', `Could not connect to the SSH server ${this.where} (${message}).`, {
              hint: this.reachHint(errnoCode(error)),
              cause: error,
            }),
            false,
          ),
        )
      }
      const onError = (error: Error): void => fail(error, (error as SshError).code?.toString() ?? error.message)
      const onAbort = (): void => fail(new Error('cancelled'), 'cancelled')
      const timer = this.clock.setTimeout(() => fail(new Error('timed out'), `no answer within ${seconds(this.readyTimeoutMs)}`), this.readyTimeoutMs)
      const cleanup = (): void => {
        this.clock.clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
      socket.on('error', onError) // stays: after the handshake starts, ssh2 reports socket errors as client 'error'
      signal.addEventListener('abort', onAbort, { once: true })
      socket.once('connect', () => {
        if (settled) return
        settled = true
        cleanup()
        socket.setNoDelay(true)
        resolve(socket)
      })
    })
  }

  private handshake(socket: Socket, entries: readonly KnownHostsEntry[], key: ParsedKey | undefined, signal: AbortSignal): Promise<Live> {
    const { host, port, username, knownHostsPath } = this.options
    return new Promise<Live>((resolve, reject) => {
      const client = new ssh2.Client()
      const live: Live = { client, socket, since: 0, channels: new Set(), lost: false, corked: false, warm: new Map(), fastestOpenMs: Number.POSITIVE_INFINITY, wide: false }
      const auth: AuthRecord = { tried: [], serverMethods: undefined, agentProblem: undefined }
      let settled = false
      let isReady = false
      let hostKeyFailure: BridgeError | undefined
      let lastError: SshError | undefined

      const fail = (failure: AttemptFailure): void => {
        if (settled) return
        settled = true
        signal.removeEventListener('abort', onAbort)
        live.lost = true
        client.end()
        socket.destroy()
        reject(failure)
      }
      const onAbort = (): void => fail(new AttemptFailure(this.closedError(), true))
      signal.addEventListener('abort', onAbort, { once: true })

      client.on('error', (error: SshError) => {
        if (error.level === 'agent') {
          auth.agentProblem = error.message
          this.logger.warn(`[tunnel] ssh: the SSH agent could not be used (${error.message})`)
          return
        }
        lastError = error
        if (!settled) fail(this.classifyHandshakeError(error, hostKeyFailure, auth, isReady))
      })
      client.on('close', () => {
        if (!settled) {
          fail(
            hostKeyFailure !== undefined
              ? new AttemptFailure(hostKeyFailure, true)
              : this.classifyHandshakeError(lastError ?? new Error('the server closed the connection'), undefined, auth, isReady),
          )
          return
        }
        this.onConnectionLost(live, lastError)
      })
      client.once('ready', () => {
        isReady = true
        void this.runNoDelayExec(client).then(() => {
          if (settled) return
          settled = true
          signal.removeEventListener('abort', onAbort)
          live.since = this.clock.now()
          resolve(live)
        })
      })

      const verify = (offered: Buffer): boolean => {
        const verdict = checkHostKey(entries, host, port, offered)
        if (verdict.kind === 'known') return true
        hostKeyFailure = hostKeyError(verdict, host, port, offered, knownHostsPath)
        return false
      }
      try {
        client.connect({
          sock: socket,
          username,
          hostVerifier: (offered: Buffer) => verify(offered),
          algorithms: { serverHostKey: preferredHostKeyAlgorithms(knownKeyTypesFor(entries, host, port)) as never },
          keepaliveInterval: this.options.keepaliveIntervalMs ?? 15_000,
          keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
          readyTimeout: this.readyTimeoutMs,
          authHandler: this.authHandler(key, auth),
        })
      } catch (error) {
        fail(
          new AttemptFailure(
            new BridgeError('INVALID_CONFIG', `The SSH connection settings were refused (${(error as Error).message}).`, {
              hint: 'Check the tunnel.ssh settings.',
              field: 'tunnel.ssh',
              cause: error,
            }),
            true,
          ),
        )
      }
    })
  }

  /** Tries, in order, the private key, the agent's keys, the password (or keyboard-interactive answered with it). */
  private authHandler(key: ParsedKey | undefined, record: AuthRecord) {
    const { username, agent, password } = this.options
    const queue: string[] = []
    if (key !== undefined) queue.push('publickey')
    if (agent !== undefined) queue.push('agent')
    if (password !== undefined) queue.push('password', 'keyboard-interactive')
    return (methodsLeft: AuthenticationType[] | null, _partialSuccess: boolean | null, next: NextAuthHandler): void => {
      if (methodsLeft !== null && methodsLeft !== undefined) record.serverMethods = methodsLeft
      const allowed = (method: string): boolean => {
        const left = record.serverMethods
        if (left === undefined) return method !== 'keyboard-interactive'
        if (method === 'agent') return left.includes('publickey')
        if (method === 'keyboard-interactive') return left.includes(method) && !record.tried.includes('password')
        return left.includes(method)
      }
      for (let method = queue.shift(); method !== undefined; method = queue.shift()) {
        if (!allowed(method)) continue
        record.tried.push(method)
        next(authMethod(method, username, key, agent, password))
        return
      }
      // ssh2 ends authentication ("All configured authentication methods failed") when handed false.
      ;(next as (auth: AnyAuthMethod | false) => void)(false)
    }
  }

  private classifyHandshakeError(error: SshError, hostKeyFailure: BridgeError | undefined, auth: AuthRecord, isReady: boolean): AttemptFailure {
    if (hostKeyFailure !== undefined) return new AttemptFailure(hostKeyFailure, true)
    if (error.level === 'client-authentication' || /too many authentication failures/i.test(error.message)) {
      return new AttemptFailure(this.authError(auth, error), true)
    }
    const stage = isReady ? 'after login' : error.level === 'client-timeout' ? 'handshake timed out' : 'handshake failed'
    return new AttemptFailure(
      new BridgeError('UPSTREAM_UNREACHABLE', `The SSH connection to ${this.where} failed (${stage}: ${error.message}).`, {
        hint: this.reachHint(),
        cause: error,
      }),
      false,
    )
  }

  private authError(auth: AuthRecord, cause: Error): BridgeError {
    const names: Record<string, string> = {
      publickey: 'the private key',
      agent: auth.agentProblem === undefined ? "the agent's keys" : `the agent (unusable: ${auth.agentProblem})`,
      password: 'the password',
      'keyboard-interactive': 'the password (keyboard-interactive)',
    }
    const tried = auth.tried.length > 0 ? auth.tried.map((method) => names[method] ?? method).join(', ') : 'nothing the server accepts'
    const offers = auth.serverMethods === undefined ? '' : `; the server accepts ${auth.serverMethods.join(', ') || 'nothing'}`
    return new BridgeError('SSH_AUTH_FAILED', `The SSH server ${this.where} refused the login of ${this.options.username}.`, {
      hint: `Tried ${tried}${offers}. Check the user name, that the public key is in that account's authorized_keys on the ECS, or the password.`,
      cause,
      details: { tried: auth.tried.join(','), serverMethods: (auth.serverMethods ?? []).join(',') },
    })
  }

  /**
   * PERF-NOTES.md trap 1: a non-pty exec makes sshd set TCP_NODELAY for the whole connection. sshd does that when it
   * takes the request, before it answers it, so this resolves on the answer: the command itself runs through the
   * account's login shell, which may take seconds (bash reads .bashrc when sshd starts it: conda, nvm, pyenv), and
   * the connection does not wait for it. The channel closes by itself when the command is done, or is closed after
   * noDelayExecTimeoutMs. Never fails: a refusal leaves Nagle on at sshd, and the connection works.
   */
  private runNoDelayExec(client: ssh2.Client): Promise<void> {
    return new Promise<void>((resolve) => {
      let answered = false
      const answer = (problem?: string): void => {
        if (answered) return
        answered = true
        if (problem !== undefined) this.logger.debug(`[tunnel] ssh: exec('true') after login: ${problem} (continuing)`)
        resolve()
      }
      let channel: ClientChannel | undefined
      const timer = this.clock.setTimeout(() => {
        if (channel !== undefined) {
          this.logger.debug(`[tunnel] ssh: exec('true') after login still runs after ${seconds(noDelayExecTimeoutMs)}: closed`)
          channel.close()
        }
        answer('no answer')
      }, noDelayExecTimeoutMs)
      try {
        client.exec('true', (error, opened) => {
          if (error !== undefined && error !== null) {
            this.clock.clearTimeout(timer)
            answer(`refused: ${error.message}`)
            return
          }
          if (answered) {
            opened.close()
            return
          }
          channel = opened
          opened.on('error', () => {})
          opened.stderr.resume()
          opened.resume()
          opened.once('close', (code: unknown) => {
            this.clock.clearTimeout(timer)
            if (typeof code === 'number' && code !== 0) this.logger.debug(`[tunnel] ssh: exec('true') after login: exit status ${code}`)
          })
          answer()
        })
      } catch (error) {
        this.clock.clearTimeout(timer)
        answer(`not possible: ${(error as Error).message}`)
      }
    })
  }

  private closedError(): BridgeError {
    return new BridgeError('UPSTREAM_UNREACHABLE', `The SSH tunnel to ${this.where} was closed.`, { hint: 'Connect the tunnel again.' })
  }

  private unreachableError(timeoutMs: number): BridgeError {
    const last = this.lastError
    return new BridgeError(
      'UPSTREAM_UNREACHABLE',
      `No SSH connection to ${this.where} within ${seconds(timeoutMs)}${last === undefined ? '' : `: ${last.message.replace(/\.$/, '')}`}.`,
      { hint: last?.hint ?? this.reachHint(), details: { timedOut: true }, ...(last === undefined ? {} : { cause: last }) },
    )
  }
}

function authMethod(method: string, username: string, key: ParsedKey | undefined, agent: string | undefined, password: string | undefined): AnyAuthMethod {
  switch (method) {
    case 'publickey':
      return { type: 'publickey', username, key: key as ParsedKey }
    case 'agent':
      return { type: 'agent', username, agent: agent as string }
    case 'password':
      return { type: 'password', username, password: password as string }
    default:
      return {
        type: 'keyboard-interactive',
        username,
        prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password as string)),
      }
  }
}

function openFailure(error: SshError, target: UpstreamTarget): BridgeError {
  const to = `${target.name}:${target.port}`
  if (error.reason === 1) {
    return new BridgeError('UPSTREAM_REFUSED', `The ECS's sshd refused to forward to ${to} (${error.message}).`, {
      hint: 'Allow TCP forwarding for this account in the ECS sshd_config (AllowTcpForwarding yes, and PermitOpen if set).',
      cause: error,
      details: { reason: 1 },
    })
  }
  return new BridgeError('UPSTREAM_REFUSED', `The ECS could not connect to ${to} (${error.message}).`, {
    hint: 'Check that the ECS can resolve and reach the name (VPC endpoints resolve only inside the VPC).',
    cause: error,
    ...(typeof error.reason === 'number' ? { details: { reason: error.reason } } : {}),
  })
}


function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  return reason instanceof Error ? reason : new DOMException('The dial was aborted.', 'AbortError')
}

/** Ends the SSH connection politely, then destroys the socket if it has not closed within closeGraceMs. */
function endConnection(live: Live, clock: SshClock): Promise<void> {
  return new Promise<void>((resolve) => {
    if (live.socket.destroyed) return resolve()
    const timer = clock.setTimeout(() => live.socket.destroy(), closeGraceMs)
    live.socket.once('close', () => {
      clock.clearTimeout(timer)
      resolve()
    })
    live.client.end()
  })
}

/**
 * Corks the SSH transport until the next tick, so the packets ssh2 writes meanwhile (one socket write each: a large
 * chunk from a client becomes a run of 32 KiB packets) leave in one writev.
 */
function batchWrites(live: Live): void {
  if (live.corked) return
  live.corked = true
  live.socket.cork()
  process.nextTick(() => {
    live.corked = false
    live.socket.uncork()
  })
}
