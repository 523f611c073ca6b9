// powerMonitor 'suspend' → 'resume' becomes one onResume(suspendedMs) call per wake-up.
import { EventEmitter } from 'node:events'
import { expect, test } from 'vitest'
import { watchSleep } from '../../electron/main/sleep-watch.js'

test('reports how long each sleep lasted, and Infinity for a wake-up whose sleep it did not see', () => {
  const powerMonitor = new EventEmitter()
  let clock = 1_000
  const reports: number[] = []
  watchSleep(powerMonitor, (ms) => reports.push(ms), () => clock)

  powerMonitor.emit('suspend')
  clock += 60_000
  powerMonitor.emit('resume')
  powerMonitor.emit('suspend')
  clock += 2_500
  powerMonitor.emit('resume')
  // A second 'resume' with no 'suspend' in between: how long is unknown.
  clock += 5_000
  powerMonitor.emit('resume')

  expect(reports).toEqual([60_000, 2_500, Number.POSITIVE_INFINITY])
})
