import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import { leasePath, readLease, writeLease, type BootMark } from '../../../electron/core/lease/lease-journal.js'
import { planSystemChanges } from '../../../electron/core/lease/plan.js'
import {
  applySystemChanges,
  findLease,
  revertSystemChanges,
  type SystemChangeDeps,
  type SystemChangePlan,
} from '../../../electron/core/lease/system-changes.js'
import type { Platform } from '../../../electron/core/paths.js'
import { defaultAliasAddress } from '../../../electron/core/platform/addresses.js'
import { chooseListenStrategy } from '../../../electron/core/platform/listen-strategy.js'
import { createSimulatedMachine, sectionCount, type SimulatedMachine } from './simulated-machine.js'

const original = '# the user\'s own hosts file\n127.0.0.1 localhost\n10.0.0.9 nas.lan\n'
const names = ['registry-vpc.cn-hangzhou.aliyuncs.com', 'dockerauth-vpc.cn-hangzhou.aliyuncs.com']

let root: string
let counter = 0

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-lease-'))
})

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true, maxRetries: 3 })
})

interface World {
  readonly machine: SimulatedMachine
  readonly hostsPath: string
  readonly dataDir: string
  boot: BootMark
  deps(pid: number, extra?: Partial<SystemChangeDeps>): SystemChangeDeps
  plan(engines?: readonly ('native' | 'docker-desktop' | 'rootless-docker')[], only?: readonly string[], bound?: { port: number; httpPort: number }): SystemChangePlan
}

async function world(platform: Platform): Promise<World> {
  const dir = join(root, `w${counter++}`)
  await fs.mkdir(dir)
  const hostsPath = join(dir, 'hosts')
  await fs.writeFile(hostsPath, platform === 'win32' ? original.replace(/\n/g, '\r\n') : original)
  const machine = createSimulatedMachine(platform)
  const w: World = {
    machine,
    hostsPath,
    dataDir: join(dir, 'data dir'),
    boot: { id: 'boot-1', time: 1_800_000_000 },
    deps(pid, extra = {}) {
      return {
        dataDir: w.dataDir,
        platform,
        elevator: machine.elevator,
        pid,
        // Every write goes through the privileged run, as for the OS hosts file.
        canWriteDirectly: async () => false,
        localAddresses: () => machine.localAddresses(),
        bootMark: async () => w.boot,
        isProcessAlive: () => false,
        verifyDelayMs: 0,
        ...extra,
      }
    },
    plan(engines = ['docker-desktop'], only = names, bound) {
      const strategy = chooseListenStrategy({
        platform,
        engines,
        isPrivileged: false,
        unprivilegedPortStart: 1024,
        ports: { tls: 443, http: 80 },
        windows: { dockerDesktopHostAddress: '192.168.1.23' },
      })
      return planSystemChanges({
        strategy,
        bound: bound ?? (platform === 'win32' ? { port: 443, httpPort: 80 } : { port: 38211, httpPort: 40111 }),
        names: only.map((name) => ({ name })),
        hostsPath,
        takeOver: false,
        flushResolverCache: true,
      })
    },
  }
  return w
}

async function hostsText(w: World): Promise<string> {
  return fs.readFile(w.hostsPath, 'utf8')
}

/** The data folder holds nothing but what a clean revert leaves (nothing at all). */
async function dataLeftovers(w: World): Promise<string[]> {
  return (await fs.readdir(w.dataDir).catch(() => [] as string[])).sort()
}

