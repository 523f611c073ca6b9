// The session controller with the listen strategy and the lease (issue 6 wired in): a fake tunnel and dialer, the
// lease's simulated Linux machine as the elevator (it applies each section of the generated script to an in-memory
// network state and to the real temp hosts file), real lease and lock files in a temp folder.

import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { parseConfig } from '../../../electron/core/config/schema.js'
import type { Config } from '../../../electron/core/config/types.js'
import { HOSTS_BLOCK_BEGIN } from '../../../electron/core/hosts/hosts-block.js'
import { readLease } from '../../../electron/core/lease/lease-journal.js'
import { defaultAliasAddress } from '../../../electron/core/platform/addresses.js'
import { mapListenError } from '../../../electron/core/tunnel/listen.js'
import type { EngineKind } from '../../../electron/core/probes/container-engine.js'
import { createSessionController, type LocalSessionController, type SessionControllerDeps } from '../../../electron/core/session/controller.js'
import { createSimulatedMachine, type SimulatedMachine } from '../lease/simulated-machine.js'
import { fakeDialer, fakeProbe, fakeTunnels, Journal } from './fakes.js'

const registry = 'registry-vpc.cn-beijing.aliyuncs.com'
const auth = 'dockerauth-vpc.cn-beijing.aliyuncs.com'
const bucket = 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com'
const original = '127.0.0.1 localhost\n::1 localhost\n'

function makeConfig(listen: Record<string, unknown> = { address: '127.0.0.1', port: 443, httpPort: 80 }): Config {
  return parseConfig({
    regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc'] }],
    extraHosts: [{ name: bucket, ports: [80] }],
    tunnel: { mode: 'sni', host: '203.0.113.10', port: 443 },
    listen,
  })
}

let root: string
let dataDir: string
let hostsPath: string
let journal: Journal
let tunnels: ReturnType<typeof fakeTunnels>
let machine: SimulatedMachine
let controllers: LocalSessionController[]
let alive: Map<number, string | undefined>

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-session-platform-'))
  dataDir = join(root, 'data')
  hostsPath = join(root, 'hosts')
  await fs.writeFile(hostsPath, original)
  journal = new Journal()
  tunnels = fakeTunnels(journal)
  machine = createSimulatedMachine('linux')
  controllers = []
  alive = new Map([[4242, '1']])
})

afterEach(async () => {
  for (const controller of controllers) await controller.dispose().catch(() => undefined)
  await fs.rm(root, { recursive: true, force: true })
})

function controllerWith(options: { privileged: boolean; engines?: EngineKind[]; pid?: number } & Partial<SessionControllerDeps>): LocalSessionController {
  const { privileged, engines = [], pid = 4242, ...overrides } = options
  const controller = createSessionController({
    config: makeConfig(),
    hostsPath,
    dataDir,
    platform: 'linux',
    env: {},
    homeDir: root,
    elevator: machine.elevator,
    isPrivileged: privileged,
    detectEngines: async () => engines,
    unprivilegedPortStart: async () => 1024,
    createDialer: async () => fakeDialer(journal),
    startTunnel: tunnels.start,
    processProbe: fakeProbe(pid, alive),
    drainMs: 10,
    network: false, // the tests that follow the network give their own addresses
    ...overrides,
  })
  controllers.push(controller)
  return controller
}

const hostsText = (): Promise<string> => fs.readFile(hostsPath, 'utf8')

