// The session controller with a fake dialer, tunnel and health monitor; the hosts file, its backup and the session
// lock are real files in a temp folder (direct writes, no elevation).

import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { SessionState } from '../../../electron/common/status.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import type { Config } from '../../../electron/core/config/types.js'
import { BridgeError } from '../../../electron/core/errors.js'
import { HOSTS_BLOCK_BEGIN } from '../../../electron/core/hosts/hosts-block.js'
import { createPrivilegedWriter } from '../../../electron/core/privileged/privileged-writer.js'
import type { Elevator } from '../../../electron/core/privileged/types.js'
import { createSessionController, type LocalSessionController, type SessionControllerDeps } from '../../../electron/core/session/controller.js'
import { sessionLockPath } from '../../../electron/core/session/session-lock.js'
import type { Dialer } from '../../../electron/core/tunnel/types.js'
import {
  failing,
  fakeDialer,
  fakeMonitors,
  fakeProbe,
  fakeSshDialer,
  fakeTunnels,
  Journal,
  ok,
  type FakeSshDialer,
} from './fakes.js'

const registry = 'registry-vpc.cn-beijing.aliyuncs.com'
const auth = 'dockerauth-vpc.cn-beijing.aliyuncs.com'
const bucket = 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com'
const original = '127.0.0.1 localhost\n# the user\'s own line\n::1 localhost'

const neverElevate: Elevator = {
  async run() {
    throw new Error('the unit tests never elevate')
  },
}

function makeConfig(overrides: Record<string, unknown> = {}): Config {
  return parseConfig({
    regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc'] }],
    extraHosts: [{ name: bucket, ports: [80] }],
    tunnel: { mode: 'sni', host: '203.0.113.10', port: 443 },
    listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
    ...overrides,
  })
}

let root: string
let dataDir: string
let hostsPath: string
let journal: Journal
let tunnels: ReturnType<typeof fakeTunnels>
let dialers: Dialer[]
let controllers: LocalSessionController[]
const selfPid = 4242
let alive: Map<number, string | undefined>

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-session-'))
  dataDir = join(root, 'data')
  hostsPath = join(root, 'hosts')
  await fs.writeFile(hostsPath, original)
  journal = new Journal()
  tunnels = fakeTunnels(journal)
  dialers = []
  controllers = []
  alive = new Map([[selfPid, '777']])
})

afterEach(async () => {
  for (const controller of controllers) await controller.dispose().catch(() => undefined)
  await fs.rm(root, { recursive: true, force: true })
})

function controllerWith(overrides: Partial<SessionControllerDeps> = {}): LocalSessionController {
  const controller = createSessionController({
    config: makeConfig(),
    hostsPath,
    dataDir,
    platform: 'linux',
    env: {},
    homeDir: root,
    elevator: neverElevate,
    // Root with no container engine: the tunnel binds 443/80 itself, nothing is redirected (controller-platform.test.ts
    // covers the other strategies).
    isPrivileged: true,
    detectEngines: async () => [],
    writer: createPrivilegedWriter({ dataDir, platform: 'linux', elevator: neverElevate, canWriteDirectly: async () => true, flushResolverCache: async () => {} }),
    createDialer: async () => {
      const dialer = fakeDialer(journal)
      dialers.push(dialer)
      journal.push('dialer.create')
      return dialer
    },
    startTunnel: tunnels.start,
    processProbe: fakeProbe(selfPid, alive),
    now: () => new Date('2026-01-02T03:04:05Z'),
    drainMs: 1234,
    network: false, // the tests that follow the network give their own addresses
    ...overrides,
  })
  controllers.push(controller)
  return controller
}

const sshConfig = (): Config =>
  makeConfig({ tunnel: { mode: 'ssh', host: '203.0.113.10', port: 22, ssh: { username: 'root', privateKeyPath: '~/.ssh/id' } } })

/** A controller in ssh mode; ssh() is the fake SSH dialer it made, whose connection leaves from `from`. */
function sshControllerWith(overrides: Partial<SessionControllerDeps> = {}, from?: string): { controller: LocalSessionController; ssh: () => FakeSshDialer } {
  let made: FakeSshDialer | undefined
  const controller = controllerWith({
    config: sshConfig(),
    createDialer: async () => {
      made = fakeSshDialer(journal)
      made.from = from
      return made
    },
    ...overrides,
  })
  return {
    controller,
    ssh: () => {
      if (made === undefined) throw new Error('the controller has made no SSH dialer yet')
      return made
    },
  }
}

