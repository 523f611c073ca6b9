// Pure data the session controller takes and returns, shared with the window through the IPC contract.
// Plain types only (no node:, no electron, no DOM); core/session/types.ts re-exports them.

import type { HostEntry } from '../core/catalog/types.js'

/** What `previewHosts` shows before Apply: the exact block and what it would change. */
export interface HostsPreview {
  /** The managed block exactly as it will be written (LF line endings here; the file keeps its own). */
  readonly block: string
  readonly entries: readonly HostEntry[]
  readonly added: readonly string[]
  readonly removed: readonly string[]
  /** Names mapped by lines that are not ours (`owner` says whose), with their 1-based line numbers. */
  readonly conflicts: readonly { readonly name: string; readonly line: number; readonly address: string; readonly owner: string }[]
  /** Names an earlier line of the file maps elsewhere: resolvers take the first match, so ours would lose. */
  readonly shadowed: readonly string[]
}

/** System changes left behind by a crash (hosts block, and later rules/aliases), found at start. */
export interface StaleLease {
  readonly hostsPath: string
  readonly names: readonly string[]
  readonly changes: readonly string[]
}

export interface DiscoveryRequest {
  readonly repository: string
  readonly username?: string
  readonly password?: string
  readonly reference?: string
}

export interface DiscoveredHost {
  readonly name: string
  readonly port: number
  readonly scheme: 'https' | 'http'
  readonly role: 'registry' | 'realm' | 'blob'
  readonly covered: boolean
}

export interface DiscoveryResult {
  readonly hosts: readonly DiscoveredHost[]
  readonly missing: readonly DiscoveredHost[]
}