for (const platform of ['linux', 'darwin'] as const) {
  describe(`lease on ${platform}`, () => {
    it('applies alias, redirects and the hosts block in ONE privileged run, alias first, and records them', async () => {
      const w = await world(platform)
      const baseline = w.machine.snapshot()
      const result = await applySystemChanges(w.plan(), w.deps(100))
      expect(w.machine.scripts).toHaveLength(1)
      expect(w.machine.performed[0]).toEqual(['loopback-alias add', 'port-redirect-add', 'install-file', 'flush-resolver-cache'])
      expect(result).toMatchObject({ privilegedRun: true, aliasAdded: true })
      expect([...w.machine.state.aliases]).toEqual([defaultAliasAddress])
      expect(w.machine.state.redirects).toEqual([
        { address: defaultAliasAddress, port: 443, toPort: 38211 },
        { address: defaultAliasAddress, port: 80, toPort: 40111 },
      ])
      expect(await hostsText(w)).toContain(`${defaultAliasAddress} registry-vpc.cn-hangzhou.aliyuncs.com`)
      const lease = await readLease(w.dataDir)
      expect(lease?.records.map((r) => [r.change.kind, r.state])).toEqual([
        ['loopback-alias', 'applied'],
        ['port-redirect', 'applied'],
        ['hosts', 'applied'],
      ])
      const redirect = lease?.records[1]?.change
      if (platform === 'darwin') {
        expect(redirect).toMatchObject({ mechanism: 'pf', pfToken: [...w.machine.state.pfTokens][0] })
      } else {
        expect(redirect).toMatchObject({ mechanism: 'nft' })
        expect(redirect).not.toHaveProperty('pfToken')
      }

      const reverted = await revertSystemChanges(w.deps(100))
      expect(reverted).toMatchObject({ reverted: true, privilegedRun: true })
      expect(w.machine.scripts).toHaveLength(2)
      expect(w.machine.performed[1]).toEqual(['install-file', 'flush-resolver-cache', 'port-redirect-remove', 'loopback-alias remove'])
      expect(w.machine.snapshot()).toBe(baseline)
      expect(await hostsText(w)).toBe(original)
      expect(await dataLeftovers(w)).toEqual([])
    })

    it('applying the same plan again changes nothing but still re-creates aliases and rules a restart removed', async () => {
      const w = await world(platform)
      await applySystemChanges(w.plan(), w.deps(100))
      const hostsAfter = await hostsText(w)
      const tokenBefore = [...w.machine.state.pfTokens]
      // A restart: rules and alias are gone, the hosts block stays. The app starts connected and adopts its lease.
      w.machine.reboot()
      w.boot = { id: 'boot-2', time: 1_800_009_000 }
      const finding = await findLease(w.dataDir, { platform, pid: 200, isProcessAlive: () => false, bootMark: async () => w.boot })
      expect(finding).toMatchObject({ ownerAlive: false, ours: false, rebooted: true, names })
      expect(finding?.changes.join('\n')).toContain('already gone: the machine restarted')
      await expect(applySystemChanges(w.plan(), w.deps(200))).rejects.toMatchObject({ code: 'LEASE_PENDING' })
      await applySystemChanges(w.plan(), w.deps(200), { adopt: true })
      // The hosts file needed no write: the companion steps ran alone, still one run.
      expect(w.machine.performed[1]).toEqual(['loopback-alias add', 'port-redirect-add'])
      expect(await hostsText(w)).toBe(hostsAfter)
      expect(w.machine.state.aliases.has(defaultAliasAddress)).toBe(true)
      expect(w.machine.state.redirects).toHaveLength(2)
      if (platform === 'darwin') {
        // The stale reference was released (harmless after a restart) and a new one taken and recorded.
        expect([...w.machine.state.pfTokens]).toHaveLength(1)
        expect([...w.machine.state.pfTokens]).not.toEqual(tokenBefore)
        expect((await readLease(w.dataDir))?.records[1]?.change).toMatchObject({ pfToken: [...w.machine.state.pfTokens][0] })
      }
      await revertSystemChanges(w.deps(200))
      expect(w.machine.snapshot()).toBe(createSimulatedMachine(platform).snapshot())
      expect(await hostsText(w)).toBe(original)
    })

    it('adopting after a reboot: ONE run re-creates the alias and points the redirects at the new ports; the lease is the new owner\'s', async () => {
      const w = await world(platform)
      const baseline = w.machine.snapshot()
      await applySystemChanges(w.plan(), w.deps(100))
      w.machine.reboot()
      w.boot = { id: 'boot-2', time: 1_800_009_000 }
      const result = await applySystemChanges(w.plan(undefined, names, { port: 41001, httpPort: 41002 }), w.deps(200), { adopt: true })
      expect(w.machine.scripts).toHaveLength(2)
      expect(result).toMatchObject({ adoptedFrom: 100, privilegedRun: true, removed: [] })
      expect(result.made.join('\n')).toContain(`${defaultAliasAddress}:443 → 41001`)
      expect(w.machine.state.redirects).toEqual([
        { address: defaultAliasAddress, port: 443, toPort: 41001 },
        { address: defaultAliasAddress, port: 80, toPort: 41002 },
      ])
      const lease = await readLease(w.dataDir)
      expect(lease?.pid).toBe(200)
      expect(lease?.records.map((r) => [r.change.kind, r.state])).toEqual([
        ['loopback-alias', 'applied'],
        ['port-redirect', 'applied'],
        ['hosts', 'applied'],
      ])
      if (platform === 'darwin') {
        // The old boot's pf reference is not released (in this boot that number may be someone else's).
        expect(w.machine.scripts[1]).not.toContain('pfctl -X')
        expect(lease?.records[1]?.change).toMatchObject({ pfToken: [...w.machine.state.pfTokens][0] })
      }
      await revertSystemChanges(w.deps(200))
      expect(w.machine.snapshot()).toBe(baseline)
      expect(await hostsText(w)).toBe(original)
    })

    it('adopting with a new plan that wants no alias and fewer names: the old alias goes in the same run, the block shrinks', async () => {
      const w = await world(platform)
      const baseline = w.machine.snapshot()
      await applySystemChanges(w.plan(), w.deps(100))
      // A crash, no reboot: the alias and rules are still there.
      const plan = w.plan(['native'], names.slice(0, 1), { port: 41001, httpPort: 41002 })
      expect(plan.alias).toBeUndefined()
      const result = await applySystemChanges(plan, w.deps(200), { adopt: true })
      expect(w.machine.scripts).toHaveLength(2)
      expect(w.machine.performed[1]).toEqual(['port-redirect-add', 'install-file', 'flush-resolver-cache', 'loopback-alias remove'])
      expect(result.removed).toEqual([`the address ${defaultAliasAddress} on ${platform === 'darwin' ? 'lo0' : 'lo'}`])
      expect(w.machine.state.aliases.size).toBe(0)
      expect(w.machine.state.redirects.map((r) => r.address)).toEqual(['127.0.0.1', '127.0.0.1'])
      const text = await hostsText(w)
      expect(text).toContain(`127.0.0.1 ${names[0]}`)
      expect(text).not.toContain(names[1])
      expect((await readLease(w.dataDir))?.records.map((r) => r.change.kind)).toEqual(['port-redirect', 'hosts'])
      await revertSystemChanges(w.deps(200))
      expect(w.machine.snapshot()).toBe(baseline)
      expect(await hostsText(w)).toBe(original)
    })

    it('the same session re-planned without redirects (root strategy): our rule goes in the same run as the hosts rewrite', async () => {
      const w = await world(platform)
      await applySystemChanges(w.plan(['native']), w.deps(100))
      expect(w.machine.state.redirects).toHaveLength(2)
      const strategy = chooseListenStrategy({ platform, engines: ['native'], isPrivileged: true, unprivilegedPortStart: 1024, ports: { tls: 443, http: 80 } })
      const plan = planSystemChanges({ strategy, bound: { port: 443, httpPort: 80 }, names: names.map((name) => ({ name })), hostsPath: w.hostsPath, takeOver: false, flushResolverCache: true })
      expect(plan.redirects).toBeUndefined()
      const result = await applySystemChanges(plan, w.deps(100))
      expect(w.machine.scripts).toHaveLength(2)
      expect(w.machine.performed[1]).toEqual(['port-redirect-remove'])
      expect(result.removed).toHaveLength(1)
      expect(w.machine.state.redirects).toEqual([])
      expect((await readLease(w.dataDir))?.records.map((r) => r.change.kind)).toEqual(['hosts'])
    })

    it('adopting a lease of another hosts file is refused before anything changes', async () => {
      const w = await world(platform)
      await applySystemChanges(w.plan(), w.deps(100))
      const before = await fs.readFile(leasePath(w.dataDir), 'utf8')
      const other = { ...w.plan(), hosts: { ...w.plan().hosts!, hostsPath: join(w.dataDir, '..', 'other-hosts') } }
      await expect(applySystemChanges(other, w.deps(200), { adopt: true })).rejects.toMatchObject({ code: 'LEASE_PENDING' })
      expect(w.machine.scripts).toHaveLength(1)
      expect(await fs.readFile(leasePath(w.dataDir), 'utf8')).toBe(before)
    })

    it('after a reboot, revert restores the hosts file and tolerates the missing alias and rules', async () => {
      const w = await world(platform)
      await applySystemChanges(w.plan(), w.deps(100))
      w.machine.reboot()
      const result = await revertSystemChanges(w.deps(300))
      expect(result.reverted).toBe(true)
      expect(w.machine.performed.at(-1)).toEqual(['install-file', 'flush-resolver-cache', 'port-redirect-remove', 'loopback-alias remove'])
      expect(await hostsText(w)).toBe(original)
      expect(await readLease(w.dataDir)).toBeUndefined()
    })

    it('leaves an address the machine already had alone: not recorded, not removed', async () => {
      const w = await world(platform)
      w.machine.state.aliases.add(defaultAliasAddress)
      const result = await applySystemChanges(w.plan(), w.deps(100))
      expect(result.aliasAdded).toBe(false)
      expect(w.machine.performed[0]).toEqual(['port-redirect-add', 'install-file', 'flush-resolver-cache'])
      expect((await readLease(w.dataDir))?.records.map((r) => r.change.kind)).toEqual(['port-redirect', 'hosts'])
      await revertSystemChanges(w.deps(100))
      expect(w.machine.state.aliases.has(defaultAliasAddress)).toBe(true)
    })

    it('a cancelled prompt changes nothing and leaves no lease', async () => {
      const w = await world(platform)
      w.machine.deny = true
      await expect(applySystemChanges(w.plan(), w.deps(100))).rejects.toMatchObject({ code: 'ELEVATION_DENIED' })
      expect(await readLease(w.dataDir)).toBeUndefined()
      expect(w.machine.snapshot()).toBe(createSimulatedMachine(platform).snapshot())
      expect(await hostsText(w)).toBe(original)
    })

    it('a missing tool fails before the hosts file is touched, says what to install, and the lease keeps the pending records', async () => {
      const w = await world(platform)
      w.machine.failSection = { header: '# port-redirect-add', code: 69, stderr: 'acr-bridge: nft (nftables) is not installed' }
      const failure = await applySystemChanges(w.plan(), w.deps(100)).catch((error: unknown) => error)
      expect(isBridgeError(failure, 'ELEVATION_FAILED')).toBe(true)
      expect((failure as { message: string }).message).toContain('nft (nftables)')
      expect(await hostsText(w)).toBe(original)
      // The alias was made before the failing step: revert must undo it.
      expect(w.machine.state.aliases.has(defaultAliasAddress)).toBe(true)
      expect((await readLease(w.dataDir))?.records.every((r) => r.state === 'pending')).toBe(true)
      w.machine.failSection = undefined
      await revertSystemChanges(w.deps(100))
      expect(w.machine.snapshot()).toBe(createSimulatedMachine(platform).snapshot())
      expect(await hostsText(w)).toBe(original)
    })

    it('a crash after each step of apply, then of revert: a later revert always gives the machine back as it was', async () => {
      const probe = await world(platform)
      await applySystemChanges(probe.plan(), probe.deps(1))
      const applySteps = sectionCount(probe.machine.scripts[0] ?? '')
      await revertSystemChanges(probe.deps(1))
      const revertSteps = sectionCount(probe.machine.scripts[1] ?? '')
      expect(applySteps).toBe(4)
      expect(revertSteps).toBe(4)
      let cases = 0
      for (let applyCrash = 0; applyCrash <= applySteps; applyCrash += 1) {
        for (const revertCrash of [undefined, ...Array.from({ length: revertSteps + 1 }, (_, k) => k)]) {
          const w = await world(platform)
          const baseline = w.machine.snapshot()
          w.machine.crashAfter = applyCrash
          // The process dies inside the privileged run: the promise never settles.
          void applySystemChanges(w.plan(), w.deps(100))
          await waitFor(() => w.machine.scripts.length === 1)
          expect((await readLease(w.dataDir))?.records.map((r) => r.state)).toEqual(['pending', 'pending', 'pending'])
          const finding = await findLease(w.dataDir, { platform, pid: 101, isProcessAlive: () => false, bootMark: async () => w.boot })
          expect(finding?.ownerAlive).toBe(false)
          if (revertCrash !== undefined) {
            w.machine.crashAfter = revertCrash
            void revertSystemChanges(w.deps(101))
            await waitFor(() => w.machine.scripts.length === 2)
          }
          await revertSystemChanges(w.deps(102))
          expect(w.machine.snapshot()).toBe(baseline)
          expect(await hostsText(w)).toBe(original)
          expect(await readLease(w.dataDir)).toBeUndefined()
          // Staging folders of the killed runs are swept; the hosts backup and journal are gone.
          expect(await dataLeftovers(w)).toEqual([])
          cases += 1
        }
      }
      expect(cases).toBe((applySteps + 1) * (revertSteps + 2))
    }, 60_000)
  })
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 2))
  expect(condition()).toBe(true)
}

