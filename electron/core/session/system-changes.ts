// Everything a session changes on the machine, in one place: today the managed hosts block; issue 6 adds the
// privileged port redirect, loopback aliases and the lease journal here, so apply, revert and crash recovery stay
// one code path (STYLE.md §8.6: "removing the block on start and on quit is the same code").

import type { HostEntry } from '../catalog/types.js'
import { errnoCode, isBridgeError } from '../errors.js'
import {
  applyHostsBlock,
  readHostsState,
  revertHostsBlock,
  type HostsApplyResult,
  type HostsRevertResult,
} from '../hosts/hosts-manager.js'
import type { Logger } from '../logger.js'
import type { Platform } from '../paths.js'
import type { PrivilegedWriter } from '../privileged/types.js'
import type { StaleLease } from './types.js'

export interface SystemChangesOptions {
  readonly hostsPath: string
  readonly dataDir: string
  readonly platform: Platform
  readonly writer: PrivilegedWriter
  readonly logger: Logger
  /** Flush the OS resolver cache after a write (the OS hosts file only). */
  readonly flushResolverCache: boolean
}

export interface SystemApplyResult {
  readonly hosts: HostsApplyResult
}

export interface SystemRevertResult {
  readonly hosts: HostsRevertResult
}

export interface SystemChanges {
  readonly hostsPath: string
  /** Makes the machine send `entries` to the tunnel: writes (or rewrites) the hosts block. At most one elevation. */
  apply(entries: readonly HostEntry[], options: { readonly takeOver: boolean }): Promise<SystemApplyResult>
  /** Undoes everything apply did (the file as it was, byte for byte). At most one elevation. */
  revert(): Promise<SystemRevertResult>
  /** What a session that did not stop cleanly left behind; undefined when the machine holds nothing of ours. */
  inspect(): Promise<StaleLease | undefined>
}

export function createSystemChanges(options: SystemChangesOptions): SystemChanges {
  const fileOptions = {
    hostsPath: options.hostsPath,
    dataDir: options.dataDir,
    platform: options.platform,
    writer: options.writer,
    logger: options.logger,
    flushResolverCache: options.flushResolverCache,
  }
  return {
    hostsPath: options.hostsPath,
    async apply(entries, { takeOver }) {
      const hosts = await applyHostsBlock({ ...fileOptions, entries, takeOver })
      return { hosts }
    },
    async revert() {
      const hosts = await revertHostsBlock(fileOptions)
      return { hosts }
    },
    async inspect() {
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
