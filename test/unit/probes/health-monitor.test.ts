import { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import type { CheckResult } from '../../../electron/common/status.js'
import type { Config } from '../../../electron/core/config/types.js'
import { nullLogger } from '../../../electron/core/logger.js'
import { createHealthMonitor, nextDelay, type MonitorTimers } from '../../../electron/core/probes/health-monitor.js'
import type { RunChecksOptions } from '../../../electron/core/probes/run-checks.js'
import type { HealthMonitorContext } from '../../../electron/core/session/types.js'
import type { Dialer } from '../../../electron/core/tunnel/types.js'

/** Timers the test advances by hand; `pending` shows what is scheduled. */
class ManualTimers implements MonitorTimers {
  now = 0
  private next = 1
  readonly pending = new Map<number, { at: number; callback: () => void; ms: number }>()
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++
    this.pending.set(id, { at: this.now + ms, callback, ms })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number)
  }
  delays(): number[] {
    return [...this.pending.values()].map((p) => p.ms)
  }
  /** Fires everything due within `ms`. */
  advance(ms: number): void {
    this.now += ms
    for (const [id, timer] of [...this.pending]) {
      if (timer.at <= this.now) {
        this.pending.delete(id)
        timer.callback()
      }
    }
  }
}

const dialer: Dialer = { mode: 'sni', dial: async () => new Duplex({ read() {} }), close: async () => {} }
const config = { tunnel: { mode: 'sni', host: '203.0.113.10', port: 443 } } as unknown as Config
const context: HealthMonitorContext = {
  config,
  entries: [{ address: '127.0.0.1', name: 'registry-vpc.cn-beijing.aliyuncs.com', ports: [443], origins: [] }],
  dialer,
  hostsPath: '/tmp/hosts',
  listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
  logger: nullLogger,
  now: () => new Date(),
}
const green: CheckResult[] = [{ name: 'registry-vpc.cn-beijing.aliyuncs.com', hop: 'tls', ok: true, reason: 'fine' }]
const red: CheckResult[] = [{ name: 'registry-vpc.cn-beijing.aliyuncs.com', hop: 'tls', ok: false, reason: 'broken', hint: 'fix' }]

/** A runner whose runs the test finishes by hand. */
function manualRunner() {
  const runs: { options: RunChecksOptions; resolve: (checks: CheckResult[]) => void }[] = []
  const run = (options: RunChecksOptions): Promise<CheckResult[]> => new Promise((resolve) => runs.push({ options, resolve }))
  return { runs, run }
}