describe('lease on Windows', () => {
  // A Windows staging path cannot exist on this machine, so these write the file directly (the Windows script
  // itself is covered by the golden files); what is tested is the lease's Windows logic.
  const direct = { canWriteDirectly: async () => true }

  it('writes only the hosts block (bound directly, no alias, no rule) and reverts it byte for byte', async () => {
    const w = await world('win32')
    const plan = w.plan()
    expect(plan.alias).toBeUndefined()
    expect(plan.redirects).toBeUndefined()
    const result = await applySystemChanges(plan, w.deps(100, direct))
    expect(result.privilegedRun).toBe(false)
    expect(await hostsText(w)).toContain('192.168.1.23 registry-vpc.cn-hangzhou.aliyuncs.com\r\n')
    expect((await readLease(w.dataDir))?.records.map((r) => r.change.kind)).toEqual(['hosts'])
    await revertSystemChanges(w.deps(100, direct))
    expect(await hostsText(w)).toBe(original.replace(/\n/g, '\r\n'))
  })

  it('re-reads the file after the write and explains Defender when the block was removed behind our back', async () => {
    const w = await world('win32')
    const sleeps: number[] = []
    // Defender's remediation resets the file to the Windows default while acr-bridge waits before re-reading.
    const defender = async (ms: number): Promise<void> => {
      sleeps.push(ms)
      await fs.writeFile(w.hostsPath, '# Copyright (c) 1993-2009 Microsoft Corp.\r\n')
    }
    const failure = await applySystemChanges(w.plan(), w.deps(100, { ...direct, verifyDelayMs: undefined, sleep: defender })).catch((error: unknown) => error)
    expect(sleeps).toEqual([1500])
    expect(isBridgeError(failure, 'HOSTS_CHANGED_BEHIND_US')).toBe(true)
    expect((failure as { hint: string }).hint).toContain('SettingsModifier:Win32/HostsFileHijack')
    // The lease still lists the hosts change, so revert (a no-op on the reset file) cleans up.
    expect((await readLease(w.dataDir))?.records.map((r) => r.change.kind)).toEqual(['hosts'])
    await revertSystemChanges(w.deps(100, direct))
    expect(await readLease(w.dataDir)).toBeUndefined()
  })

  it('refuses (a bug) an alias or redirect on Windows', async () => {
    const w = await world('win32')
    await expect(applySystemChanges({ alias: '198.19.82.17' }, w.deps(100))).rejects.toThrow(/Windows needs no alias/)
  })
})

