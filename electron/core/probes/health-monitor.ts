// The HealthMonitor (session/types.ts): runs doctor's checks while a session is up. At once on start(), then every
// intervalMs while every check passes; while something fails, sooner, backing off from backoff.initialMs to
// backoff.maxMs; at once after runNow() (a config or hosts change), which also resets the backoff. One run at a time:
// runNow() during a run waits for it and runs again (calls made meanwhile share that second run). Timers are unref'd
// (a monitor never keeps a process alive); stop() cancels the timer, aborts a run in flight, and silences events.

import type { CheckResult } from '../../common/status.js'
import { Emitter, type Disposable } from '../disposable.js'
import type { HealthMonitor, HealthMonitorContext } from '../session/types.js'
import { runChecks, type PullProbe, type RunChecksOptions } from './run-checks.js'
import type { OpenOptions } from './through.js'

export interface MonitorTimers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface HealthMonitorOptions {
  /** Between runs while every check passes (default 30 s). */
  readonly intervalMs?: number
  /** While something fails: initialMs (2 s), doubled per failing run up to maxMs (60 s). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly factor?: number }
  /** Limit of each hop (default 5000 ms). */
  readonly probeTimeoutMs?: number
  readonly ca?: OpenOptions['ca']
  readonly pull?: PullProbe
  readonly timers?: MonitorTimers
  /** The check runner (tests replace it); default runChecks. */
  readonly run?: (options: RunChecksOptions) => Promise<CheckResult[]>
}

const realTimers: MonitorTimers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms)
    handle.unref?.()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The delay after a run: intervalMs when it all passed, else initial × factor^(failures-1), capped at maxMs. */
export function nextDelay(consecutiveFailures: number, options: HealthMonitorOptions = {}): number {
  const intervalMs = options.intervalMs ?? 30_000
  if (consecutiveFailures === 0) return intervalMs
  const initial = options.backoff?.initialMs ?? 2_000
  const max = options.backoff?.maxMs ?? 60_000
  const factor = options.backoff?.factor ?? 2
  return Math.min(max, initial * factor ** (consecutiveFailures - 1))
}

export function createHealthMonitor(context: HealthMonitorContext, options: HealthMonitorOptions = {}): HealthMonitor {
  const timers = options.timers ?? realTimers
  const run = options.run ?? runChecks
  const emitter = new Emitter<readonly CheckResult[]>()
  let started = false
  let stopped = false
  let timer: unknown
  let failures = 0
  let current: Promise<readonly CheckResult[]> | undefined
  let rerun: Promise<readonly CheckResult[]> | undefined
  let abort: AbortController | undefined

  const schedule = (): void => {
    if (stopped || !started) return
    if (timer !== undefined) timers.clearTimeout(timer)
    timer = timers.setTimeout(() => {
      timer = undefined
      void runOnce().catch((error: unknown) => context.logger.error('[probes] health check run failed', error))
    }, nextDelay(failures, options))
  }

  const runOnce = (): Promise<readonly CheckResult[]> => {
    if (current !== undefined) {
      rerun ??= current.then(
        () => {
          rerun = undefined
          return runOnce()
        },
        () => {
          rerun = undefined
          return runOnce()
        },
      )
      return rerun
    }
    if (timer !== undefined) {
      timers.clearTimeout(timer)
      timer = undefined
    }
    abort = new AbortController()
    const signal = abort.signal
    const listen = context.listen
    current = run({
      entries: context.entries,
      dialer: context.dialer,
      tunnel: context.config.tunnel,
      listen: { address: listen.address, port: listen.port, ...(listen.httpPort === undefined ? {} : { httpPort: listen.httpPort }) },
      hostsPath: context.hostsPath,
      logger: context.logger,
      signal,
      ...(options.probeTimeoutMs === undefined ? {} : { timeoutMs: options.probeTimeoutMs }),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.pull === undefined ? {} : { pull: options.pull }),
    })
      .then((checks) => {
        if (!stopped && !signal.aborted) {
          failures = checks.every((c) => c.ok) ? 0 : failures + 1
          emitter.fire(checks)
        }
        return checks
      })
      .finally(() => {
        current = undefined
        schedule()
      })
    return current
  }

  return {
    start(): void {
      if (started || stopped) return
      started = true
      void runOnce().catch((error: unknown) => context.logger.error('[probes] health check run failed', error))
    },
    runNow(): Promise<readonly CheckResult[]> {
      if (stopped) return Promise.resolve([])
      failures = 0
      return runOnce()
    },
    onDidChangeChecks(listener: (checks: readonly CheckResult[]) => void): Disposable {
      return emitter.event(listener)
    },
    stop(): void {
      if (stopped) return
      stopped = true
      if (timer !== undefined) timers.clearTimeout(timer)
      timer = undefined
      abort?.abort()
      emitter.dispose()
    },
  }
}
