// The session controller: the one owner of a session's lifetime (lock → dialer → tunnel → system changes → probes)
// and of its state, which deriveSessionState decides from what the controller sees. The tray, the window (through
// IPC) and `acr-bridge up` all drive this object.
//
// Without a HealthMonitor (createHealthMonitor absent) the controller reports the checks it knows itself: one
// `listener` check per name once the listeners are bound. So the state goes starting → healthy when the tunnel is
// up, and in ssh mode follows the shared SSH connection (reconnecting → degraded, failed → down); it says nothing
// about the ECS's reachability in sni/connect mode or about the registry behind it. That is the probes' job.

import { readFile } from 'node:fs/promises'
import type { CheckResult, NameTraffic, SessionState } from '../../common/status.js'
import { hostEntriesForConfig } from '../catalog/host-entries.js'
import type { HostEntry } from '../catalog/types.js'
import { parseConfig } from '../config/schema.js'
import { resolveSecrets } from '../config/secrets.js'
import type { Config } from '../config/types.js'
import { Emitter, type Disposable } from '../disposable.js'
import { BridgeError, errnoCode, isBridgeError, serializeError } from '../errors.js'
import { planHostsBytes } from '../hosts/hosts-plan.js'
import { nullLogger, type Logger } from '../logger.js'
import { defaultHostsPath, type Platform } from '../paths.js'
import type { ListenStrategy } from '../platform/listen-strategy.js'
import { watchNetwork, type NetworkChange, type NetworkWatchOptions } from '../platform/network-watch.js'
import { isProcessPrivileged } from '../privileged/direct-elevator.js'
import type { Elevator, PrivilegedWriter } from '../privileged/types.js'
import { detectContainerEngines, type EngineKind } from '../probes/container-engine.js'
import { startTunnel as startTunnelDefault, type StartTunnelOptions, type Tunnel, type TunnelStats } from '../tunnel/tunnel.js'
import { formatHostPort } from '../tunnel/listen.js'
import type { SshConnectionState } from '../tunnel/ssh-dialer.js'
import type { Dialer } from '../tunnel/types.js'
import { createDialerForConfig, isSshDialer } from './create-dialer.js'
import { listeningState } from '../platform/listening-state.js'
import { deriveSessionState } from './derive-state.js'
import { describeRoutes, type NameRoute } from './routes.js'
import { acquireSessionLock, alreadyRunning, liveSessionLock, osProcessProbe, type ProcessProbe, type SessionLock } from './session-lock.js'
import { automaticListenAddress, createSystemChanges } from './system-changes.js'
import type {
  ConnectOptions,
  DiscoveryRequest,
  DiscoveryResult,
  HealthMonitor,
  HealthMonitorContext,
  HostsPreview,
  SessionController,
  StaleLease,
  TunnelHealth,
} from './types.js'

/** What discovery gets from the controller: the session's dialer when one runs, else one built for the call. */
export interface DiscoveryContext {
  readonly config: Config
  readonly entries: readonly HostEntry[]
  readonly dialer: Dialer
  readonly logger: Logger
}

