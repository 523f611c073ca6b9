// The crash-safe lease: every system change a session makes (hosts block, loopback alias, port redirects), made
// and undone in one privileged step each way, recorded before it is made. See system-changes.ts for the API.

export { bootChanged, clearLease, leaseFileName, leasePath, readLease, UnreadableLeaseError, writeLease } from './lease-journal.js'
export type { BootMark, Lease, LeaseChange, LeaseRecord, LeaseState } from './lease-journal.js'
export { planSystemChanges } from './plan.js'
export type { PlanSystemChangesOptions } from './plan.js'
export {
  applySystemChanges,
  describeLeaseChange,
  findLease,
  readBootMark,
  revertLease,
  revertSystemChanges,
} from './system-changes.js'
export type { LeaseFinding, SystemApplyResult, SystemChangeDeps, SystemChangePlan, SystemRevertResult } from './system-changes.js'