describe('the listen strategy in the session', () => {
  it('as root with the default config: binds 443/80 itself, no redirect, no prompt (as before issue 6)', async () => {
    const controller = controllerWith({ privileged: true })
    await controller.connect()
    expect(tunnels.started[0]!.options.listen).toEqual({ address: '127.0.0.1', port: 443, httpPort: 80 })
    expect(machine.scripts).toEqual([])
    expect(machine.state.redirects).toEqual([])
    expect(await hostsText()).toContain(`127.0.0.1 ${registry}\n`)
    expect(controller.listening()?.strategy.mechanism).toBe('direct')
    await controller.disconnect()
    expect(await hostsText()).toBe(original)
    expect(await readLease(dataDir)).toBeUndefined()
  })

  it('as an ordinary user: high ports on 127.0.0.1, ONE run adds the nft redirect and the block; ONE run removes both', async () => {
    const controller = controllerWith({ privileged: false })
    await controller.connect()
    expect(tunnels.started[0]!.options.listen).toEqual({ address: '127.0.0.1', port: 0, httpPort: 0 })
    expect(machine.scripts).toHaveLength(1)
    expect(machine.performed[0]).toEqual(['port-redirect-add', 'install-file'])
    expect(machine.state.redirects).toEqual([
      { address: '127.0.0.1', port: 443, toPort: 38211 },
      { address: '127.0.0.1', port: 80, toPort: 40111 },
    ])
    expect(await hostsText()).toContain(`127.0.0.1 ${registry}\n127.0.0.1 ${auth}\n127.0.0.1 ${bucket}\n`)
    expect((await readLease(dataDir))?.records.map((r) => [r.change.kind, r.state])).toEqual([
      ['port-redirect', 'applied'],
      ['hosts', 'applied'],
    ])
    // What clients dial is what the routes and the own checks show: 127.0.0.1:443, not the high port.
    expect(controller.routes()[0]?.listen).toEqual(['127.0.0.1:443'])
    expect(controller.state.checks[0]?.reason).toBe('The tunnel listens on 127.0.0.1:443.')
    expect(controller.listening()?.bound).toMatchObject({ port: 38211, httpPort: 40111 })
    // The state the window shows says the same: redirected, public 443/80, bound on the high ports.
    expect(controller.state.listening).toMatchObject({
      mechanism: 'nft-redirect',
      hostsAddress: '127.0.0.1',
      publicPorts: { tls: 443, http: 80 },
      bound: { address: '127.0.0.1', tls: 38211, http: 40111 },
    })

    await controller.disconnect()
    expect(controller.state.listening).toBeUndefined()
    expect(machine.scripts).toHaveLength(2)
    expect(machine.performed[1]).toEqual(['install-file', 'port-redirect-remove'])
    expect(machine.state.redirects).toEqual([])
    expect(await hostsText()).toBe(original)
    expect(await fs.readdir(dataDir)).toEqual([])
  })

  it('a rootless engine: the names point at the alias outside 127/8, added and removed in the same runs', async () => {
    const controller = controllerWith({ privileged: false, engines: ['rootless-docker'] })
    await controller.connect()
    expect(machine.performed[0]).toEqual(['loopback-alias add', 'port-redirect-add', 'install-file'])
    expect([...machine.state.aliases]).toEqual([defaultAliasAddress])
    expect(await hostsText()).toContain(`${defaultAliasAddress} ${registry}\n`)
    expect(controller.routes()[0]?.listen).toEqual([`${defaultAliasAddress}:443`])
    await controller.disconnect()
    expect(machine.scripts).toHaveLength(2)
    expect([...machine.state.aliases]).toEqual([])
    expect(machine.state.redirects).toEqual([])
    expect(await hostsText()).toBe(original)
  })

  it("the user's listen.address is an override: the block points there and no alias is added", async () => {
    const controller = controllerWith({ privileged: true, engines: ['rootless-docker'], config: makeConfig({ address: '127.0.0.2', port: 443, httpPort: 80 }) })
    await controller.connect()
    expect(tunnels.started[0]!.options.listen).toEqual({ address: '127.0.0.2', port: 443, httpPort: 80 })
    expect(machine.scripts).toEqual([])
    expect(await hostsText()).toContain(`127.0.0.2 ${registry}\n`)
    await controller.disconnect()
    expect(await hostsText()).toBe(original)
  })

  it('a cancelled prompt: nothing changed, no lease, the tunnel closed, state down with ELEVATION_DENIED', async () => {
    machine.deny = true
    const controller = controllerWith({ privileged: false })
    await expect(controller.connect()).rejects.toMatchObject({ code: 'ELEVATION_DENIED' })
    expect(journal.events.filter((e) => e === 'tunnel.close')).toHaveLength(1)
    expect(machine.state.redirects).toEqual([])
    expect(await hostsText()).toBe(original)
    expect(await readLease(dataDir)).toBeUndefined()
    expect(controller.state).toMatchObject({ kind: 'down', error: { code: 'ELEVATION_DENIED' } })
  })

  it('a script step that fails halfway is undone at once: no rule, no block, no lease left', async () => {
    machine.failSection = { header: '# install-file', code: 1, stderr: 'acr-bridge: disk full' }
    const controller = controllerWith({ privileged: false })
    await expect(controller.connect()).rejects.toMatchObject({ code: 'ELEVATION_FAILED' })
    machine.failSection = undefined
    expect(machine.scripts).toHaveLength(2) // the failed apply, then its undo
    expect(machine.state.redirects).toEqual([])
    expect(await hostsText()).toBe(original)
    expect(await readLease(dataDir)).toBeUndefined()
  })
})

