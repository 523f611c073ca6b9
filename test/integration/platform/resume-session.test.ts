// "Connect at start" after a crash or a reboot, for real on Linux, in a network namespace this test creates: the
// session controller of the BUILT core runs as `nobody` with the real @vscode/sudo-prompt elevator (only pkexec is a
// stand-in, see polkit.ts) and a rootless container engine, so the listen strategy puts the names on an alias outside
// 127/8 (platform/addresses.ts defaultAliasAddress) behind an nft redirect to the high ports the tunnel bound.
//
// Run 1 connects (ONE elevation: alias, redirect, hosts block) and is killed with SIGKILL. A reboot is simulated the
// way a restart leaves the machine: the alias and our nft table are deleted; the hosts file, the lease and the
// dead process's session lock stay. Run 2 connects with { resumeStaleLease: true } and must take the lease over in
// ONE elevation: alias back, redirect pointing at ITS ports, curl by name works; its disconnect (ONE elevation) leaves
// `nft list ruleset`, `iptables-save`, `ip addr` and the hosts file byte for byte as before run 1. A second case: the
// next run's config dropped a name (and no reboot happened, so alias and rules were still there); a live run 1
// makes run 2 refuse with ALREADY_RUNNING and change nothing.

import type { ChildProcess } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readLease } from '../../../electron/core/lease/lease-journal.js'
import { defaultAliasAddress } from '../../../electron/core/platform/addresses.js'
import { builtCli, builtCliTimeoutMs } from '../../helpers/cli.js'
import { createPki, type Pki } from '../../world/harness/certs.js'
import { curl, differences, snapshot, sweepStaleNamespaces, type Namespace } from './netns.js'
import { nobody, nobodyNamespace, requireUnprivilegedTestTools, startPolkit, type NobodyNamespace, type Polkit } from './polkit.js'
import { collectOutput, type CollectedOutput } from './processes.js'

const here = dirname(fileURLToPath(import.meta.url))
const registryName = 'registry-vpc.cn-hangzhou.aliyuncs.com'
const bucketName = 'aliregistry.oss-cn-hangzhou.aliyuncs.com'
const initialHosts = '# resume-session test namespace\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n'
const toolPath = '/usr/sbin:/usr/bin:/sbin:/bin'

let coreDir: string
let work: string
let pki: Pki
let polkit: Polkit


beforeAll(async () => {
  requireUnprivilegedTestTools('resume-session')
  sweepStaleNamespaces()
  work = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-resume-'))
  await fs.chmod(work, 0o755)
  pki = createPki(join(work, 'pki'), [registryName])
  coreDir = join(dirname(dirname(await builtCli())), 'core')
  polkit = await startPolkit(work, { path: toolPath })
}, builtCliTimeoutMs)

afterAll(async () => {
  await polkit?.close()
  if (work !== undefined) await fs.rm(work, { recursive: true, force: true })
})

interface Connected {
  readonly connected: true
  readonly pid: number
  readonly uid: number
  readonly bound: { readonly address: string; readonly port: number; readonly httpPort: number }
  readonly hostsAddress: string
}

interface Run extends CollectedOutput {
  readonly child: ChildProcess
  /** The first JSON line: connected, or the error connect failed with. */
  readonly ready: Promise<Connected | { readonly error: { readonly code: string; readonly message: string } }>
}

type Setup = NobodyNamespace

function setup(): Promise<Setup> {
  return nobodyNamespace(polkit, work, initialHosts, pki.active(registryName))
}

function configFor(s: Setup, names: readonly string[]): Record<string, unknown> {
  return {
    extraHosts: names.map((name) => (name === bucketName ? { name, ports: [80] } : name)),
    // The default listen section (automatic address, 443/80); the "ECS" is the origin itself, in sni mode.
    tunnel: { mode: 'sni', host: '127.0.0.1', port: s.origin.tlsPort, httpPort: s.origin.httpPort },
  }
}

