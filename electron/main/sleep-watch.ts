// Tells the session how long the machine slept (powerMonitor 'suspend' → 'resume'), so that it drops what a sleep
// leaves dead (warm upstream connections, an SSH connection NATs may have forgotten) and checks every hop again,
// instead of showing the state from before the sleep while pulls hang (ANCHORS.md pain point 8).

import type { PowerMonitorLike } from './electron-surface.js'

/**
 * Calls onResume(suspendedMs) on every wake-up. A 'resume' without a 'suspend' before it (missed, or the app started
 * while suspending) reports Infinity: how long is unknown, so it is treated as long.
 */
export function watchSleep(powerMonitor: PowerMonitorLike, onResume: (suspendedMs: number) => void, now: () => number = Date.now): void {
  let suspendedAt: number | undefined
  powerMonitor.on('suspend', () => {
    suspendedAt = now()
  })
  powerMonitor.on('resume', () => {
    const suspendedMs = suspendedAt === undefined ? Number.POSITIVE_INFINITY : Math.max(0, now() - suspendedAt)
    suspendedAt = undefined
    onResume(suspendedMs)
  })
}
