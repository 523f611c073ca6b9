// Shared by the electron-project tests: a recording SessionController, states, configs, temp dirs.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CheckResult, SessionState, SessionStateKind } from '../../electron/common/status.js'
import { parseConfig } from '../../electron/core/config/schema.js'
import type { Config } from '../../electron/core/config/types.js'
import { Emitter } from '../../electron/core/disposable.js'
import type { SessionController, StaleLease } from '../../electron/core/session/types.js'

export function stateOf(kind: SessionStateKind, failing: readonly { name: string; reason: string }[] = [], error?: SessionState['error']): SessionState {
  return { kind, since: '2026-01-01T00:00:00.000Z', failing, checks: [], traffic: [], ...(error === undefined ? {} : { error }) }
}

export const sampleConfigInput = {
  regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }],
  tunnel: { mode: 'connect', host: '203.0.113.10', port: 3128, connect: { username: 'u' } },
}

export function sampleConfig(overrides: Record<string, unknown> = {}): Config {
  return parseConfig({ ...sampleConfigInput, ...overrides })
}

export interface RecordingController extends SessionController {
  readonly calls: string[]
  setState(state: SessionState): void
  staleLease: StaleLease | undefined
  failWith: Error | undefined
  disposeGate: Promise<void>
}

export function recordingController(initial: Config = sampleConfig()): RecordingController {
  const emitter = new Emitter<SessionState>()
  let state = stateOf('off')
  let config = initial
  const calls: string[] = []
  const controller: RecordingController = {
    calls,
    staleLease: undefined,
    failWith: undefined,
    disposeGate: Promise.resolve(),
    get state() {
      return state
    },
    setState(next) {
      state = next
      emitter.fire(next)
    },
    onDidChangeState: emitter.event,
    getConfig: () => config,
    async setConfig(next) {
      calls.push('setConfig')
      if (controller.failWith) throw controller.failWith
      config = next
    },
    async previewHosts() {
      calls.push('previewHosts')
      if (controller.failWith) throw controller.failWith
      return { block: '', entries: [], added: [], removed: [], conflicts: [], shadowed: [] }
    },
    async connect(options) {
      calls.push(options?.resumeStaleLease === true ? 'connect:resume' : 'connect')
      if (controller.failWith) throw controller.failWith
      controller.setState(stateOf('healthy'))
    },
    async disconnect() {
      calls.push('disconnect')
      controller.setState(stateOf('off'))
    },
    async runDiagnostics(): Promise<readonly CheckResult[]> {
      calls.push('runDiagnostics')
      return [{ name: 'registry-vpc.cn-beijing.aliyuncs.com', hop: 'listener', ok: true, reason: 'listening' }]
    },
    systemResumed(suspendedMs) {
      calls.push(`systemResumed:${suspendedMs}`)
    },
    async discover() {
      calls.push('discover')
      return { hosts: [], missing: [] }
    },
    async findStaleLease() {
      calls.push('findStaleLease')
      return controller.staleLease
    },
    async revertStaleLease() {
      calls.push('revertStaleLease')
      controller.staleLease = undefined
    },
    async dispose() {
      calls.push('dispose:start')
      await controller.disposeGate
      calls.push('dispose:end')
    },
  }
  return controller
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'acr-bridge-electron-'))
  try {
    return await run(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A logger that keeps lines (and implements tail for createApp). */
export function memoryLogger() {
  const lines: string[] = []
  const entries: { time: string; level: 'error' | 'warn' | 'info' | 'debug'; message: string }[] = []
  const push = (level: 'error' | 'warn' | 'info' | 'debug', message: string, error?: unknown) => {
    const text = error === undefined ? message : `${message} ${error instanceof Error ? error.message : String(error)}`
    lines.push(`${level} ${text}`)
    entries.push({ time: new Date(0).toISOString(), level, message: text })
  }
  return {
    lines,
    path: '(memory)',
    error: (m: string, e?: unknown) => push('error', m, e),
    warn: (m: string, e?: unknown) => push('warn', m, e),
    info: (m: string) => push('info', m),
    debug: (m: string) => push('debug', m),
    tail: (limit: number) => entries.slice(-limit),
  }
}
