// `acr-bridge doctor` as a core function: every check (run-checks.ts) plus the container engine warning, as data.
// It needs no running session: it builds its own dialer, so the tunnel hops are judged whether or not `up` runs.

import type { CheckResult } from '../../common/status.js'
import { hostEntriesForConfig } from '../catalog/host-entries.js'
import type { Config } from '../config/types.js'
import { nullLogger, type Logger } from '../logger.js'
import type { Platform } from '../paths.js'
import { createDialerForConfig } from '../session/create-dialer.js'
import type { Dialer } from '../tunnel/types.js'
import { detectContainerEngines, engineWarnings, type CommandRunner, type EngineFinding, type EngineWarning } from './container-engine.js'
import { runChecks, type PullProbe, type RunChecksOptions } from './run-checks.js'

export interface DoctorOptions {
  /** The config with its secrets resolved. */
  readonly config: Config
  readonly hostsPath: string
  readonly platform: Platform
  readonly env: NodeJS.ProcessEnv
  readonly homeDir: string
  readonly logger?: Logger
  readonly timeoutMs?: number
  readonly ca?: RunChecksOptions['ca']
  readonly pull?: PullProbe
  /** Tests: a dialer of their own (default: createDialerForConfig, closed at the end). */
  readonly dialer?: Dialer
  /** Tests: replaces `docker …` runs of the engine detection. */
  readonly runCommand?: CommandRunner
  readonly signal?: AbortSignal
}

export interface DoctorReport {
  /** Every check passed (warnings do not count). */
  readonly ok: boolean
  readonly checks: readonly CheckResult[]
  readonly engines: readonly EngineFinding[]
  readonly warnings: readonly EngineWarning[]
  /** The whole run, and the checks alone (the engine detection runs beside them: `docker` may be slow to start). */
  readonly durationMs: number
  readonly checksMs: number
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const started = performance.now()
  const logger = options.logger ?? nullLogger
  const entries = hostEntriesForConfig(options.config)
  const dialer = options.dialer ?? (await createDialerForConfig(options.config, { env: options.env, homeDir: options.homeDir, logger }))
  try {
    const listen = options.config.listen
    let checksMs = 0
    const [checks, engines] = await Promise.all([
      runChecks({
        entries,
        dialer,
        tunnel: options.config.tunnel,
        listen: { address: listen.address, port: listen.port, httpPort: listen.httpPort },
        hostsPath: options.hostsPath,
        logger,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.pull === undefined ? {} : { pull: options.pull }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      }).then((results) => {
        checksMs = Math.round(performance.now() - started)
        return results
      }),
      detectContainerEngines({
        platform: options.platform,
        env: options.env,
        homeDir: options.homeDir,
        ...(options.runCommand === undefined ? {} : { run: options.runCommand }),
      }),
    ])
    return {
      ok: checks.every((c) => c.ok),
      checks,
      engines,
      warnings: engineWarnings(engines, listen.address),
      durationMs: Math.round(performance.now() - started),
      checksMs,
    }
  } finally {
    if (options.dialer === undefined) await dialer.close().catch(() => undefined)
  }
}
