// Everything a session changes on the machine, in one place (STYLE.md §8.6: "removing the block on start and on quit
// is the same code"): where the tunnel listens (the listen strategy, docs/platforms.md), and the hosts block, port
// redirects and loopback alias that make the names reach it — made in ONE privileged step and undone in one, through
// the crash-safe lease (core/lease), so apply, revert and crash recovery stay one code path.
//
//   chooseStrategy(listen)                       — per connect: OS, root or not, engines found, the user's overrides
//   apply(strategy, bound, entries, {takeOver})  — one privileged run: alias, redirects, hosts block (lease first)
//   revert()                                     — one privileged run: undo what the lease lists
//   inspect() / revertStale()                    — what a session that did not stop cleanly left (lease or block)
//
// "Automatic" listen address: listen.address keeps its default 127.0.0.1, which means "let the strategy decide"
// (127.0.0.1 on Linux with a rootful engine or none, an alias outside 127/8 for a VM or rootless engine, a VM-reachable
// address on Windows). Any other listen.address is the user's override: the hosts block points there.

import type { HostEntry } from '../catalog/types.js'
import type { ListenConfig } from '../config/types.js'
import { errnoCode, isBridgeError } from '../errors.js'
import { readHostsState, revertHostsBlock } from '../hosts/hosts-manager.js'
import { readLease } from '../lease/lease-journal.js'
import { planSystemChanges } from '../lease/plan.js'
import { applySystemChanges, findLease, revertSystemChanges, type SystemChangeDeps } from '../lease/system-changes.js'
import type { Logger } from '../logger.js'
import type { Platform } from '../paths.js'
import { chooseListenStrategy, type ListenOverrides, type ListenStrategy } from '../platform/listen-strategy.js'
import { externalIpv4Addresses, readDockerDesktopHostAddress } from '../platform/machine-facts.js'
import { createDirectElevator } from '../privileged/direct-elevator.js'
import { createPrivilegedWriter } from '../privileged/privileged-writer.js'
import type { Elevator, PrivilegedWriter } from '../privileged/types.js'
import type { EngineKind } from '../probes/container-engine.js'
import type { StaleLease } from './types.js'

/** listen.address's default: the strategy decides the address (see the header). */
export const automaticListenAddress = '127.0.0.1'

export interface SystemChangesOptions {
  readonly hostsPath: string
  readonly dataDir: string
  readonly platform: Platform
  /** The one OS prompt per apply / revert (not used when isPrivileged). */
  readonly elevator: Elevator
  /** The hosts writer (tests inject one that writes directly); default: one made from `elevator`. */
  readonly writer?: PrivilegedWriter
  readonly logger: Logger
  /** Flush the OS resolver cache after a write (the OS hosts file only). */
  readonly flushResolverCache: boolean
  /** This process may bind any port and change the system itself (POSIX uid 0). */
  readonly isPrivileged: boolean
  /** Recorded as the lease's owner. */
  readonly pid: number
  /** Container engines on this machine (probes' detectContainerEngines). */
  readonly detectEngines: () => Promise<readonly EngineKind[]>
  /** Linux: net.ipv4.ip_unprivileged_port_start of this network namespace. */
  readonly unprivilegedPortStart: () => Promise<number | undefined>
  /** Windows: IPv4 addresses of the interfaces that are up (default os.networkInterfaces()). */
  readonly interfaceAddresses?: () => readonly string[]
}

export interface SessionApplyResult {
  /** A privileged run happened (a prompt, unless this process is root). */
  readonly privilegedRun: boolean
  /** One line per change the lease now holds. */
  readonly changes: readonly string[]
  /** `adopt`: the pid of the earlier run whose lease this apply took over (undefined: there was none). */
  readonly adoptedFrom?: number
  /** Alias and redirects this run made (again), one line each. */
  readonly made: readonly string[]
  /** Changes of the lease the plan no longer wanted, undone in the same run. */
  readonly removed: readonly string[]
}