describe('a lease left by a crash', () => {
  it('findStaleLease lists the redirect and the block; revertStaleLease undoes both in one run', async () => {
    const crashed = controllerWith({ privileged: false })
    await crashed.connect()
    controllers.splice(controllers.indexOf(crashed), 1) // "killed": never disconnects
    alive.delete(4242)
    const withBlock = await hostsText()
    expect(withBlock).toContain(HOSTS_BLOCK_BEGIN)

    alive.set(5151, '1')
    const next = controllerWith({ privileged: false, pid: 5151 })
    const stale = await next.findStaleLease()
    expect(stale).toEqual({
      hostsPath,
      names: [registry, auth, bucket],
      changes: ['the nft table ip acr_bridge (127.0.0.1:443 → 38211, 127.0.0.1:80 → 40111)', `the acr-bridge block in ${hostsPath} (3 names)`],
    })
    expect(await hostsText()).toBe(withBlock)
    // Connecting over it is refused until it is undone.
    await expect(next.connect()).rejects.toMatchObject({ code: 'LEASE_PENDING' })
    expect(machine.scripts).toHaveLength(1)

    await next.revertStaleLease()
    expect(machine.scripts).toHaveLength(2)
    expect(machine.state.redirects).toEqual([])
    expect(await hostsText()).toBe(original)
    expect(await next.findStaleLease()).toBeUndefined()
    await next.connect()
    expect(machine.state.redirects).toHaveLength(2)
    await next.disconnect()
    expect(await hostsText()).toBe(original)
  })
})

