// Fakes for the controller's unit tests: a dialer, a tunnel, an SSH-like dialer with a state, a health monitor and a
// process probe. The hosts file and the lock are real files in a temp folder.

import { Duplex } from 'node:stream'
import type { CheckResult } from '../../../electron/common/status.js'
import type { HostEntry } from '../../../electron/core/catalog/types.js'
import { Emitter } from '../../../electron/core/disposable.js'
import type { HealthMonitor, HealthMonitorContext } from '../../../electron/core/session/types.js'
import type { ProcessProbe } from '../../../electron/core/session/session-lock.js'
import type { SshConnectionState } from '../../../electron/core/tunnel/ssh-dialer.js'
import { refusalReasons, type RefusalReason, type StartTunnelOptions, type Tunnel, type TunnelStats } from '../../../electron/core/tunnel/tunnel.js'
import type { Dialer } from '../../../electron/core/tunnel/types.js'

export type Event = string

/** Records what happened, in order, across every fake of one test. */
export class Journal {
  readonly events: Event[] = []
  push(event: Event): void {
    this.events.push(event)
  }
}

export interface FakeDialer extends Dialer {
  closed: number
}

export function fakeDialer(journal: Journal, mode: Dialer['mode'] = 'sni'): FakeDialer {
  const dialer: FakeDialer = {
    mode,
    closed: 0,
    async dial() {
      return new Duplex({ read() {}, write(_chunk, _encoding, callback) { callback() } })
    },
    async close() {
      dialer.closed += 1
      journal.push('dialer.close')
    },
    coolDown() {
      journal.push('dialer.coolDown')
    },
  }
  return dialer
}

/** An ssh-mode dialer whose connection state the test drives. */
export interface FakeSshDialer extends FakeDialer {
  readonly mode: 'ssh'
  state: SshConnectionState
  onDidChangeState(listener: (state: SshConnectionState) => void): { dispose(): void }
  connect(): Promise<void>
  stats(): { connected: boolean; openChannels: number; reconnects: number }
  setState(state: SshConnectionState): void
  reconnectNow(reason: string): void
  /** What localAddress() answers (the test sets it). */
  from: string | undefined
  localAddress(): string | undefined
  connectError?: Error
}

export function fakeSshDialer(journal: Journal): FakeSshDialer {
  const emitter = new Emitter<SshConnectionState>()
  const base = fakeDialer(journal, 'ssh')
  const dialer: FakeSshDialer = {
    ...base,
    mode: 'ssh',
    state: { kind: 'idle' },
    onDidChangeState: emitter.event,
    async connect() {
      journal.push('ssh.connect')
      if (dialer.connectError !== undefined) {
        dialer.setState({ kind: 'failed', error: dialer.connectError as never })
        throw dialer.connectError
      }
      dialer.setState({ kind: 'connected', since: 0 })
    },
    stats: () => ({ connected: dialer.state.kind === 'connected', openChannels: 0, reconnects: 0 }),
    setState(state) {
      dialer.state = state
      emitter.fire(state)
    },
    reconnectNow(reason) {
      journal.push(`ssh.reconnectNow: ${reason}`)
    },
    from: undefined,
    localAddress: () => dialer.from,
    async close() {
      dialer.closed += 1
      journal.push('dialer.close')
    },
  }
  return dialer
}

export interface FakeTunnel extends Tunnel {
  readonly options: StartTunnelOptions
  names: readonly HostEntry[]
  closedWith: { drainMs?: number } | undefined
  fireStats(stats: Partial<TunnelStats>): void
}

/** startTunnel's stand-in: records its options; `failWith` makes the next start fail (e.g. PORT_IN_USE). */
export function fakeTunnels(journal: Journal): {
  start: (options: StartTunnelOptions) => Promise<Tunnel>
  started: FakeTunnel[]
  failWith: Error | undefined
} {
  const control = {
    started: [] as FakeTunnel[],
    failWith: undefined as Error | undefined,
    async start(options: StartTunnelOptions): Promise<Tunnel> {
      journal.push('tunnel.start')
      if (control.failWith !== undefined) {
        const error = control.failWith
        control.failWith = undefined
        throw error
      }
      const emitter = new Emitter<TunnelStats>()
      const empty = (): TunnelStats => ({
        open: 0,
        names: tunnel.names.map((e) => ({ name: e.name, open: 0, total: 0, bytesUp: 0, bytesDown: 0, errors: 0 })),
        refused: Object.fromEntries(refusalReasons.map((reason) => [reason, 0])) as Record<RefusalReason, number>,
        dialFailures: 0,
      })
      let last: TunnelStats | undefined
      const tunnel: FakeTunnel = {
        options,
        names: options.names,
        closedWith: undefined,
        // Port 0 (a redirected listener): the "OS" picks 38211 / 40111.
        addresses: {
          address: options.listen.address,
          port: options.listen.port === 0 ? 38211 : options.listen.port,
          ...(options.listen.httpPort === null || options.listen.httpPort === undefined
            ? {}
            : { httpPort: options.listen.httpPort === 0 ? 40111 : options.listen.httpPort }),
        },
        stats: () => last ?? empty(),
        setNames(entries) {
          journal.push('tunnel.setNames')
          tunnel.names = entries
        },
        dropConnectionsFrom(addresses) {
          journal.push(`tunnel.dropConnectionsFrom: ${addresses.join(', ')}`)
          return 0
        },
        onDidChangeStats: emitter.event,
        async close(closeOptions) {
          journal.push('tunnel.close')
          tunnel.closedWith = closeOptions ?? {}
        },
        fireStats(stats) {
          last = { ...empty(), ...stats }
          emitter.fire(last)
        },
      }
      control.started.push(tunnel)
      return tunnel
    },
  }
  return control
}

export interface FakeMonitor extends HealthMonitor {
  readonly context: HealthMonitorContext
  started: boolean
  stopped: boolean
  emit(checks: readonly CheckResult[]): void
  nextRun: readonly CheckResult[]
}

export function fakeMonitors(journal: Journal): { create: (context: HealthMonitorContext) => HealthMonitor; created: FakeMonitor[] } {
  const created: FakeMonitor[] = []
  return {
    created,
    create(context) {
      const emitter = new Emitter<readonly CheckResult[]>()
      const monitor: FakeMonitor = {
        context,
        started: false,
        stopped: false,
        nextRun: [],
        start() {
          journal.push('monitor.start')
          monitor.started = true
        },
        async runNow() {
          emitter.fire(monitor.nextRun)
          return monitor.nextRun
        },
        onDidChangeChecks: emitter.event,
        stop() {
          journal.push('monitor.stop')
          monitor.stopped = true
        },
        emit(checks) {
          emitter.fire(checks)
        },
      }
      created.push(monitor)
      return monitor
    },
  }
}

/** A process table the test controls: `alive` pids (with their start times). */
export function fakeProbe(self: number, alive: Map<number, string | undefined>): ProcessProbe {
  return {
    self: () => ({ pid: self, ...(alive.get(self) === undefined ? {} : { processStart: alive.get(self) as string }) }),
    async isAlive(pid, processStart) {
      if (!alive.has(pid)) return false
      const start = alive.get(pid)
      return processStart === undefined || start === undefined || start === processStart
    },
  }
}

export function ok(name: string, hop: CheckResult['hop'] = 'tls'): CheckResult {
  return { name, hop, ok: true, reason: 'fine' }
}

export function failing(name: string, hop: CheckResult['hop'] = 'tls', reason = 'broken'): CheckResult {
  return { name, hop, ok: false, reason, hint: 'fix it' }
}