function record(controller: LocalSessionController): SessionState[] {
  const seen: SessionState[] = []
  controller.onDidChangeState((state) => seen.push(state))
  return seen
}

async function hostsText(): Promise<string> {
  return fs.readFile(hostsPath, 'utf8')
}

describe('connect and disconnect', () => {
  it('goes off → starting → healthy, writes the block, and back to off with the file as it was', async () => {
    const controller = controllerWith()
    expect(controller.state.kind).toBe('off')
    const seen = record(controller)

    await controller.connect()
    expect(seen.map((s) => s.kind)).toEqual(['starting', 'healthy'])
    expect(journal.events).toEqual(['dialer.create', 'tunnel.start'])
    const tunnel = tunnels.started[0]!
    expect(tunnel.options.listen).toEqual({ address: '127.0.0.1', port: 443, httpPort: 80 })
    expect(tunnel.options.names.map((e) => [e.name, e.ports])).toEqual([[registry, [443]], [auth, [443]], [bucket, [80]]])
    expect(tunnel.options.dialer).toBe(dialers[0])

    const written = await hostsText()
    expect(written.startsWith(`${original}\n${HOSTS_BLOCK_BEGIN}\n`)).toBe(true)
    expect(written).toContain(`127.0.0.1 ${registry}\n127.0.0.1 ${auth}\n127.0.0.1 ${bucket}\n`)
    const lock = JSON.parse(await fs.readFile(sessionLockPath(dataDir), 'utf8')) as Record<string, unknown>
    expect(lock).toEqual({ pid: selfPid, startedAt: '2026-01-02T03:04:05.000Z', processStart: '777', hostsPath })

    // Without a monitor the controller reports the listener checks it knows itself.
    expect(controller.state.checks).toEqual([
      { name: registry, hop: 'listener', ok: true, reason: 'The tunnel listens on 127.0.0.1:443.' },
      { name: auth, hop: 'listener', ok: true, reason: 'The tunnel listens on 127.0.0.1:443.' },
      { name: bucket, hop: 'listener', ok: true, reason: 'The tunnel listens on 127.0.0.1:80.' },
    ])
    expect(controller.routes()).toEqual([
      { name: registry, listen: ['127.0.0.1:443'], mode: 'sni', upstream: '203.0.113.10:443' },
      { name: auth, listen: ['127.0.0.1:443'], mode: 'sni', upstream: '203.0.113.10:443' },
      { name: bucket, listen: ['127.0.0.1:80'], mode: 'sni', upstream: '203.0.113.10:80' },
    ])

    await controller.disconnect()
    expect(controller.state.kind).toBe('off')
    expect(controller.state.error).toBeUndefined()
    expect(journal.events).toEqual(['dialer.create', 'tunnel.start', 'tunnel.close', 'dialer.close'])
    expect(tunnel.closedWith).toEqual({ drainMs: 1234 })
    expect(await hostsText()).toBe(original)
    await expect(fs.access(sessionLockPath(dataDir))).rejects.toThrow()
    await expect(fs.access(join(dataDir, 'hosts.backup'))).rejects.toThrow()
  })

  it('drains before it reverts: the block is still in the file while the tunnel closes', async () => {
    const controller = controllerWith()
    await controller.connect()
    let blockDuringClose: boolean | undefined
    const tunnel = tunnels.started[0]!
    const close = tunnel.close.bind(tunnel)
    tunnel.close = async (options) => {
      blockDuringClose = (await hostsText()).includes(HOSTS_BLOCK_BEGIN)
      await close(options)
    }
    await controller.disconnect()
    expect(blockDuringClose).toBe(true)
    expect(await hostsText()).toBe(original)
  })

  it('connect twice at once starts one session; disconnect when off is a no-op', async () => {
    const controller = controllerWith()
    await controller.disconnect()
    await Promise.all([controller.connect(), controller.connect()])
    expect(tunnels.started).toHaveLength(1)
    await controller.disconnect()
    await controller.disconnect()
    expect(journal.events.filter((e) => e === 'tunnel.close')).toHaveLength(1)
  })

  it('dispose stops a running session and reverts the block', async () => {
    const controller = controllerWith()
    await controller.connect()
    await controller.dispose()
    expect(await hostsText()).toBe(original)
    expect(dialers[0]).toMatchObject({ closed: 1 })
    await expect(controller.connect()).rejects.toThrow(/disposed/)
  })

  it('feeds the tunnel counters into state.traffic', async () => {
    const controller = controllerWith()
    await controller.connect()
    tunnels.started[0]!.fireStats({ names: [{ name: registry, open: 1, total: 3, bytesUp: 10, bytesDown: 2000, errors: 0 }] })
    expect(controller.state.traffic).toEqual([{ name: registry, open: 1, total: 3, bytesUp: 10, bytesDown: 2000, errors: 0 }])
    expect(controller.tunnelStats()?.names[0]?.bytesDown).toBe(2000)
    await controller.disconnect()
    // After the session the final counters stay readable (up prints them).
    expect(controller.tunnelStats()?.names[0]?.total).toBe(3)
  })
})

