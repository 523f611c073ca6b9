// A private network namespace for a benchmark: its own loopback, so fixed ports (443, 80, 22) are free and no
// traffic can leave it. Needs root and iproute2.

import { randomBytes } from 'node:crypto'
import { onInterrupt, run, runChecked } from './proc.mjs'

/**
 * Creates namespace `<prefix>-<pid>-<random>` with loopback up. dispose() SIGKILLs every process still inside
 * (all of them were started by the bench) and deletes the namespace; it is idempotent, and it also runs when the
 * bench is stopped with SIGINT or SIGTERM (onInterrupt).
 */
export async function createNetns(prefix = 'acrb-bench') {
  if (process.getuid?.() !== 0) throw new Error('the benchmark creates a network namespace and must run as root')
  const name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`
  const added = await run('ip', ['netns', 'add', name])
  if (added.code !== 0) throw new Error(`ip netns add ${name} failed: ${added.stderr.trim()} (is iproute2 installed?)`)
  let disposed = false
  let forget = () => {}
  const dispose = async () => {
    if (disposed) return
    disposed = true
    forget()
    const pids = await run('ip', ['netns', 'pids', name])
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // gone already
      }
    }
    await run('ip', ['netns', 'del', name])
  }
  // A bench stopped by a signal removes the namespace too (and with it whatever it started inside).
  forget = onInterrupt(dispose)
  try {
    await runChecked('ip', ['-n', name, 'link', 'set', 'lo', 'up'])
  } catch (error) {
    await dispose()
    throw error
  }
  return {
    name,
    /** Prefix for a command that must run inside: [...ns.exec, 'node', 'x.mjs']. */
    exec: ['ip', 'netns', 'exec', name],
    dispose,
  }
}
