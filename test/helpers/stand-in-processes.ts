// Real processes that stand in for an acr-bridge session in tests of what a session leaves behind: one that stays
// alive (a running session) and the pid of one that has exited (a crashed session); and the lease such a session
// leaves, written by the core itself.

import { spawn, type ChildProcess } from 'node:child_process'
import { applySystemChanges } from '../../electron/core/lease/system-changes.js'

const running = new Set<ChildProcess>()

/** A process that stays alive until stopStandIns() (afterEach); its pid. */
export async function liveStandIn(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' })
  running.add(child)
  child.once('exit', () => running.delete(child))
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve())
    child.once('error', reject)
  })
  if (child.pid === undefined) throw new Error('the stand-in session process has no pid')
  return child.pid
}

/** The pid of a process that has exited. */
export async function exitedStandIn(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  const pid = child.pid
  await new Promise<void>((resolve) => child.once('exit', () => resolve()))
  if (pid === undefined) throw new Error('the stand-in process had no pid')
  return pid
}

/** Kills every live stand-in. */
export function stopStandIns(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  running.clear()
}

/**
 * Writes what a session of `pid` leaves behind: the core's own hosts block for `names` (127.0.0.1) in `hostsPath`, and
 * its lease in `dataDir`. No elevation: the test owns the file.
 */
export async function leaseHostsBlock(options: { readonly dataDir: string; readonly hostsPath: string; readonly names: readonly string[]; readonly pid: number }): Promise<void> {
  await applySystemChanges(
    { hosts: { hostsPath: options.hostsPath, entries: options.names.map((name) => ({ address: '127.0.0.1', name })), takeOver: false, flushResolverCache: false } },
    {
      dataDir: options.dataDir,
      platform: 'linux',
      elevator: {
        run: async () => {
          throw new Error('no elevation expected: the test writes a file it owns')
        },
      },
      canWriteDirectly: async () => true,
      pid: options.pid,
    },
  )
}
