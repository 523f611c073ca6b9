// Pure: which privileged steps ride along with the hosts write (companion steps) in the one apply run and in the
// one revert run. The golden script tests build their plans with exactly these functions.

import type { Platform } from '../paths.js'
import type { CompanionSteps, PortRedirect, PrivilegedStep } from '../privileged/types.js'
import type { LeaseChange } from './lease-journal.js'

export interface ApplyStepsInput {
  readonly platform: Platform
  /** The alias to put on the loopback interface, when the machine does not have it yet. */
  readonly addAlias?: string
  readonly redirects: readonly PortRedirect[]
  /** macOS: the enable reference an earlier apply of this lease took. */
  readonly releasePfToken?: string
}

/** Apply: alias first, then the redirects, both ahead of the hosts write (names point at an address that answers). */
export function applyCompanionSteps(input: ApplyStepsInput): CompanionSteps {
  const before: PrivilegedStep[] = []
  if (input.addAlias !== undefined) before.push({ kind: 'loopback-alias', action: 'add', address: input.addAlias })
  if (input.redirects.length > 0) {
    before.push({
      kind: 'port-redirect-add',
      redirects: input.redirects,
      ...(input.platform === 'darwin' && input.releasePfToken !== undefined ? { releasePfToken: input.releasePfToken } : {}),
    })
  }
  return { before, after: [] }
}

function undoStep(change: LeaseChange, platform: Platform, strayPfTokens: readonly string[]): PrivilegedStep | undefined {
  if (platform === 'win32') return undefined
  switch (change.kind) {
    case 'hosts':
      return undefined
    case 'loopback-alias':
      return { kind: 'loopback-alias', action: 'remove', address: change.address }
    case 'port-redirect': {
      if (platform !== 'darwin') return { kind: 'port-redirect-remove' }
      const tokens = [...new Set([...(change.pfToken === undefined ? [] : [change.pfToken]), ...strayPfTokens])]
      return { kind: 'port-redirect-remove', ...(tokens.length === 0 ? {} : { pfTokens: tokens }) }
    }
  }
}

/**
 * Revert: the undo of every non-hosts change, in reverse order of the lease, behind the hosts write. macOS:
 * `strayPfTokens` are enable references that killed runs left in their staging folders; they are released too.
 */
export function revertCompanionSteps(changes: readonly LeaseChange[], platform: Platform, strayPfTokens: readonly string[] = []): CompanionSteps {
  const after = [...changes]
    .reverse()
    .map((change) => undoStep(change, platform, strayPfTokens))
    .filter((step): step is PrivilegedStep => step !== undefined)
  return { before: [], after }
}