describe('the lease file and findLease', () => {
  it('is absent, live, or stale; describes each change', async () => {
    const w = await world('linux')
    expect(await findLease(w.dataDir, { platform: 'linux' })).toBeUndefined()
    await applySystemChanges(w.plan(), w.deps(100))
    const own = await findLease(w.dataDir, { platform: 'linux', pid: 100, bootMark: async () => w.boot })
    expect(own).toMatchObject({ ours: true, ownerAlive: true, rebooted: false })
    expect(own?.changes).toEqual([
      `the address ${defaultAliasAddress} on lo`,
      `the nft table ip acr_bridge (${defaultAliasAddress}:443 → 38211, ${defaultAliasAddress}:80 → 40111)`,
      `the acr-bridge block in ${w.hostsPath} (2 names)`,
    ])
    const live = await findLease(w.dataDir, { platform: 'linux', pid: 5, isProcessAlive: (pid) => pid === 100, bootMark: async () => w.boot })
    expect(live).toMatchObject({ ours: false, ownerAlive: true })
    // A live owner's lease is not ours to take over.
    await expect(applySystemChanges(w.plan(), w.deps(5, { isProcessAlive: () => true }))).rejects.toThrow(/Another acr-bridge process \(PID 100\)/)
  })

  it('refuses a lease file that is not exactly what acr-bridge writes (its values would reach a script)', async () => {
    const w = await world('linux')
    await applySystemChanges(w.plan(), w.deps(100))
    const text = await fs.readFile(leasePath(w.dataDir), 'utf8')
    for (const tampered of [
      text.replace(`"address": "${defaultAliasAddress}"`, '"address": "1.2.3.4; reboot"'),
      text.replace('"toPort": 38211', '"toPort": "38211"'),
      text.replace('"mechanism": "nft"', '"mechanism": "iptables"'),
      '{ not json',
    ]) {
      await fs.writeFile(leasePath(w.dataDir), tampered)
      await expect(readLease(w.dataDir)).rejects.toThrow(/lease file .* is unreadable/)
    }
    await fs.writeFile(leasePath(w.dataDir), text)
    const lease = await readLease(w.dataDir)
    expect(lease).toBeDefined()
    if (lease !== undefined) await writeLease(w.dataDir, lease)
    expect(await readLease(w.dataDir)).toEqual(lease)
  })

  it('needs no privileged run when nothing needs privilege (a writable hosts file, root strategy, no alias)', async () => {
    const w = await world('linux')
    const plan = w.plan(['native'])
    const direct = { ...plan, redirects: [] }
    const result = await applySystemChanges(direct, w.deps(100, { canWriteDirectly: async () => true }))
    expect(result.privilegedRun).toBe(false)
    expect(w.machine.scripts).toHaveLength(0)
    const reverted = await revertSystemChanges(w.deps(100, { canWriteDirectly: async () => true }))
    expect(reverted.privilegedRun).toBe(false)
    expect(await hostsText(w)).toBe(original)
  })
})