describe('rollback on a failed start', () => {
  it('a hosts conflict: tunnel and dialer closed, lock released, file untouched, state down with the error', async () => {
    const conflicting = `${original}\n10.0.0.1 ${registry}\n`
    await fs.writeFile(hostsPath, conflicting)
    const controller = controllerWith()
    const seen = record(controller)
    const error = await controller.connect().then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(BridgeError)
    expect((error as BridgeError).code).toBe('HOSTS_CONFLICT')
    expect(journal.events).toEqual(['dialer.create', 'tunnel.start', 'tunnel.close', 'dialer.close'])
    expect(await hostsText()).toBe(conflicting)
    await expect(fs.access(sessionLockPath(dataDir))).rejects.toThrow()
    expect(seen.map((s) => s.kind)).toEqual(['starting', 'down'])
    expect(controller.state.error).toMatchObject({ code: 'HOSTS_CONFLICT' })
    expect(controller.state.error?.hint).toBeDefined()

    // The user allows take-over: the next connect works and revert restores the user's line.
    await controller.setConfig(makeConfig({ hosts: { takeOver: true } }))
    await controller.connect()
    expect(controller.state.kind).toBe('healthy')
    expect(await hostsText()).toContain(`#acr-bridge-off# 10.0.0.1 ${registry}`)
    await controller.disconnect()
    expect(await hostsText()).toBe(conflicting)
  })

  it('a port in use: no hosts write, the dialer closed, the lock released', async () => {
    tunnels.failWith = new BridgeError('PORT_IN_USE', 'Another program already listens on 127.0.0.1:443.', { hint: 'Stop it.' })
    const controller = controllerWith()
    await expect(controller.connect()).rejects.toMatchObject({ code: 'PORT_IN_USE' })
    expect(journal.events).toEqual(['dialer.create', 'tunnel.start', 'dialer.close'])
    expect(await hostsText()).toBe(original)
    await expect(fs.access(sessionLockPath(dataDir))).rejects.toThrow()
    expect(controller.state).toMatchObject({ kind: 'down', error: { code: 'PORT_IN_USE' } })
    // disconnect after a failure: off, and the error is gone
    await controller.disconnect()
    expect(controller.state.kind).toBe('off')
    expect(controller.state.error).toBeUndefined()
  })

  it('a low port without privilege names the sysctl limit in the hint (Linux)', async () => {
    tunnels.failWith = new BridgeError('PORT_NEEDS_PRIVILEGE', 'Listening on 127.0.0.1:443 needs privileges this process does not have.', { field: 'listen.port' })
    const controller = controllerWith({ unprivilegedPortStart: async () => 1024 })
    const error = (await controller.connect().catch((e: unknown) => e)) as BridgeError
    expect(error.code).toBe('PORT_NEEDS_PRIVILEGE')
    expect(error.message).toBe('Listening on 127.0.0.1:443 needs privileges this process does not have: ports below 1024 are privileged here.')
    expect(error.hint).toContain('sudo sysctl -w net.ipv4.ip_unprivileged_port_start=80')
    expect(error.field).toBe('listen.port')
  })

  it('an invalid secret in the environment fails before anything starts', async () => {
    const controller = controllerWith({
      config: makeConfig({ tunnel: { mode: 'connect', host: '203.0.113.10', port: 3128, connect: { username: 'u' } } }),
      env: { ACR_BRIDGE_PROXY_PASSWORD: 'x'.repeat(5000) },
    })
    await expect(controller.connect()).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    expect(journal.events).toEqual([])
    await expect(fs.access(sessionLockPath(dataDir))).rejects.toThrow()
  })
})