describe('connect({ resumeStaleLease: true }): "connect at start" takes a stale lease over', () => {
  /** A session with the alias (rootless engine) that is "killed" (never disconnects), then the machine restarts. */
  async function crashedWithAlias(options: { reboot: boolean }): Promise<string> {
    const crashed = controllerWith({ privileged: false, engines: ['rootless-docker'] })
    await crashed.connect()
    controllers.splice(controllers.indexOf(crashed), 1)
    alive.delete(4242)
    if (options.reboot) machine.reboot()
    return hostsText()
  }

  /** The next run's tunnel: the OS hands out other high ports this time. */
  function nextRun(overrides: Partial<SessionControllerDeps> = {}): LocalSessionController {
    alive.set(5151, '1')
    return controllerWith({
      privileged: false,
      engines: ['rootless-docker'],
      pid: 5151,
      startTunnel: async (options) => {
        const tunnel = await tunnels.start(options)
        Object.assign(tunnel, { addresses: { ...tunnel.addresses, port: 45001, httpPort: 45002 } })
        return tunnel
      },
      ...overrides,
    })
  }

  it('after a reboot: ONE run re-creates alias and redirect (new ports), the block stays; disconnect leaves the machine as before the first apply', async () => {
    const baseline = machine.snapshot()
    const withBlock = await crashedWithAlias({ reboot: true })
    expect(machine.state.aliases.size).toBe(0)
    const next = nextRun()
    await next.connect({ resumeStaleLease: true })
    expect(machine.scripts).toHaveLength(2)
    // The hosts block already says what this session wants: only the companion steps run.
    expect(machine.performed[1]).toEqual(['loopback-alias add', 'port-redirect-add'])
    expect([...machine.state.aliases]).toEqual([defaultAliasAddress])
    expect(machine.state.redirects).toEqual([
      { address: defaultAliasAddress, port: 443, toPort: 45001 },
      { address: defaultAliasAddress, port: 80, toPort: 45002 },
    ])
    expect(await hostsText()).toBe(withBlock)
    const lease = await readLease(dataDir)
    expect(lease?.pid).toBe(5151)
    expect(lease?.records.map((r) => [r.change.kind, r.state])).toEqual([
      ['loopback-alias', 'applied'],
      ['port-redirect', 'applied'],
      ['hosts', 'applied'],
    ])
    expect(next.state.kind).toBe('healthy')

    await next.disconnect()
    expect(machine.scripts).toHaveLength(3)
    expect(machine.snapshot()).toBe(baseline)
    expect(await hostsText()).toBe(original)
    expect(await fs.readdir(dataDir)).toEqual([])
  })

  it('with a config that dropped a name and no alias any more: the block shrinks and the old alias goes, in the same one run', async () => {
    const baseline = machine.snapshot()
    await crashedWithAlias({ reboot: false })
    const config = parseConfig({ ...makeConfig(), extraHosts: [] })
    const next = nextRun({ config, detectEngines: async () => [] })
    await next.connect({ resumeStaleLease: true })
    expect(machine.scripts).toHaveLength(2)
    expect(machine.performed[1]).toEqual(['port-redirect-add', 'install-file', 'loopback-alias remove'])
    expect(machine.state.aliases.size).toBe(0)
    expect(machine.state.redirects.map((r) => `${r.address}:${r.port}->${r.toPort}`)).toEqual(['127.0.0.1:443->45001', '127.0.0.1:80->45002'])
    const text = await hostsText()
    expect(text).toContain(`127.0.0.1 ${registry}\n127.0.0.1 ${auth}\n`)
    expect(text).not.toContain(bucket)
    expect(text).not.toContain(defaultAliasAddress)
    expect((await readLease(dataDir))?.records.map((r) => r.change.kind)).toEqual(['port-redirect', 'hosts'])
    await next.disconnect()
    expect(machine.snapshot()).toBe(baseline)
    expect(await hostsText()).toBe(original)
  })

  it('without resumeStaleLease the lease is still refused; a live session is refused either way and nothing changes', async () => {
    const running = controllerWith({ privileged: false, engines: ['rootless-docker'] })
    await running.connect()
    const withBlock = await hostsText()
    alive.set(5151, '1')
    const second = controllerWith({ privileged: false, engines: ['rootless-docker'], pid: 5151 })
    await expect(second.connect({ resumeStaleLease: true })).rejects.toMatchObject({ code: 'ALREADY_RUNNING' })
    expect(machine.scripts).toHaveLength(1)
    expect(await hostsText()).toBe(withBlock)
    expect((await readLease(dataDir))?.pid).toBe(4242)
    expect(second.state).toMatchObject({ kind: 'down', error: { code: 'ALREADY_RUNNING' } })

    controllers.splice(controllers.indexOf(running), 1)
    alive.delete(4242)
    await expect(second.connect()).rejects.toMatchObject({ code: 'LEASE_PENDING' })
    expect(machine.scripts).toHaveLength(1)
  })

  it('a cancelled prompt while resuming leaves the earlier lease exactly as it was (the start-up offer still finds it)', async () => {
    await crashedWithAlias({ reboot: true })
    const before = await fs.readFile(join(dataDir, 'lease.json'), 'utf8')
    machine.deny = true
    const next = nextRun()
    await expect(next.connect({ resumeStaleLease: true })).rejects.toMatchObject({ code: 'ELEVATION_DENIED' })
    expect(await fs.readFile(join(dataDir, 'lease.json'), 'utf8')).toBe(before)
    expect(next.state).toMatchObject({ kind: 'down', error: { code: 'ELEVATION_DENIED' } })
    expect((await next.findStaleLease())?.changes).toHaveLength(3)
  })
})