export interface SessionControllerDeps {
  /** The saved config (validated here; secrets may be left out and come from `env`). */
  readonly config: Config
  /** Persists a config setConfig accepted (the app's settings store; absent: in memory only, as for `up`). */
  readonly saveConfig?: (config: Config) => Promise<void>
  /** The hosts file to manage; default the OS one (defaultHostsPath). */
  readonly hostsPath?: string
  /** The app's data folder: the session lock, the hosts backup and write journal. */
  readonly dataDir: string
  readonly platform: Platform
  /** Secrets (resolveSecrets) and SSH_AUTH_SOCK come from here. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** `~` in config paths expands to this. */
  readonly homeDir: string
  /** The one prompt per apply or revert when this process is not privileged (hosts, port redirects, alias). */
  readonly elevator: Elevator
  /** This process may bind any port and change the system itself (default: POSIX uid 0). */
  readonly isPrivileged?: boolean
  /** Container engines on this machine, for the listen strategy (default: probes' detectContainerEngines). */
  readonly detectEngines?: () => Promise<readonly EngineKind[]>
  readonly logger?: Logger
  readonly now?: () => Date
  readonly createHealthMonitor?: (context: HealthMonitorContext) => HealthMonitor
  readonly discover?: (context: DiscoveryContext, request: DiscoveryRequest) => Promise<DiscoveryResult>
  /** How long disconnect lets forwarded connections finish before cutting them (default 5000 ms). */
  readonly drainMs?: number
  /** Traffic counters reach state.traffic at most this often while bytes flow (default 1000 ms). */
  readonly statsIntervalMs?: number
  /** ssh mode: connect() waits this long for the SSH connection (default 20000 ms). */
  readonly upstreamConnectTimeoutMs?: number
  /** Flush the OS resolver cache after writing the hosts file; default: when hostsPath is the OS hosts file. */
  readonly flushResolverCache?: boolean
  // Seams for tests and for issue 6's platform work; the defaults are the real parts.
  readonly writer?: PrivilegedWriter
  readonly createDialer?: (config: Config) => Promise<Dialer>
  readonly startTunnel?: (options: StartTunnelOptions) => Promise<Tunnel>
  readonly processProbe?: ProcessProbe
  /** Linux: net.ipv4.ip_unprivileged_port_start of this network namespace (listen strategy, PORT_NEEDS_PRIVILEGE hint). */
  readonly unprivilegedPortStart?: () => Promise<number | undefined>
  /** How a running session notices that the machine's addresses changed (default: watchNetwork's); false: it does not. */
  readonly network?: NetworkWatchOptions | false
  /** Windows: IPv4 addresses of the interfaces that are up, for the listen strategy (default os.networkInterfaces()). */
  readonly interfaceAddresses?: () => readonly string[]
}

/** The controller plus what only a local caller (the CLI) needs: where names go, and the tunnel's counters. */
export interface LocalSessionController extends SessionController {
  readonly hostsPath: string
  /** The routes of the running session (or of the current config when none runs). */
  routes(): NameRoute[]
  /** The running tunnel's counters, refusals included; after a session ended, its final counters; else undefined. */
  tunnelStats(): TunnelStats | undefined
  /** The running session's listen strategy and where its tunnel is bound; undefined when none runs. */
  listening(): { readonly strategy: ListenStrategy; readonly bound: Tunnel['addresses'] } | undefined
}

interface Session {
  config: Config
  entries: readonly HostEntry[]
  dialer: Dialer
  tunnel: Tunnel
  strategy: ListenStrategy
  readonly lock: SessionLock
  monitor: HealthMonitor | undefined
  subscriptions: Disposable[]
}

const defaultDrainMs = 5000
/**
 * After a sleep this long the SSH connection is dropped and made anew rather than trusted: NATs and the ECS may
 * have forgotten it, and the keepalives would take up to 45 s to notice (15 s × 3) while pulls hang.
 */
const reconnectAfterSleepMs = 10_000
/**
 * Following the network, a bind on the new address that fails because the address is not the machine's is tried
 * again this many times in all, a second apart, the listen address chosen anew each time: a new address can refuse
 * binds for a moment after it appears (duplicate address detection keeps it tentative), or be gone again already.
 */
const followBindAttempts = 5
const followBindRetryMs = 1_000
/** A failed upstream dial while healthy checks every hop again, at most once this often. */
const recheckAfterDialFailureMs = 5_000