describe('one session per data folder', () => {
  it('a second controller on the same data folder fails ALREADY_RUNNING naming the pid, and leaves the first alone', async () => {
    const first = controllerWith()
    await first.connect()
    alive.set(5151, '1')
    const second = controllerWith({ processProbe: fakeProbe(5151, alive) })
    const error = (await second.connect().catch((e: unknown) => e)) as BridgeError
    expect(error.code).toBe('ALREADY_RUNNING')
    expect(error.message).toContain(`pid ${selfPid}`)
    expect(error.details).toEqual({ pid: selfPid })
    expect(second.state).toMatchObject({ kind: 'down', error: { code: 'ALREADY_RUNNING' } })
    // the second one did not touch the first one's tunnel, block or lock
    expect(tunnels.started).toHaveLength(1)
    expect(await hostsText()).toContain(HOSTS_BLOCK_BEGIN)
    expect(await second.findStaleLease()).toBeUndefined()
    await expect(second.revertStaleLease()).rejects.toMatchObject({ code: 'ALREADY_RUNNING' })
    expect(await hostsText()).toContain(HOSTS_BLOCK_BEGIN)
    await first.disconnect()
    expect(await hostsText()).toBe(original)
  })

  it('a lock left by a dead process is stale: taken over at connect', async () => {
    await fs.mkdir(dataDir, { recursive: true })
    await fs.writeFile(sessionLockPath(dataDir), JSON.stringify({ pid: 999_999, startedAt: 'x', hostsPath }))
    const controller = controllerWith()
    await controller.connect()
    expect(JSON.parse(await fs.readFile(sessionLockPath(dataDir), 'utf8'))).toMatchObject({ pid: selfPid })
  })

  it('a pid that now belongs to another process (other start time) does not hold the lock', async () => {
    alive.set(31337, 'new-start')
    await fs.mkdir(dataDir, { recursive: true })
    await fs.writeFile(sessionLockPath(dataDir), JSON.stringify({ pid: 31337, processStart: 'old-start', startedAt: 'x', hostsPath }))
    const controller = controllerWith()
    await controller.connect()
    expect(controller.state.kind).toBe('healthy')
  })
})

describe('stale leases', () => {
  it('a block with no live lock holder is a stale lease; revertStaleLease removes it and the dead lock', async () => {
    const crashed = controllerWith()
    await crashed.connect()
    // Simulate the crash: the process is gone, its lock and block stay.
    alive.delete(selfPid)
    const withBlock = await hostsText()
    alive.set(6000, undefined)
    const next = controllerWith({ processProbe: fakeProbe(6000, alive) })
    const lease = await next.findStaleLease()
    expect(lease).toEqual({
      hostsPath,
      names: [registry, auth, bucket],
      changes: [`the acr-bridge block in ${hostsPath} (3 names)`],
    })
    expect(await hostsText()).toBe(withBlock) // finding changes nothing
    await next.revertStaleLease()
    expect(await hostsText()).toBe(original)
    await expect(fs.access(sessionLockPath(dataDir))).rejects.toThrow()
    expect(await next.findStaleLease()).toBeUndefined()
    controllers.splice(controllers.indexOf(crashed), 1) // its tunnel is a fake: nothing to stop
  })

  it('no block, no lease; a missing hosts file is no lease either', async () => {
    const controller = controllerWith()
    expect(await controller.findStaleLease()).toBeUndefined()
    await fs.rm(hostsPath)
    expect(await controller.findStaleLease()).toBeUndefined()
  })

  it('while this controller runs, its own block is not stale', async () => {
    const controller = controllerWith()
    await controller.connect()
    expect(await controller.findStaleLease()).toBeUndefined()
    await expect(controller.revertStaleLease()).rejects.toMatchObject({ code: 'ALREADY_RUNNING' })
  })
})

