// The lease under kill -9, for real, in a network namespace this test creates: a driver of the lease API (the built
// core) applies alias + nft redirect + hosts block with the real generated script and is killed with SIGKILL right
// after each step in turn (and as a running session, and halfway through its own revert); then `acr-bridge revert`
// (the built CLI, as root inside the namespace) must leave `nft list ruleset`, `iptables-save`, `ip addr` and the
// hosts file byte for byte as they were, and the data folder empty.

import { spawnSync, type ChildProcess } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readLease } from '../../../electron/core/lease/lease-journal.js'
import { planSystemChanges } from '../../../electron/core/lease/plan.js'
import type { SystemChangePlan } from '../../../electron/core/lease/system-changes.js'
import { defaultAliasAddress } from '../../../electron/core/platform/addresses.js'
import { chooseListenStrategy } from '../../../electron/core/platform/listen-strategy.js'
import { builtCli, builtCliTimeoutMs } from '../../helpers/cli.js'
import { createNamespace, differences, snapshot, sweepStaleNamespaces, type Namespace, type SystemSnapshot } from './netns.js'

const here = dirname(fileURLToPath(import.meta.url))
const names = ['registry-vpc.cn-hangzhou.aliyuncs.com', 'dockerauth-vpc.cn-hangzhou.aliyuncs.com']
const initialHosts = '# lease test namespace\r\n127.0.0.1\tlocalhost\n10.0.0.9 nas.lan # keep me\n'

let cli: string
let coreDir: string
let work: string
let namespace: Namespace
let baseline: SystemSnapshot
let plan: SystemChangePlan
let caseNumber = 0

beforeAll(async () => {
  for (const tool of ['nft', 'iptables-save', 'ip']) {
    if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0) throw new Error(`the lease crash test needs ${tool} (nftables, iptables, iproute2)`)
  }
  if (process.getuid?.() !== 0) throw new Error('the lease crash test creates a network namespace and needs root')
  sweepStaleNamespaces()
  cli = await builtCli()
  coreDir = join(dirname(dirname(cli)), 'core')
  work = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-lease-crash-'))
  namespace = await createNamespace(initialHosts)
  baseline = await snapshot(namespace)
  // A rootless engine's session: alias + redirect + hosts block (three steps in one script).
  const strategy = chooseListenStrategy({ platform: 'linux', engines: ['rootless-docker'], isPrivileged: false, unprivilegedPortStart: 1024, ports: { tls: 443, http: 80 } })
  plan = planSystemChanges({
    strategy,
    bound: { port: 38211, httpPort: 40111 },
    names: names.map((name) => ({ name })),
    hostsPath: namespace.hostsPath,
    takeOver: false,
    flushResolverCache: false,
  })
  expect(plan.alias).toBe(defaultAliasAddress)
}, builtCliTimeoutMs)

afterAll(async () => {
  await namespace?.dispose()
  if (work !== undefined) await fs.rm(work, { recursive: true, force: true })
})

/** Starts the driver in the namespace and resolves with the first JSON line it prints, and the child. */
function startDriver(options: Record<string, unknown>): Promise<{ child: ChildProcess; said: Record<string, unknown> }> {
  const child = namespace.spawn(process.execPath, [join(here, 'lease-driver.mjs'), coreDir, JSON.stringify(options)], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent' },
  })
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the lease driver said nothing within 30 s:\n${stdout}\n${stderr}`)), 30_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const line = stdout.split('\n')[0]
      if (!stdout.includes('\n') || line === undefined) return
      clearTimeout(timer)
      resolve({ child, said: JSON.parse(line) as Record<string, unknown> })
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`the lease driver exited (${code ?? signal}) early:\n${stdout}\n${stderr}`))
    })
  })
}

/** kill -9, and wait until it is gone. */
async function kill9(child: ChildProcess): Promise<void> {
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()))
  child.kill('SIGKILL')
  await gone
}

async function cliRevert(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return namespace.exec(process.execPath, [cli, 'revert', '--hosts-file', namespace.hostsPath, '--yes'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent', ACR_BRIDGE_DATA_DIR: dataDir },
  })
}

async function expectBaseline(dataDir: string): Promise<void> {
  expect(differences(baseline, await snapshot(namespace))).toEqual([])
  expect(await fs.readdir(dataDir)).toEqual([])
}

function newDataDir(): string {
  return join(work, `data ${caseNumber++}`)
}

describe('kill -9 during a session, then acr-bridge revert', () => {
  for (const stopAfter of [0, 1, 2, 3]) {
    it(`apply killed right after step ${stopAfter} of 3: revert gives everything back`, async () => {
      const dataDir = newDataDir()
      const { child, said } = await startDriver({ mode: 'apply', dataDir, plan, stopAfter })
      expect(said).toEqual({ stepsDone: stopAfter })
      await kill9(child)
      const left = await snapshot(namespace)
      // Each step really changed the machine before the kill: alias, then the nft table, then the hosts file.
      expect(left.addresses !== baseline.addresses).toBe(stopAfter >= 1)
      expect(left.nft !== baseline.nft).toBe(stopAfter >= 2)
      expect(!left.hosts.equals(baseline.hosts)).toBe(stopAfter >= 3)
      expect((await readLease(dataDir))?.records.map((record) => record.state)).toEqual(['pending', 'pending', 'pending'])

      const reverted = await cliRevert(dataDir)
      expect(reverted.stderr).toBe('')
      expect(reverted.code).toBe(0)
      expect(reverted.stdout).toContain('Undid 3 change(s) left by an earlier session')
      await expectBaseline(dataDir)
    })
  }

  it('a running session is not reverted behind its back; killed with -9, it is', async () => {
    const dataDir = newDataDir()
    const { child, said } = await startDriver({ mode: 'apply', dataDir, plan, stopAfter: null, hang: true })
    expect(said).toEqual({ applied: true })
    expect((await readLease(dataDir))?.records.map((record) => record.state)).toEqual(['applied', 'applied', 'applied'])
    const refused = await cliRevert(dataDir)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`A running acr-bridge session (PID ${child.pid}) holds these changes`)
    await kill9(child)
    const reverted = await cliRevert(dataDir)
    expect(reverted.code).toBe(0)
    await expectBaseline(dataDir)
  })

  for (const stopAfter of [1, 2]) {
    it(`a revert killed right after step ${stopAfter} of 3 is finished by the next revert`, async () => {
      const dataDir = newDataDir()
      const applied = await startDriver({ mode: 'apply', dataDir, plan, stopAfter: null })
      expect(applied.said).toEqual({ applied: true })
      await new Promise((resolve) => applied.child.once('close', resolve))
      const { child, said } = await startDriver({ mode: 'revert', dataDir, stopAfter })
      expect(said).toEqual({ stepsDone: stopAfter })
      await kill9(child)
      const left = await snapshot(namespace)
      // The hosts file was restored first; the rules (and the alias) are still there.
      expect(left.hosts.equals(baseline.hosts)).toBe(true)
      expect(left.addresses).not.toBe(baseline.addresses)
      expect(left.nft !== baseline.nft).toBe(stopAfter < 2)
      const reverted = await cliRevert(dataDir)
      expect(reverted.code).toBe(0)
      await expectBaseline(dataDir)
    })
  }
})