export interface SessionRevertResult {
  /** Something was undone (a lease, or a block without one). */
  readonly reverted: boolean
  readonly privilegedRun: boolean
}

export interface SystemChanges {
  readonly hostsPath: string
  /** Where the tunnel binds and what the privileged step changes, for this listen section. */
  chooseStrategy(listen: ListenConfig): Promise<ListenStrategy>
  /**
   * Points `entries` at the strategy's address and makes it answer (redirects, alias): one privileged run at most.
   * What the lease holds that this plan does not want (an earlier strategy's alias or redirect) is undone in the
   * same run. `adopt`: a lease left by an earlier run (its session is gone) is taken over instead of refused.
   */
  apply(
    strategy: ListenStrategy,
    bound: { readonly port: number; readonly httpPort?: number },
    entries: readonly HostEntry[],
    options: { readonly takeOver: boolean; readonly adopt?: boolean },
  ): Promise<SessionApplyResult>
  /** Undoes everything apply did (the hosts file as it was, byte for byte; no rule or alias left). One run at most. */
  revert(): Promise<SessionRevertResult>
  /** What a session that did not stop cleanly left behind; undefined when the machine holds nothing of ours. */
  inspect(): Promise<StaleLease | undefined>
}

/**
 * The strategy's overrides from the config: a listen.address other than the default, listen.alias, listen.mechanism
 * other than 'auto', and listen.highPorts are the user's choices; everything absent is decided by the strategy.
 */
export function listenOverrides(listen: ListenConfig): ListenOverrides {
  return {
    ...(listen.address === automaticListenAddress ? {} : { address: listen.address }),
    ...(listen.alias === undefined ? {} : { alias: listen.alias }),
    ...(listen.mechanism === undefined || listen.mechanism === 'auto' ? {} : { mechanism: listen.mechanism }),
    ...(listen.highPorts === undefined ? {} : { highPorts: { tls: listen.highPorts.tls, http: listen.highPorts.http } }),
  }
}