describe('setConfig', () => {
  it('while connected, a new name set: setNames + block rewritten, same tunnel; saved through saveConfig', async () => {
    const saved: Config[] = []
    const controller = controllerWith({ saveConfig: async (config) => void saved.push(config) })
    await controller.connect()
    const extra = 'mybucket.oss-cn-beijing-internal.aliyuncs.com'
    await controller.setConfig(makeConfig({ extraHosts: [{ name: bucket, ports: [80] }, extra] }))
    expect(tunnels.started).toHaveLength(1)
    expect(tunnels.started[0]!.names.map((e) => e.name)).toEqual([registry, auth, bucket, extra])
    expect(await hostsText()).toContain(`127.0.0.1 ${extra}\n`)
    expect(saved).toHaveLength(1)
    expect(controller.getConfig().extraHosts).toHaveLength(2)
    expect(controller.state.checks.map((c) => c.name)).toContain(extra)
    await controller.disconnect()
    expect(await hostsText()).toBe(original)
  })

  it('a rejected rewrite (conflict) keeps the running session on its old names', async () => {
    const controller = controllerWith()
    await controller.connect()
    const extra = 'mybucket.oss-cn-beijing-internal.aliyuncs.com'
    await fs.writeFile(hostsPath, (await hostsText()).replace('::1 localhost', `::1 localhost\n10.1.1.1 ${extra}`))
    await expect(controller.setConfig(makeConfig({ extraHosts: [{ name: bucket, ports: [80] }, extra] }))).rejects.toMatchObject({ code: 'HOSTS_CONFLICT' })
    expect(tunnels.started[0]!.names.map((e) => e.name)).toEqual([registry, auth, bucket])
    expect(controller.state.kind).toBe('healthy')
  })

  it('a new tunnel or listen section restarts the tunnel with a new dialer, keeping the block in place', async () => {
    const controller = controllerWith()
    await controller.connect()
    journal.events.length = 0
    await controller.setConfig(makeConfig({ listen: { address: '127.0.0.2', port: 443, httpPort: 80 } }))
    expect(journal.events).toEqual(['dialer.create', 'tunnel.close', 'dialer.close', 'tunnel.start'])
    expect(tunnels.started).toHaveLength(2)
    expect(tunnels.started[1]!.options.listen.address).toBe('127.0.0.2')
    expect(await hostsText()).toContain(`127.0.0.2 ${registry}\n`)
    expect(await hostsText()).not.toContain(`127.0.0.1 ${registry}\n`)
    expect(controller.state.kind).toBe('healthy')
    await controller.disconnect()
    expect(await hostsText()).toBe(original)
    await expect(fs.access(sessionLockPath(dataDir))).rejects.toThrow()
  })

  it('an invalid config is refused with INVALID_CONFIG and changes nothing', async () => {
    const saved: Config[] = []
    const controller = controllerWith({ saveConfig: async (config) => void saved.push(config) })
    await controller.connect()
    const before = await hostsText()
    const bad = { ...makeConfig(), listen: { address: '127.0.0.1', port: 70_000, httpPort: 80 } } as Config
    await expect(controller.setConfig(bad)).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    expect(saved).toEqual([])
    expect(await hostsText()).toBe(before)
    expect(controller.getConfig().listen.port).toBe(443)
  })

  it('when off, setConfig only validates and saves', async () => {
    const controller = controllerWith()
    await controller.setConfig(makeConfig({ extraHosts: [] }))
    expect(tunnels.started).toEqual([])
    expect(controller.getConfig().extraHosts).toEqual([])
    expect(controller.routes().map((r) => r.name)).toEqual([registry, auth])
  })
})