export function createSessionController(deps: SessionControllerDeps): LocalSessionController {
  const logger = deps.logger ?? nullLogger
  const now = deps.now ?? (() => new Date())
  const osHostsPath = defaultHostsPath(deps.platform, deps.env as NodeJS.ProcessEnv)
  const hostsPath = deps.hostsPath ?? osHostsPath
  const drainMs = deps.drainMs ?? defaultDrainMs
  const probe = deps.processProbe ?? osProcessProbe
  const portStart = deps.unprivilegedPortStart ?? (deps.platform === 'linux' ? readUnprivilegedPortStart : async () => undefined)
  const system = createSystemChanges({
    hostsPath,
    dataDir: deps.dataDir,
    platform: deps.platform,
    elevator: deps.elevator,
    ...(deps.writer === undefined ? {} : { writer: deps.writer }),
    logger,
    flushResolverCache: deps.flushResolverCache ?? hostsPath === osHostsPath,
    isPrivileged: deps.isPrivileged ?? isProcessPrivileged(),
    pid: probe.self().pid,
    detectEngines:
      deps.detectEngines ??
      (async () =>
        (await detectContainerEngines({ platform: deps.platform, env: deps.env as NodeJS.ProcessEnv, homeDir: deps.homeDir })).map((finding) => finding.kind)),
    unprivilegedPortStart: portStart,
    ...(deps.interfaceAddresses === undefined ? {} : { interfaceAddresses: deps.interfaceAddresses }),
  })
  const createDialer = deps.createDialer ?? ((config: Config) => createDialerForConfig(config, { env: deps.env, homeDir: deps.homeDir, logger }))
  const startTunnel = deps.startTunnel ?? startTunnelDefault

  let config = parseConfig(deps.config)
  let session: Session | undefined
  let tunnelKind: TunnelHealth['kind'] = 'stopped'
  let tunnelError: TunnelHealth['error']
  let upstream: TunnelHealth['upstream']
  let checks: readonly CheckResult[] = []
  let traffic: readonly NameTraffic[] = []
  let entries: readonly HostEntry[] = []
  let lastStats: TunnelStats | undefined
  let disposed = false
  const stateEmitter = new Emitter<SessionState>()
  let state = derive(undefined)
  let queue: Promise<unknown> = Promise.resolve()

  function derive(previous: SessionState | undefined): SessionState {
    const tunnel: TunnelHealth = {
      kind: tunnelKind,
      ...(upstream === undefined ? {} : { upstream }),
      ...(tunnelError === undefined ? {} : { error: tunnelError }),
    }
    const derived = deriveSessionState(previous, { tunnel, checks, entries, traffic, now: now() })
    // Where the running session listens, as chosen and as bound: the window shows this, not the settings.
    return session === undefined ? derived : { ...derived, listening: listeningState(session.strategy, session.tunnel.addresses) }
  }

  function update(): void {
    const next = derive(state)
    if (JSON.stringify(next) === JSON.stringify(state)) return
    state = next
    stateEmitter.fire(state)
  }

  /** Runs operations that change the session one at a time, in call order. */
  function serialize<T>(operation: () => Promise<T>): Promise<T> {
    if (disposed) return Promise.reject(new Error('The session controller has been disposed.'))
    const run = queue.then(operation, operation)
    queue = run.catch(() => undefined)
    return run
  }

  function resolvedConfig(source: Config): Config {
    return parseConfig(resolveSecrets(source, deps.env))
  }

  /** Where clients reach the session: the address the hosts block maps to and the public ports (redirected or bound). */
  function publicListen(strategy: ListenStrategy, tunnel: Tunnel): HealthMonitorContext['listen'] {
    const { proxyPort } = tunnel.addresses
    return {
      address: strategy.hostsAddress,
      port: strategy.publicPorts.tls,
      ...(strategy.publicPorts.http === null ? {} : { httpPort: strategy.publicPorts.http }),
      // The proxy listener is not redirected: it is reachable where the tunnel is bound.
      ...(proxyPort === undefined || strategy.bindAddress !== strategy.hostsAddress ? {} : { proxyPort }),
    }
  }

  /** The config as the session runs it: listen.address is the address the hosts block maps to. */
  function effectiveConfig(resolved: Config, strategy: ListenStrategy): Config {
    if (resolved.listen.address !== automaticListenAddress || strategy.hostsAddress === automaticListenAddress) return resolved
    return { ...resolved, listen: { ...resolved.listen, address: strategy.hostsAddress } }
  }

  function ownChecks(list: readonly HostEntry[], strategy: ListenStrategy, tunnel: Tunnel): CheckResult[] {
    const { address, port, httpPort } = publicListen(strategy, tunnel)
    return list.map((entry) => {
      const where = entry.ports.map((p) => formatHostPort(address, p === 80 ? (httpPort ?? 80) : port)).join(' and ')
      return { name: entry.name, hop: 'listener', ok: true, reason: `The tunnel listens on ${where}.` }
    })
  }

  function watchUpstream(dialer: Dialer): Disposable | undefined {
    if (!isSshDialer(dialer)) {
      upstream = undefined
      return undefined
    }
    const apply = (ssh: SshConnectionState): void => {
      switch (ssh.kind) {
        case 'idle':
        case 'connecting':
          upstream = 'connecting'
          break
        case 'connected':
          upstream = 'connected'
          if (tunnelKind === 'running') tunnelError = undefined
          break
        case 'reconnecting':
          upstream = 'reconnecting'
          // degraded, and why: the tray, the window and `up` say what the SSH connection is waiting on
          if (tunnelKind === 'running') tunnelError = serializeError(ssh.error)
          break
        case 'failed':
          upstream = 'failed'
          if (tunnelKind === 'running') tunnelError = serializeError(ssh.error)
          break
        case 'closed':
          return
      }
      update()
    }
    apply(dialer.state)
    return dialer.onDidChangeState(apply)
  }

  async function openUpstream(resolved: Config): Promise<{ dialer: Dialer; watch: Disposable | undefined }> {
    const dialer = await createDialer(resolved)
    const watch = watchUpstream(dialer)
    if (isSshDialer(dialer)) {
      try {
        await dialer.connect({ timeoutMs: deps.upstreamConnectTimeoutMs ?? 20_000 })
      } catch (error) {
        watch?.dispose()
        await dialer.close().catch((closeError: unknown) => logger.warn('[session] closing the dialer failed', closeError))
        throw error
      }
    }
    return { dialer, watch }
  }

  /** Binds the tunnel where the strategy says: the public ports directly, or high ports behind a redirect. */
  async function bind(resolved: Config, list: readonly HostEntry[], dialer: Dialer, strategy: ListenStrategy): Promise<Tunnel> {
    try {
      return await startTunnel({
        listen: { ...resolved.listen, address: strategy.bindAddress, port: strategy.bindPorts.tls, httpPort: strategy.bindPorts.http },
        names: list,
        dialer,
        logger,
        ...(deps.statsIntervalMs === undefined ? {} : { statsIntervalMs: deps.statsIntervalMs }),
      })
    } catch (error) {
      if (isBridgeError(error, 'PORT_NEEDS_PRIVILEGE')) throw await privilegeError(error, resolved)
      throw error
    }
  }

  /**
   * Chooses where to listen and binds there (connect, restart). With more than one attempt (following the network),
   * a bind that failed because the address is not the machine's (EADDRNOTAVAIL) is tried again after
   * followBindRetryMs, the strategy chosen anew.
   */
  async function chooseAndBind(resolved: Config, list: readonly HostEntry[], dialer: Dialer, attempts: number): Promise<{ strategy: ListenStrategy; tunnel: Tunnel }> {
    for (let attempt = 1; ; attempt++) {
      const strategy = await system.chooseStrategy(resolved.listen)
      try {
        return { strategy, tunnel: await bind(resolved, list, dialer, strategy) }
      } catch (error) {
        const notOurs = isBridgeError(error, 'INVALID_CONFIG') && errnoCode(error.cause) === 'EADDRNOTAVAIL'
        if (!notOurs || attempt >= attempts) throw error
        logger.info(`[session] ${strategy.bindAddress} cannot be listened on yet (try ${attempt} of ${attempts}): trying again in ${followBindRetryMs / 1000} s`)
        await new Promise((resolve) => setTimeout(resolve, followBindRetryMs))
      }
    }
  }

  async function privilegeError(error: BridgeError, resolved: Config): Promise<BridgeError> {
    const limit = await portStart().catch(() => undefined)
    if (limit === undefined) return error
    const lowest = Math.min(resolved.listen.port, resolved.listen.httpPort ?? resolved.listen.port)
    return new BridgeError('PORT_NEEDS_PRIVILEGE', `${error.message.replace(/\.$/, '')}: ports below ${limit} are privileged here.`, {
      hint:
        `Run acr-bridge as root (sudo), or let ordinary users bind from port ${lowest} on: ` +
        `sudo sysctl -w net.ipv4.ip_unprivileged_port_start=${lowest}`,
      ...(error.field === undefined ? {} : { field: error.field }),
      cause: error,
    })
  }

  /** Starts probing the session (or, without a monitor, reports the listener checks the controller knows). */
  function startMonitor(current: Session): void {
    current.monitor?.stop()
    current.monitor = undefined
    if (deps.createHealthMonitor === undefined) {
      checks = ownChecks(current.entries, current.strategy, current.tunnel)
      return
    }
    checks = []
    const monitor = deps.createHealthMonitor({
      config: current.config,
      entries: current.entries,
      dialer: current.dialer,
      hostsPath,
      listen: publicListen(current.strategy, current.tunnel),
      logger,
      now,
    })
    current.monitor = monitor
    current.subscriptions.push(
      monitor.onDidChangeChecks((results) => {
        if (session?.monitor !== monitor) return
        checks = results
        update()
      }),
    )
    monitor.start()
  }

  /**
   * Follows the tunnel's counters. A client connection whose upstream dial failed while the state says healthy
   * checks every hop again at once (at most once per recheckAfterDialFailureMs), so the tray turns when the pulls
   * start failing, not at the next periodic check up to 30 s later.
   */
  function watchTraffic(tunnel: Tunnel): Disposable {
    const initial = tunnel.stats()
    traffic = initial.names
    let dialFailures = initial.dialFailures
    let lastRecheck = Number.NEGATIVE_INFINITY
    return tunnel.onDidChangeStats((stats) => {
      traffic = stats.names
      update()
      const failedNow = stats.dialFailures > dialFailures
      dialFailures = stats.dialFailures
      const at = now().getTime()
      if (!failedNow || state.kind !== 'healthy' || at - lastRecheck < recheckAfterDialFailureMs) return
      lastRecheck = at
      logger.info('[session] a client connection could not reach its upstream: checking every hop again')
      void controller.runDiagnostics().catch((error: unknown) => logger.warn('[session] the checks after a failed dial failed', error))
    })
  }

  /** Follows the machine's addresses while `current` runs (disposed with its other subscriptions). */
  function followNetwork(current: Session): void {
    if (deps.network === false) return
    current.subscriptions.push(watchNetwork((change) => networkChanged(current, change), deps.network))
  }

  /**
   * The machine's addresses changed (Wi-Fi switched, a VPN came up): drop what the change left dead and check every
   * hop again, so the state shown is the network's of now. Warm upstream connections, and forwarded ones that left
   * from an address that went, are dropped (a client would wait on them until TCP gives up; cut, it retries); the
   * SSH connection is made anew when the address it left from is gone (it is dead, and its keepalives would take up
   * to 45 s to say so), and a reconnect waiting for its backoff runs at once when an address came (the network is
   * back); a session whose names point at this machine's LAN address (followsNetwork) listens anew on
   * the new one and rewrites the hosts block, as a settings change would.
   */
  function networkChanged(current: Session, change: NetworkChange): void {
    if (session !== current) return
    const described = [
      ...(change.gone.length > 0 ? [`gone: ${change.gone.join(', ')}`] : []),
      ...(change.added.length > 0 ? [`new: ${change.added.join(', ')}`] : []),
    ].join('; ')
    logger.info(`[session] the network changed (${described}): checking every hop again`)
    if (change.gone.length > 0) {
      current.dialer.coolDown?.()
      current.tunnel.dropConnectionsFrom(change.gone)
    }
    if (isSshDialer(current.dialer)) {
      const from = current.dialer.localAddress()
      if (from !== undefined && change.gone.includes(from)) {
        current.dialer.reconnectNow(`this machine no longer has the address ${from} the SSH connection left from`)
      } else if (change.added.length > 0 && current.dialer.state.kind === 'reconnecting') {
        // The network is back (or another one came): try now, not when the backoff (up to 30 s) says.
        current.dialer.reconnectNow(`the network changed (new: ${change.added.join(', ')})`)
      }
    }
    if (current.strategy.followsNetwork && change.gone.includes(current.strategy.hostsAddress)) {
      logger.info(`[session] ${current.strategy.hostsAddress}, where the names point, is gone: listening anew on the network of now`)
      void serialize(async () => {
        if (session === current) await restartSession(current, resolvedConfig(config), current.entries, followBindAttempts)
      }).catch((error: unknown) => logger.error('[session] could not follow the network to its new address', error))
      return
    }
    void controller.runDiagnostics().catch((error: unknown) => logger.warn('[session] the checks after a network change failed', error))
  }

  /**
   * Connect while a session runs, as the tray's and the window's Reconnect do when the state is down: nothing is bound
   * or written again (no prompt). The warm upstream connections are dropped and every hop is checked again now; in
   * ssh mode that check connects anew (a retry waiting for its backoff runs at once; after a final failure, such as
   * a changed host key trusted since, it starts over).
   */
  async function reconnectUpstream(current: Session): Promise<void> {
    logger.info('[session] reconnect: the session runs; dropping warm upstream connections and checking every hop again')
    current.dialer.coolDown?.()
    await controller.runDiagnostics()
  }

  async function connectNow(options: ConnectOptions = {}): Promise<void> {
    if (session !== undefined) {
      await reconnectUpstream(session)
      return
    }
    tunnelKind = 'starting'
    tunnelError = undefined
    upstream = undefined
    checks = []
    traffic = []
    const undo: (() => Promise<unknown>)[] = []
    try {
      const resolved = resolvedConfig(config)
      entries = hostEntriesForConfig(resolved)
      update()
      const lock = await acquireSessionLock(deps.dataDir, { hostsPath, startedAt: now() }, probe)
      undo.push(() => lock.release())
      const { dialer, watch } = await openUpstream(resolved)
      undo.push(async () => {
        watch?.dispose()
        await dialer.close()
      })
      const { strategy, tunnel } = await chooseAndBind(resolved, entries, dialer, 1)
      undo.push(() => tunnel.close())
      // ONE privileged step: hosts block + redirects + alias, each written to the lease before it is made. Resuming:
      // the session lock taken above proves that whoever left a lease holds no session any more.
      const applied = await system.apply(strategy, tunnel.addresses, entries, {
        takeOver: resolved.hosts.takeOver,
        adopt: options.resumeStaleLease === true,
      })
      undo.push(() => system.revert())
      if (applied.adoptedFrom !== undefined) {
        logger.info(
          `[session] resumed the system changes of an earlier run (pid ${applied.adoptedFrom}): ` +
            `made ${applied.made.join('; ') || 'nothing again'}; removed ${applied.removed.join('; ') || 'nothing'}`,
        )
      }
      const current: Session = { config: effectiveConfig(resolved, strategy), entries, dialer, tunnel, strategy, lock, monitor: undefined, subscriptions: [] }
      if (watch !== undefined) current.subscriptions.push(watch)
      current.subscriptions.push(watchTraffic(tunnel))
      session = current
      tunnelKind = 'running'
      followNetwork(current)
      startMonitor(current)
      logger.info(`[session] up: ${entries.length} names, mode ${resolved.tunnel.mode}, hosts file ${hostsPath}, listening ${strategy.mechanism}`)
      update()
    } catch (error) {
      session = undefined
      await rollback(undo)
      tunnelKind = 'failed'
      tunnelError = serializeError(error)
      checks = []
      update()
      throw error
    }
  }

  async function rollback(undo: (() => Promise<unknown>)[]): Promise<void> {
    for (const step of undo.reverse()) {
      try {
        await step()
      } catch (error) {
        logger.error('[session] could not undo a step of the failed start', error)
      }
    }
  }

  /** Takes the session apart; `revertSystem` false keeps the hosts block (a restart that re-applies it). */
  async function teardown(current: Session, options: { readonly revertSystem: boolean }): Promise<unknown> {
    current.monitor?.stop()
    current.monitor = undefined
    await current.tunnel.close({ drainMs })
    lastStats = current.tunnel.stats()
    let failure: unknown
    if (options.revertSystem) {
      try {
        await system.revert()
      } catch (error) {
        failure = error
        logger.error('[session] could not remove the hosts block; the next start will offer to', error)
      }
    }
    try {
      await current.dialer.close()
    } catch (error) {
      logger.warn('[session] closing the dialer failed', error)
    }
    for (const subscription of current.subscriptions) subscription.dispose()
    current.subscriptions = []
    return failure
  }

  async function disconnectNow(): Promise<void> {
    const current = session
    if (current === undefined) {
      if (tunnelKind !== 'stopped') {
        tunnelKind = 'stopped'
        tunnelError = undefined
        upstream = undefined
        checks = []
        update()
      }
      return
    }
    const failure = await teardown(current, { revertSystem: true })
    await current.lock.release()
    session = undefined
    tunnelKind = 'stopped'
    upstream = undefined
    tunnelError = failure === undefined ? undefined : serializeError(failure)
    checks = []
    update()
    logger.info('[session] down')
    if (failure !== undefined) throw failure
  }

  async function setConfigNow(next: Config): Promise<void> {
    const valid = parseConfig(next)
    hostEntriesForConfig(valid)
    await deps.saveConfig?.(valid)
    config = valid
    const current = session
    if (current === undefined) {
      entries = []
      return
    }
    const resolved = resolvedConfig(valid)
    const nextEntries = hostEntriesForConfig(resolved)
    const restart =
      JSON.stringify(resolved.tunnel) !== JSON.stringify(current.config.tunnel) ||
      JSON.stringify(effectiveConfig(resolved, current.strategy).listen) !== JSON.stringify(current.config.listen)
    if (restart) await restartSession(current, resolved, nextEntries)
    else await renameSession(current, resolved, nextEntries)
  }

  /** Same tunnel, new name set: the listeners stay, the hosts block is rewritten (if it changed at all). */
  async function renameSession(current: Session, resolved: Config, nextEntries: readonly HostEntry[]): Promise<void> {
    const previous = current.entries
    current.tunnel.setNames(nextEntries)
    try {
      await system.apply(current.strategy, current.tunnel.addresses, nextEntries, { takeOver: resolved.hosts.takeOver })
    } catch (error) {
      current.tunnel.setNames(previous)
      throw error
    }
    current.config = effectiveConfig(resolved, current.strategy)
    current.entries = nextEntries
    entries = nextEntries
    startMonitor(current)
    update()
  }

  /**
   * New upstream or listeners: open the new upstream first (a failure leaves the running session alone), then swap
   * the tunnel and rewrite the hosts block without removing it in between (no second elevation for a revert).
   */
  async function restartSession(current: Session, resolved: Config, nextEntries: readonly HostEntry[], bindAttempts = 1): Promise<void> {
    const { dialer, watch } = await openUpstream(resolved)
    await teardown(current, { revertSystem: false })
    session = undefined
    tunnelKind = 'starting'
    checks = []
    entries = nextEntries
    update()
    const undo: (() => Promise<unknown>)[] = [
      () => current.lock.release(),
      () => system.revert(),
      async () => {
        watch?.dispose()
        await dialer.close()
      },
    ]
    try {
      const { strategy, tunnel } = await chooseAndBind(resolved, nextEntries, dialer, bindAttempts)
      undo.push(() => tunnel.close())
      await system.apply(strategy, tunnel.addresses, nextEntries, { takeOver: resolved.hosts.takeOver })
      const next: Session = {
        config: effectiveConfig(resolved, strategy),
        entries: nextEntries,
        dialer,
        tunnel,
        strategy,
        lock: current.lock,
        monitor: undefined,
        subscriptions: [],
      }
      if (watch !== undefined) next.subscriptions.push(watch)
      next.subscriptions.push(watchTraffic(tunnel))
      session = next
      tunnelKind = 'running'
      followNetwork(next)
      startMonitor(next)
      update()
    } catch (error) {
      await rollback(undo)
      tunnelKind = 'failed'
      tunnelError = serializeError(error)
      update()
      throw error
    }
  }

  async function withDialer<T>(use: (context: DiscoveryContext) => Promise<T>): Promise<T> {
    const current = session
    if (current !== undefined) return use({ config: current.config, entries: current.entries, dialer: current.dialer, logger })
    const resolved = resolvedConfig(config)
    const dialer = await createDialer(resolved)
    try {
      return await use({ config: resolved, entries: hostEntriesForConfig(resolved), dialer, logger })
    } finally {
      await dialer.close().catch((error: unknown) => logger.warn('[session] closing the dialer failed', error))
    }
  }

  const controller: LocalSessionController = {
    hostsPath,
    get state() {
      return state
    },
    onDidChangeState: stateEmitter.event,
    getConfig: () => config,
    setConfig: (next) => serialize(() => setConfigNow(next)),

    async previewHosts(candidate) {
      const source = candidate === undefined ? config : parseConfig(candidate)
      const list = hostEntriesForConfig(source)
      let bytes: Buffer
      try {
        bytes = await readFile(hostsPath)
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') {
          throw new BridgeError('HOSTS_READ_FAILED', `The hosts file ${hostsPath} cannot be read.`, {
            hint: 'Check the file and its permissions, then try again.',
            cause: error,
          })
        }
        bytes = Buffer.alloc(0)
      }
      const { plan } = planHostsBytes(bytes, list, { takeOver: source.hosts.takeOver, platform: deps.platform })
      return {
        block: plan.block,
        entries: list,
        added: plan.added.map((mapping) => mapping.name),
        removed: plan.removed.map((mapping) => mapping.name),
        conflicts: plan.conflicts.map(({ name, line, address, owner }) => ({ name, line, address, owner })),
        shadowed: plan.shadowed,
      } satisfies HostsPreview
    },

    connect: (options) => serialize(() => connectNow(options)),
    disconnect: () => serialize(disconnectNow),

    async runDiagnostics() {
      const current = session
      if (current?.monitor !== undefined) {
        const results = await current.monitor.runNow()
        if (session === current) {
          checks = results
          update()
        }
        return results
      }
      if (current !== undefined || deps.createHealthMonitor === undefined) return checks
      const createMonitor = deps.createHealthMonitor
      return withDialer(async (context) => {
        const { address, port, httpPort, proxyPort } = context.config.listen
        const monitor = createMonitor({
          config: context.config,
          entries: context.entries,
          dialer: context.dialer,
          hostsPath,
          listen: { address, port, ...(httpPort === null ? {} : { httpPort }), ...(proxyPort === undefined ? {} : { proxyPort }) },
          logger,
          now,
        })
        try {
          return await monitor.runNow()
        } finally {
          monitor.stop()
        }
      })
    },

    systemResumed(suspendedMs) {
      const current = session
      if (current === undefined) return
      const asleep = Number.isFinite(suspendedMs) ? `${Math.round(suspendedMs / 1000)} s` : 'an unknown time'
      logger.info(`[session] the machine woke up after ${asleep} asleep: checking every hop again`)
      current.dialer.coolDown?.()
      if (isSshDialer(current.dialer) && suspendedMs >= reconnectAfterSleepMs) {
        current.dialer.reconnectNow(`the machine slept for ${asleep}`)
      }
      void controller.runDiagnostics().catch((error: unknown) => logger.warn('[session] the checks after waking up failed', error))
    },

    async discover(request) {
      const run = deps.discover
      if (run === undefined) {
        throw new BridgeError('DISCOVERY_FAILED', 'Host discovery is not available in this build.', {
          hint: 'Use `acr-bridge discover` from the command line.',
        })
      }
      return withDialer((context) => run(context, request))
    },

    async findStaleLease(): Promise<StaleLease | undefined> {
      if (session !== undefined) return undefined
      if ((await liveSessionLock(deps.dataDir, probe)) !== undefined) return undefined
      return system.inspect()
    },

    revertStaleLease: () =>
      serialize(async () => {
        if (session !== undefined) throw alreadyRunning(session.lock.info)
        const lock = await acquireSessionLock(deps.dataDir, { hostsPath, startedAt: now() }, probe)
        try {
          await system.revert()
        } finally {
          await lock.release()
        }
      }),

    routes: () => (session === undefined ? describeRoutes(config, hostEntriesForConfig(config)) : describeRoutes(session.config, session.entries)),
    tunnelStats: () => session?.tunnel.stats() ?? lastStats,
    listening: () => (session === undefined ? undefined : { strategy: session.strategy, bound: session.tunnel.addresses }),

    async dispose() {
      if (disposed) return
      await serialize(async () => {
        if (session !== undefined) {
          try {
            await disconnectNow()
          } catch (error) {
            logger.error('[session] stopping the session at dispose failed', error)
          }
        }
      })
      disposed = true
      stateEmitter.dispose()
    },
  }
  return controller
}

async function readUnprivilegedPortStart(): Promise<number | undefined> {
  try {
    const value = Number((await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')).trim())
    return Number.isInteger(value) ? value : undefined
  } catch {
    return undefined
  }
}