export function createSystemChanges(options: SystemChangesOptions): SystemChanges {
  // A root process runs the same one script without a prompt.
  const elevator = options.isPrivileged ? createDirectElevator() : options.elevator
  const writer =
    options.writer ??
    createPrivilegedWriter({
      dataDir: options.dataDir,
      platform: options.platform,
      elevator,
      logger: options.logger,
      ...(options.isPrivileged ? { canWriteDirectly: async () => true } : {}),
    })
  const leaseDeps: SystemChangeDeps = {
    dataDir: options.dataDir,
    platform: options.platform,
    elevator: options.elevator,
    writer,
    isPrivileged: options.isPrivileged,
    logger: options.logger,
    pid: options.pid,
  }

  /** A block without a lease (an older version, `acr-bridge apply`): the hosts file alone. */
  async function revertBlockOnly(): Promise<SessionRevertResult> {
    const result = await revertHostsBlock({
      hostsPath: options.hostsPath,
      dataDir: options.dataDir,
      platform: options.platform,
      writer,
      logger: options.logger,
      flushResolverCache: options.flushResolverCache,
    })
    return { reverted: result.changed, privilegedRun: result.write?.elevated === true }
  }

  async function undoFailedApply(): Promise<void> {
    try {
      const lease = await readLease(options.dataDir)
      if (lease === undefined || lease.pid !== options.pid || lease.records.length === 0) return
      await revertSystemChanges(leaseDeps)
    } catch (error) {
      options.logger.error('[session] could not undo a half-made change; the next start (or acr-bridge revert) offers to', error)
    }
  }

  return {
    hostsPath: options.hostsPath,

    async chooseStrategy(listen) {
      const platform = options.platform
      const [engines, unprivilegedPortStart, dockerDesktopHostAddress] = await Promise.all([
        options.detectEngines().catch((error: unknown) => {
          options.logger.warn('[platform] container engine detection failed; assuming none', error)
          return [] as EngineKind[]
        }),
        platform === 'linux' ? options.unprivilegedPortStart().catch(() => undefined) : Promise.resolve(undefined),
        platform === 'win32' ? readDockerDesktopHostAddress(options.hostsPath) : Promise.resolve(undefined),
      ])
      const strategy = chooseListenStrategy({
        platform,
        engines,
        isPrivileged: options.isPrivileged,
        ...(unprivilegedPortStart === undefined ? {} : { unprivilegedPortStart }),
        ports: { tls: listen.port, http: listen.httpPort },
        overrides: listenOverrides(listen),
        ...(platform === 'win32'
          ? {
              windows: {
                ...(dockerDesktopHostAddress === undefined ? {} : { dockerDesktopHostAddress }),
                interfaceAddresses: (options.interfaceAddresses ?? (() => externalIpv4Addresses()))(),
              },
            }
          : {}),
      })
      for (const reason of strategy.reasons) options.logger.info(`[platform] ${reason}`)
      for (const warning of strategy.warnings) options.logger.warn(`[platform] ${warning}`)
      return strategy
    },

    async apply(strategy, bound, entries, { takeOver, adopt = false }) {
      const plan = planSystemChanges({
        strategy,
        bound,
        names: entries,
        hostsPath: options.hostsPath,
        takeOver,
        flushResolverCache: options.flushResolverCache,
      })
      const before = await readLease(options.dataDir)
      let result
      try {
        result = await applySystemChanges(plan, leaseDeps, { adopt })
      } catch (error) {
        // A fresh apply that failed halfway (a step of the script failed) left pending records of ours: undo them now
        // rather than at the next start. A lease that was there before (a running session, someone else's) stays.
        if (before === undefined) await undoFailedApply()
        throw error
      }
      const finding = await findLease(options.dataDir, { platform: options.platform, pid: options.pid })
      return {
        privilegedRun: result.privilegedRun,
        changes: finding?.changes ?? [],
        made: result.made,
        removed: result.removed,
        ...(result.adoptedFrom === undefined ? {} : { adoptedFrom: result.adoptedFrom }),
      }
    },

    async revert() {
      if ((await readLease(options.dataDir)) === undefined) return revertBlockOnly()
      const result = await revertSystemChanges(leaseDeps)
      return { reverted: result.reverted, privilegedRun: result.privilegedRun }
    },

    async inspect() {
      const finding = await findLease(options.dataDir, {
        platform: options.platform,
        pid: options.pid,
        // The caller has checked the session lock: whoever took the lease holds no session any more.
        isProcessAlive: () => false,
      })
      if (finding !== undefined && finding.lease.records.length > 0) {
        const hostsRecord = finding.lease.records.find((record) => record.change.kind === 'hosts')?.change
        return {
          hostsPath: hostsRecord?.kind === 'hosts' ? hostsRecord.hostsPath : options.hostsPath,
          names: finding.names,
          changes: finding.changes,
        }
      }
      let state
      try {
        state = await readHostsState(options.hostsPath, { dataDir: options.dataDir })
      } catch (error) {
        // No hosts file at all: nothing of ours can be in it.
        if (isBridgeError(error, 'HOSTS_READ_FAILED') && errnoCode(error.cause) === 'ENOENT') return undefined
        throw error
      }
      const changes: string[] = []
      if (state.hasBlock) changes.push(`the acr-bridge block in ${options.hostsPath} (${state.entries.length} names)`)
      if (state.takenOver.length > 0) changes.push(`${state.takenOver.length} line(s) of ${options.hostsPath} commented out by acr-bridge`)
      if (state.pendingRepair) changes.push(`an interrupted write of ${options.hostsPath}`)
      if (changes.length === 0) return undefined
      return { hostsPath: options.hostsPath, names: state.entries.map((entry) => entry.name), changes }
    },
  }
}