describe('with a health monitor', () => {
  it('stays starting until the first results, then follows them; the monitor gets the session context', async () => {
    const monitors = fakeMonitors(journal)
    const controller = controllerWith({ createHealthMonitor: monitors.create })
    await controller.connect()
    expect(controller.state.kind).toBe('starting')
    const monitor = monitors.created[0]!
    expect(monitor.started).toBe(true)
    expect(monitor.context.entries.map((e) => e.name)).toEqual([registry, auth, bucket])
    expect(monitor.context.dialer).toBe(dialers[0])
    expect(monitor.context.hostsPath).toBe(hostsPath)
    expect(monitor.context.listen).toEqual({ address: '127.0.0.1', port: 443, httpPort: 80 })

    monitor.emit([ok(registry), ok(auth), ok(bucket, 'oss')])
    expect(controller.state.kind).toBe('healthy')
    monitor.emit([ok(registry), failing(auth, 'realm', 'the realm does not answer'), ok(bucket, 'oss')])
    expect(controller.state).toMatchObject({ kind: 'degraded', failing: [{ name: auth, reason: 'the realm does not answer' }] })
    monitor.emit([failing(registry, 'upstream', 'the ECS does not answer'), ok(auth), ok(bucket, 'oss')])
    expect(controller.state.kind).toBe('down')

    monitor.nextRun = [ok(registry), ok(auth), ok(bucket, 'oss')]
    expect(await controller.runDiagnostics()).toEqual(monitor.nextRun)
    expect(controller.state.kind).toBe('healthy')

    await controller.disconnect()
    expect(monitor.stopped).toBe(true)
    expect(journal.events.indexOf('monitor.stop')).toBeLessThan(journal.events.indexOf('tunnel.close'))
    // late results of a stopped monitor change nothing
    monitor.emit([failing(registry)])
    expect(controller.state.kind).toBe('off')
  })

  it('connect while a session runs and is down (Reconnect): drops the warm connections and checks every hop again, and binds and writes nothing again', async () => {
    const monitors = fakeMonitors(journal)
    const controller = controllerWith({ createHealthMonitor: monitors.create })
    await controller.connect()
    const monitor = monitors.created[0]!
    monitor.emit([failing(registry, 'upstream', 'the ECS does not answer'), ok(auth), ok(bucket, 'oss')])
    expect(controller.state.kind).toBe('down')
    const hostsBefore = await fs.readFile(hostsPath, 'utf8')
    const eventsBefore = journal.events.length

    monitor.nextRun = [ok(registry), ok(auth), ok(bucket, 'oss')]
    await controller.connect()
    expect(journal.events.slice(eventsBefore)).toEqual(['dialer.coolDown'])
    expect(controller.state.kind).toBe('healthy')
    expect(tunnels.started).toHaveLength(1)
    expect(monitors.created).toHaveLength(1)
    expect(await fs.readFile(hostsPath, 'utf8')).toBe(hostsBefore)
  })

  it('a failed upstream dial while healthy checks every hop again at once, at most once per 5 s; other traffic does not', async () => {
    const monitors = fakeMonitors(journal)
    let clock = Date.parse('2026-01-02T03:04:05Z')
    const controller = controllerWith({ createHealthMonitor: monitors.create, now: () => new Date(clock) })
    await controller.connect()
    const monitor = monitors.created[0]!
    const allOk = [ok(registry), ok(auth), ok(bucket, 'oss')]
    monitor.emit(allOk)
    expect(controller.state.kind).toBe('healthy')
    let runs = 0
    const runNow = monitor.runNow.bind(monitor)
    monitor.runNow = async () => {
      runs += 1
      return runNow()
    }
    monitor.nextRun = allOk
    const tunnel = tunnels.started[0]!
    const traffic = (errors: number) => [{ name: registry, open: 0, total: 5, bytesUp: 10, bytesDown: 2000, errors }]

    tunnel.fireStats({ names: traffic(1), dialFailures: 0 }) // an error that is not a failed dial (a client that reset)
    expect(runs).toBe(0)
    tunnel.fireStats({ names: traffic(2), dialFailures: 1 })
    expect(runs).toBe(1)
    clock += 4_000
    tunnel.fireStats({ names: traffic(3), dialFailures: 2 })
    expect(runs).toBe(1)
    clock += 1_000
    monitor.nextRun = [failing(registry, 'upstream', 'the ECS does not answer'), ok(auth), ok(bucket, 'oss')]
    tunnel.fireStats({ names: traffic(4), dialFailures: 3 })
    expect(runs).toBe(2)
    await vi.waitFor(() => expect(controller.state.kind).toBe('down'))
    // not healthy any more: the monitor checks sooner by itself
    clock += 10_000
    tunnel.fireStats({ names: traffic(5), dialFailures: 4 })
    expect(runs).toBe(2)
  })

  it('runDiagnostics while off probes through a dialer of its own and closes it', async () => {
    const monitors = fakeMonitors(journal)
    const controller = controllerWith({ createHealthMonitor: monitors.create })
    const results = await controller.runDiagnostics()
    expect(results).toEqual([])
    expect(monitors.created[0]!.stopped).toBe(true)
    expect(dialers[0]).toMatchObject({ closed: 1 })
    expect(tunnels.started).toEqual([])
    expect(controller.state.kind).toBe('off')
  })
})