/** Lets every settled promise chain run (the monitor's then/finally/catch). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

let stopList: (() => void)[] = []
afterEach(() => {
  for (const stop of stopList) stop()
  stopList = []
})

function monitorWith(runner: ReturnType<typeof manualRunner>, timers: ManualTimers, extra: Parameters<typeof createHealthMonitor>[1] = {}) {
  const monitor = createHealthMonitor(context, { timers, run: runner.run, ...extra })
  stopList.push(() => monitor.stop())
  const seen: (readonly CheckResult[])[] = []
  monitor.onDidChangeChecks((checks) => seen.push(checks))
  return { monitor, seen }
}

describe('nextDelay', () => {
  it('30 s when healthy; 2 s → 4 → 8 … capped at 60 s while failing', () => {
    expect(nextDelay(0)).toBe(30_000)
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => nextDelay(n))).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000])
    expect(nextDelay(2, { backoff: { initialMs: 100, maxMs: 250, factor: 3 } })).toBe(250)
    expect(nextDelay(0, { intervalMs: 5000 })).toBe(5000)
  })
})

describe('createHealthMonitor', () => {
  it('probes at once on start, with the session context, then every 30 s while green', async () => {
    const timers = new ManualTimers()
    const runner = manualRunner()
    const { monitor, seen } = monitorWith(runner, timers, { probeTimeoutMs: 1234 })
    monitor.start()
    monitor.start() // idempotent
    expect(runner.runs).toHaveLength(1)
    const options = runner.runs[0]!.options
    expect(options).toMatchObject({ entries: context.entries, dialer, tunnel: config.tunnel, hostsPath: '/tmp/hosts', timeoutMs: 1234, listen: { address: '127.0.0.1', port: 443, httpPort: 80 } })
    expect(timers.delays()).toEqual([]) // nothing scheduled while a run is in flight
    runner.runs[0]!.resolve(green)
    await flush()
    expect(seen).toEqual([green])
    expect(timers.delays()).toEqual([30_000])
    timers.advance(29_999)
    expect(runner.runs).toHaveLength(1)
    timers.advance(1)
    expect(runner.runs).toHaveLength(2)
  })

  it('backs off 2 s → 4 s → 8 s while failing, and goes back to 30 s once green', async () => {
    const timers = new ManualTimers()
    const runner = manualRunner()
    const { monitor } = monitorWith(runner, timers)
    monitor.start()
    const delays: number[] = []
    for (const result of [red, red, red, green]) {
      runner.runs[runner.runs.length - 1]!.resolve(result)
      await flush()
      delays.push(...timers.delays())
      timers.advance(timers.delays()[0]!)
    }
    expect(delays).toEqual([2000, 4000, 8000, 30_000])
  })

  it('runNow runs at once, resets the backoff, and resolves with the fresh results', async () => {
    const timers = new ManualTimers()
    const runner = manualRunner()
    const { monitor, seen } = monitorWith(runner, timers)
    monitor.start()
    runner.runs[0]!.resolve(red)
    await flush()
    expect(timers.delays()).toEqual([2000])
    const now = monitor.runNow()
    expect(runner.runs).toHaveLength(2)
    expect(timers.delays()).toEqual([]) // the scheduled run was replaced
    runner.runs[1]!.resolve(green)
    expect(await now).toBe(green)
    expect(seen.at(-1)).toBe(green)
    expect(timers.delays()).toEqual([30_000])
  })

  it('runNow during a run waits for it and runs once more; calls meanwhile share that run', async () => {
    const timers = new ManualTimers()
    const runner = manualRunner()
    const { monitor } = monitorWith(runner, timers)
    monitor.start()
    const a = monitor.runNow()
    const b = monitor.runNow()
    expect(runner.runs).toHaveLength(1)
    runner.runs[0]!.resolve(red)
    await flush()
    expect(runner.runs).toHaveLength(2)
    runner.runs[1]!.resolve(green)
    expect(await a).toBe(green)
    expect(await b).toBe(green)
    expect(runner.runs).toHaveLength(2)
  })

  it('stop cancels the timer, aborts the run in flight, and nothing fires afterwards', async () => {
    const timers = new ManualTimers()
    const runner = manualRunner()
    const { monitor, seen } = monitorWith(runner, timers)
    monitor.start()
    runner.runs[0]!.resolve(green)
    await flush()
    timers.advance(30_000)
    expect(runner.runs).toHaveLength(2)
    const signal = runner.runs[1]!.options.signal!
    expect(signal.aborted).toBe(false)
    monitor.stop()
    expect(signal.aborted).toBe(true)
    runner.runs[1]!.resolve(red)
    await flush()
    expect(seen).toEqual([green])
    expect(timers.pending.size).toBe(0)
    expect(await monitor.runNow()).toEqual([])
    expect(runner.runs).toHaveLength(2)
  })

  it('real timers are unref\'d: a started monitor does not keep the process alive', async () => {
    const monitor = createHealthMonitor(context, { run: async () => green, intervalMs: 60_000 })
    stopList.push(() => monitor.stop())
    const handles: NodeJS.Timeout[] = []
    const original = globalThis.setTimeout
    globalThis.setTimeout = ((cb: () => void, ms: number) => {
      const handle = original(cb, ms)
      handles.push(handle)
      return handle
    }) as typeof setTimeout
    try {
      monitor.start()
      await flush()
    } finally {
      globalThis.setTimeout = original
    }
    expect(handles.length).toBeGreaterThan(0)
    for (const handle of handles) expect(handle.hasRef()).toBe(false)
  })

  it('a run that throws is logged, and probing goes on', async () => {
    const timers = new ManualTimers()
    const errors: string[] = []
    let calls = 0
    const monitor = createHealthMonitor(
      { ...context, logger: { ...nullLogger, error: (m) => errors.push(m) } },
      { timers, run: async () => (++calls === 1 ? Promise.reject(new Error('bug')) : green) },
    )
    stopList.push(() => monitor.stop())
    monitor.start()
    await flush()
    expect(errors).toEqual(['[probes] health check run failed'])
    expect(timers.delays()).toEqual([30_000])
    timers.advance(30_000)
    await flush()
    expect(calls).toBe(2)
  })
})