describe('the listen strategy changes while connected', () => {
  it('the old alias goes in the same run that rewrites the block for the new address; disconnect leaves nothing', async () => {
    const baseline = machine.snapshot()
    const controller = controllerWith({ privileged: false, engines: ['rootless-docker'] })
    await controller.connect()
    expect([...machine.state.aliases]).toEqual([defaultAliasAddress])
    await controller.setConfig(makeConfig({ address: '127.0.0.2', port: 443, httpPort: 80 }))
    expect(machine.scripts).toHaveLength(2)
    expect(machine.performed[1]).toEqual(['port-redirect-add', 'install-file', 'loopback-alias remove'])
    expect(machine.state.aliases.size).toBe(0)
    expect(machine.state.redirects.every((r) => r.address === '127.0.0.2')).toBe(true)
    expect(await hostsText()).toContain(`127.0.0.2 ${registry}\n`)
    expect((await readLease(dataDir))?.records.map((r) => r.change.kind)).toEqual(['port-redirect', 'hosts'])
    await controller.disconnect()
    expect(machine.scripts).toHaveLength(3)
    expect(machine.snapshot()).toBe(baseline)
    expect(await hostsText()).toBe(original)
  })
})

describe('a session whose names point at the LAN address (Windows with a VM engine) follows the network', () => {
  // Docker Desktop's own section, which it rewrites some time after the network changed: here it never does.
  const withDocker = `${original}# Added by Docker Desktop\n192.168.1.23 host.docker.internal\n# End of section\n`
  let addresses: string[]

  async function connectedOnTheLan(): Promise<LocalSessionController> {
    machine = createSimulatedMachine('win32')
    await fs.writeFile(hostsPath, withDocker)
    addresses = ['192.168.1.23']
    const controller = controllerWith({
      privileged: false,
      engines: ['docker-desktop'],
      platform: 'win32',
      interfaceAddresses: () => addresses,
      network: { readAddresses: () => addresses, intervalMs: 5 },
    })
    await controller.connect()
    expect(controller.listening()?.strategy).toMatchObject({ hostsAddress: '192.168.1.23', followsNetwork: true })
    expect(tunnels.started[0]!.options.listen.address).toBe('192.168.1.23')
    expect(await hostsText()).toContain(`192.168.1.23 ${registry}`)
    return controller
  }

  async function expectFollowedTo(controller: LocalSessionController, address: string): Promise<void> {
    // (a simulated Windows apply takes about 1.5 s here)
    await vi.waitFor(() => expect(controller.listening()?.strategy.hostsAddress).toBe(address), { timeout: 10_000 })
    expect(tunnels.started).toHaveLength(2)
    expect(tunnels.started[1]!.options.listen.address).toBe(address)
    expect(tunnels.started[0]!.closedWith).toBeDefined()
    const hosts = await hostsText()
    expect(hosts).toContain(`${address} ${registry}`)
    expect(hosts).not.toContain(`192.168.1.23 ${registry}`)
    expect(controller.state.kind).not.toBe('down')
  }

  it('when that address goes, the tunnel listens on the new one and the block points there; disconnect leaves nothing', async () => {
    const controller = await connectedOnTheLan()
    addresses = ['192.168.1.23', '10.8.0.2'] // an address came: the names' address is still there, nothing moves
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(tunnels.started).toHaveLength(1)

    addresses = ['10.0.0.7'] // another Wi-Fi network; host.docker.internal still says 192.168.1.23
    await expectFollowedTo(controller, '10.0.0.7')

    await controller.disconnect()
    expect(await hostsText()).toBe(withDocker)
  })

  it('a new address that refuses the bind for a moment (still tentative) is tried again, and the session follows', async () => {
    const controller = await connectedOnTheLan()
    tunnels.failWith = mapListenError(Object.assign(new Error('listen EADDRNOTAVAIL: address not available 10.0.0.7:443'), { code: 'EADDRNOTAVAIL' }), '10.0.0.7', 443, 'listen.port') as Error
    addresses = ['10.0.0.7']
    await expectFollowedTo(controller, '10.0.0.7')
    expect(journal.events.filter((event) => event === 'tunnel.start')).toHaveLength(3) // connect, the refused bind, the one that held

    await controller.disconnect()
    expect(await hostsText()).toBe(withDocker)
  })
})