describe('ssh mode: the shared connection feeds the state', () => {
  it('connects before binding; reconnecting → degraded, failed → down with the error, connected → healthy', async () => {
    const { controller, ssh } = sshControllerWith()
    await controller.connect()
    expect(journal.events.slice(0, 2)).toEqual(['ssh.connect', 'tunnel.start'])
    expect(controller.state.kind).toBe('healthy')
    expect(controller.routes()[0]).toMatchObject({ mode: 'ssh', upstream: 'root@203.0.113.10:22' })

    const lost = new BridgeError('UPSTREAM_UNREACHABLE', 'The SSH connection was lost.', { hint: 'Check that this computer is online.' })
    ssh().setState({ kind: 'reconnecting', attempt: 1, retryInMs: 500, error: lost })
    // degraded, and why: the error the SSH connection waits on
    expect(controller.state).toMatchObject({ kind: 'degraded', failing: [], error: { code: 'UPSTREAM_UNREACHABLE', message: 'The SSH connection was lost.', hint: 'Check that this computer is online.' } })
    const changed = new BridgeError('SSH_HOST_KEY_MISMATCH', 'The host key changed.', { hint: 'Check the ECS.' })
    ssh().setState({ kind: 'failed', error: changed })
    expect(controller.state).toMatchObject({ kind: 'down', error: { code: 'SSH_HOST_KEY_MISMATCH', message: 'The host key changed.', hint: 'Check the ECS.' } })
    ssh().setState({ kind: 'connected', since: 1 })
    expect(controller.state.kind).toBe('healthy')
    expect(controller.state.error).toBeUndefined()
  })

  it('an SSH login that fails at start rolls back before anything is bound or written', async () => {
    const controller = controllerWith({
      config: sshConfig(),
      createDialer: async () => {
        const ssh = fakeSshDialer(journal)
        ssh.connectError = new BridgeError('SSH_AUTH_FAILED', 'The ECS refused the login.', { hint: 'Check the key.' })
        return ssh
      },
    })
    await expect(controller.connect()).rejects.toMatchObject({ code: 'SSH_AUTH_FAILED' })
    expect(journal.events).toEqual(['ssh.connect', 'dialer.close'])
    expect(controller.state).toMatchObject({ kind: 'down', error: { code: 'SSH_AUTH_FAILED' } })
    expect(await hostsText()).toBe(original)
  })
})

describe('waking up from sleep', () => {
  it('drops the warm connections and checks every hop again; in ssh mode a long sleep also makes the SSH connection anew', async () => {
    const monitors = fakeMonitors(journal)
    const { controller } = sshControllerWith({ createHealthMonitor: monitors.create })
    controller.systemResumed(60_000) // no session: nothing to refresh
    expect(journal.events).toEqual([])

    await controller.connect()
    const monitor = monitors.created[0]!
    monitor.nextRun = [ok(registry), ok(auth), ok(bucket, 'oss')]
    journal.events.length = 0
    controller.systemResumed(3_000) // a short sleep: the SSH connection is kept
    controller.systemResumed(60_000)
    controller.systemResumed(Number.POSITIVE_INFINITY) // how long is unknown: treated as long
    expect(journal.events).toEqual([
      'dialer.coolDown',
      'dialer.coolDown',
      'ssh.reconnectNow: the machine slept for 60 s',
      'dialer.coolDown',
      'ssh.reconnectNow: the machine slept for an unknown time',
    ])
    // The fresh checks become the state.
    await new Promise((resolve) => setImmediate(resolve))
    expect(controller.state.kind).toBe('healthy')
  })
})

