// Real processes that stand in for an acr-bridge session in tests of what a session leaves behind: one that stays
// alive (a running session) and the pid of one that has exited (a crashed session).

import { spawn, type ChildProcess } from 'node:child_process'

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