/** The session driver as nobody inside the namespace, with the pkexec stand-in. */
function startRun(s: Setup, names: readonly string[], resume: boolean): Run {
  const [file, args] = polkit.nobodyCommand([
    process.execPath,
    join(here, 'session-driver.mjs'),
    coreDir,
    JSON.stringify({ config: configFor(s, names), dataDir: s.dataDir, resume }),
  ])
  const child = s.namespace.spawn(file, args, { env: { PATH: toolPath, HOME: work, LANG: 'C.UTF-8' } })
  const output = collectOutput(child)
  const ready = (async () => {
    const until = Date.now() + 60_000
    for (;;) {
      const out = output.stdout()
      const line = out.split('\n').find((candidate) => candidate.startsWith('{'))
      if (line !== undefined && out.includes('\n')) return JSON.parse(line) as Connected | { error: { code: string; message: string } }
      if (output.gone() || Date.now() > until) {
        throw new Error(`${output.gone() ? 'the session driver exited' : 'no answer within 60 s'}\n--- stdout ---\n${out}\n--- stderr ---\n${output.stderr()}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  })()
  return { child, ready, ...output }
}

async function connected(run: Run): Promise<Connected> {
  const answer = await run.ready
  if (!('connected' in answer)) throw new Error(`connect failed: ${JSON.stringify(answer)}\n--- stderr ---\n${run.stderr()}`)
  return answer
}

async function nftTable(namespace: Namespace): Promise<string> {
  return (await namespace.exec('nft', ['list', 'table', 'ip', 'acr_bridge'])).stdout
}

async function kill9(run: Run): Promise<void> {
  run.child.kill('SIGKILL')
  expect((await run.exited).signal).toBe('SIGKILL')
}

/** What a restart removes: the alias and our nft table (the hosts file and the data folder stay). */
async function simulateReboot(namespace: Namespace): Promise<void> {
  const alias = await namespace.exec('ip', ['addr', 'del', `${defaultAliasAddress}/32`, 'dev', 'lo'])
  expect(alias.code, alias.stderr).toBe(0)
  const table = await namespace.exec('nft', ['delete', 'table', 'ip', 'acr_bridge'])
  expect(table.code, table.stderr).toBe(0)
}

async function stop(run: Run): Promise<void> {
  run.child.kill('SIGINT')
  expect(await run.exited, run.stderr()).toEqual({ code: 0, signal: null })
  expect(run.stdout()).toContain('{"disconnected":true}')
}

async function expectAsBefore(s: Setup): Promise<void> {
  expect(differences(s.before, await snapshot(s.namespace))).toEqual([])
  expect(await readLease(s.dataDir)).toBeUndefined()
  expect((await fs.readdir(s.dataDir)).filter((name) => name.startsWith('elevate-') || name === 'hosts.backup' || name === 'session.lock')).toEqual([])
}

describe('connect with resumeStaleLease after kill -9 (Linux, nobody, alias outside 127/8 + nft redirect)', () => {
  it('after a reboot: ONE elevation brings alias and redirect back for the new ports, curl by name works; disconnect gives everything back', async () => {
    const s = await setup()
    try {
      expect((await curl(s.namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`], toolPath)).code).not.toBe(0)
      const start = polkit.authorizations.length

      const first = startRun(s, [registryName, bucketName], false)
      const one = await connected(first)
      expect(one.uid).toBe(nobody)
      expect(one.hostsAddress).toBe(defaultAliasAddress)
      expect(polkit.authorizations.slice(start).map((a) => a.uid)).toEqual([nobody])
      expect(await s.namespace.addresses()).toContain(defaultAliasAddress)
      expect(await nftTable(s.namespace)).toContain(`ip daddr ${defaultAliasAddress} tcp dport 443 redirect to :${one.bound.port}`)
      expect(await fs.readFile(s.namespace.hostsPath, 'utf8')).toContain(`${defaultAliasAddress} ${registryName}\n${defaultAliasAddress} ${bucketName}\n`)
      expect((await curl(s.namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`], toolPath)).body).toBe(`tls origin: ${registryName} /v2/\n`)

      await kill9(first)
      await simulateReboot(s.namespace)
      const hostsAfterCrash = await fs.readFile(s.namespace.hostsPath)
      expect(hostsAfterCrash.equals(s.before.hosts)).toBe(false)
      expect(await s.namespace.addresses()).not.toContain(defaultAliasAddress)
      // Nothing answers by name now: the block points at an address that is gone.
      expect((await curl(s.namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`], toolPath)).code).not.toBe(0)
      const lease = await readLease(s.dataDir)
      expect(lease?.pid).toBe(one.pid)
      expect(lease?.records.map((r) => r.change.kind)).toEqual(['loopback-alias', 'port-redirect', 'hosts'])

      const resumeAt = polkit.authorizations.length
      const second = startRun(s, [registryName, bucketName], true)
      const two = await connected(second)
      // ONE elevation, by nobody: alias and redirect (to THIS run's ports); the hosts block needed no write.
      expect(polkit.authorizations.slice(resumeAt).map((a) => a.uid)).toEqual([nobody])
      const script = polkit.authorizations[resumeAt]!.script
      expect(script).toContain('# loopback-alias add')
      expect(script).toContain(`ip daddr ${defaultAliasAddress} tcp dport 443 redirect to :${two.bound.port}`)
      expect(script).not.toContain('# install-file')
      expect(await s.namespace.addresses()).toContain(defaultAliasAddress)
      const rules = await nftTable(s.namespace)
      expect(rules).toContain(`ip daddr ${defaultAliasAddress} tcp dport 443 redirect to :${two.bound.port}`)
      expect(rules).toContain(`ip daddr ${defaultAliasAddress} tcp dport 80 redirect to :${two.bound.httpPort}`)
      if (two.bound.port !== one.bound.port) expect(rules).not.toContain(`redirect to :${one.bound.port}`)
      expect((await fs.readFile(s.namespace.hostsPath)).equals(hostsAfterCrash)).toBe(true)
      expect((await readLease(s.dataDir))?.pid).toBe(two.pid)
      expect(second.stderr()).toContain(`resumed the system changes of an earlier run (pid ${one.pid})`)

      const secure = await curl(s.namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`], toolPath)
      expect(secure.stderr).toBe('')
      expect(secure.body).toBe(`tls origin: ${registryName} /v2/\n`)
      expect((await curl(s.namespace, [`http://${bucketName}/x`], toolPath)).body).toBe(`http origin: ${bucketName} /x\n`)

      const stopAt = polkit.authorizations.length
      await stop(second)
      expect(polkit.authorizations.slice(stopAt).map((a) => a.uid)).toEqual([nobody])
      await expectAsBefore(s)
    } finally {
      polkit.active = undefined
      await s.namespace.dispose()
    }
  })

  it('a live session is refused (nothing changes); after kill -9 a config without one name takes over: the block shrinks in the same one run', async () => {
    const s = await setup()
    try {
      const first = startRun(s, [registryName, bucketName], false)
      const one = await connected(first)
      const during = await snapshot(s.namespace)
      const leaseDuring = await fs.readFile(join(s.dataDir, 'lease.json'), 'utf8')

      const start = polkit.authorizations.length
      const refused = startRun(s, [registryName], true)
      expect(await refused.ready).toMatchObject({ error: { code: 'ALREADY_RUNNING' } })
      expect((await refused.exited).code).toBe(1)
      expect(polkit.authorizations.length).toBe(start)
      const unchanged = await snapshot(s.namespace)
      expect(unchanged.nft).toBe(during.nft)
      expect(unchanged.addresses).toBe(during.addresses)
      expect(unchanged.hosts.equals(during.hosts)).toBe(true)
      expect(await fs.readFile(join(s.dataDir, 'lease.json'), 'utf8')).toBe(leaseDuring)

      // A crash without a reboot: alias and rules stay.
      await kill9(first)
      const second = startRun(s, [registryName], true)
      const two = await connected(second)
      expect(polkit.authorizations.slice(start).map((a) => a.uid)).toEqual([nobody])
      const script = polkit.authorizations[start]!.script
      expect(script).toContain('# install-file')
      expect(script).toContain(`redirect to :${two.bound.port}`)
      const hosts = await fs.readFile(s.namespace.hostsPath, 'utf8')
      expect(hosts).toContain(`${defaultAliasAddress} ${registryName}\n`)
      expect(hosts).not.toContain(bucketName)
      expect(await nftTable(s.namespace)).toContain(`ip daddr ${defaultAliasAddress} tcp dport 443 redirect to :${two.bound.port}`)
      expect((await readLease(s.dataDir))?.records.find((r) => r.change.kind === 'hosts')?.change).toMatchObject({ names: [registryName] })
      expect((await curl(s.namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`], toolPath)).body).toBe(`tls origin: ${registryName} /v2/\n`)
      expect(second.stderr()).toContain(`resumed the system changes of an earlier run (pid ${one.pid})`)

      await stop(second)
      await expectAsBefore(s)
    } finally {
      polkit.active = undefined
      await s.namespace.dispose()
    }
  })
})