describe('following the network', () => {
  it('a change is checked at once; what left from an address that went is dropped (ssh: made anew); off, nothing is watched', async () => {
    const monitors = fakeMonitors(journal)
    let addresses = ['203.0.113.2', '2001:db8::2']
    const { controller, ssh } = sshControllerWith(
      { createHealthMonitor: monitors.create, network: { readAddresses: () => addresses, intervalMs: 5 } },
      '203.0.113.2',
    )
    await controller.connect()
    const monitor = monitors.created[0]!
    monitor.emit([ok(registry), ok(auth), ok(bucket, 'oss')])
    const runs = vi.spyOn(monitor, 'runNow')
    journal.events.length = 0

    addresses = [...addresses, '10.8.0.2'] // a VPN came up: nothing went, but routes may have
    await vi.waitFor(() => expect(runs).toHaveBeenCalledTimes(1))
    expect(journal.events).toEqual([])

    // Wi-Fi lost the address the SSH connection left from; the fresh checks become the state
    monitor.nextRun = [failing(registry, 'upstream', 'the SSH connection is being made anew'), ok(auth), ok(bucket, 'oss')]
    addresses = ['10.8.0.2', '2001:db8::2']
    await vi.waitFor(() => expect(runs).toHaveBeenCalledTimes(2))
    expect(journal.events).toEqual([
      'dialer.coolDown',
      'tunnel.dropConnectionsFrom: 203.0.113.2',
      'ssh.reconnectNow: this machine no longer has the address 203.0.113.2 the SSH connection left from',
    ])
    await vi.waitFor(() => expect(controller.state.kind).toBe('down'))

    ssh().from = '10.8.0.2' // made anew, from the VPN's address
    addresses = ['10.8.0.2'] // an address the SSH connection does not use goes: the SSH connection stays
    await vi.waitFor(() => expect(runs).toHaveBeenCalledTimes(3))
    expect(journal.events.slice(3)).toEqual(['dialer.coolDown', 'tunnel.dropConnectionsFrom: 2001:db8::2'])

    await controller.disconnect()
    addresses = ['192.168.1.5']
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(runs).toHaveBeenCalledTimes(3)
    expect(journal.events.filter((event) => event.startsWith('ssh.reconnectNow'))).toHaveLength(1)
  })
})

describe('following the network while the SSH connection waits to reconnect', () => {
  it('an address coming back runs the waiting reconnect at once; while connected, a new address leaves the connection alone', async () => {
    let addresses = ['203.0.113.2']
    const { controller, ssh } = sshControllerWith({ network: { readAddresses: () => addresses, intervalMs: 5 } }, '203.0.113.2')
    await controller.connect()
    journal.events.length = 0
    // Wi-Fi off: the connection's address goes; the reconnect finds no network and waits for its backoff.
    addresses = []
    await vi.waitFor(() => expect(journal.events).toContain('ssh.reconnectNow: this machine no longer has the address 203.0.113.2 the SSH connection left from'))
    ssh().from = undefined
    ssh().setState({ kind: 'reconnecting', attempt: 3, retryInMs: 8_000, error: new BridgeError('UPSTREAM_UNREACHABLE', 'no route') })
    journal.events.length = 0
    addresses = ['192.168.7.20'] // Wi-Fi back, on another network
    await vi.waitFor(() => expect(journal.events).toContain('ssh.reconnectNow: the network changed (new: 192.168.7.20)'))

    ssh().from = '192.168.7.20'
    ssh().setState({ kind: 'connected', since: 2 })
    journal.events.length = 0
    addresses = ['192.168.7.20', '10.8.0.2'] // a VPN comes up: nothing went, the connection is fine
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(journal.events.filter((event) => event.startsWith('ssh.'))).toEqual([])
  })
})

describe('previewHosts', () => {
  it('shows the exact block, what it adds, and the conflicts, without writing', async () => {
    await fs.writeFile(hostsPath, `${original}\n10.0.0.1 ${auth}\n`)
    const controller = controllerWith()
    const preview = await controller.previewHosts()
    expect(preview.block).toContain(`127.0.0.1 ${registry}`)
    expect(preview.added).toEqual([registry, auth, bucket])
    expect(preview.removed).toEqual([])
    expect(preview.conflicts).toEqual([{ name: auth, line: 4, address: '10.0.0.1', owner: 'user' }])
    expect(preview.entries).toHaveLength(3)
    expect(await hostsText()).toBe(`${original}\n10.0.0.1 ${auth}\n`)
  })
})
