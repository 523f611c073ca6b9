// `acr-bridge up` as an ordinary user on Linux, for real: the BUILT CLI runs as `nobody` (setpriv) in a network
// namespace this test creates, with the default listen config (127.0.0.1, 443, 80). It may not bind 443, so it binds
// high ports and asks for ONE elevation that adds the nft redirect and the hosts block; curl reaches a TLS origin on
// :443 and an HTTP origin on :80 by name; SIGINT removes everything with ONE more elevation (nft ruleset,
// iptables-save, ip addr and the hosts file byte for byte as before). And after kill -9, `acr-bridge revert` (as
// nobody too) undoes the lease in one elevation.
//
// The elevation is the product's own: createSudoPromptElevator → @vscode/sudo-prompt → /usr/bin/pkexec. Only pkexec
// is a stand-in (no product seam, no test-only switch): in the CLI's private mount namespace an overlay puts
// fake-pkexec.mjs at /usr/bin/pkexec; it hands its arguments to this test's "polkit", a root process on a Unix socket
// that authorizes every request and runs exactly the command sudo-prompt built, as root inside the namespace
// (docs/platforms.md, "How the unprivileged path is tested").

import type { ChildProcess } from 'node:child_process'
import { existsSync, promises as fs, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readLease } from '../../../electron/core/lease/lease-journal.js'
import { builtCli, builtCliTimeoutMs } from '../../helpers/cli.js'
import { createPki, type Pki } from '../../world/harness/certs.js'
import { curl, differences, snapshot, sweepStaleNamespaces, type Namespace } from './netns.js'
import { nobody, nobodyNamespace, requireUnprivilegedTestTools, startPolkit, type NobodyNamespace, type Polkit } from './polkit.js'
import { collectOutput, type CollectedOutput } from './processes.js'

const registryName = 'registry-vpc.cn-hangzhou.aliyuncs.com'
const bucketName = 'aliregistry.oss-cn-hangzhou.aliyuncs.com'
const initialHosts = '# up-unprivileged test namespace\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n'
// No /usr/local/bin: no `docker` is found, so the strategy sees no container engine whatever this machine has.
const cliPath = '/usr/sbin:/usr/bin:/sbin:/bin'

let cli: string
let work: string
let pki: Pki
let polkit: Polkit


beforeAll(async () => {
  requireUnprivilegedTestTools('up-unprivileged')
  sweepStaleNamespaces()
  work = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-up-unprivileged-'))
  await fs.chmod(work, 0o755)
  pki = createPki(join(work, 'pki'), [registryName])
  cli = await builtCli()
  polkit = await startPolkit(work, { path: cliPath })
}, builtCliTimeoutMs)

afterAll(async () => {
  if (polkit !== undefined) await polkit.close()
  if (work !== undefined) await fs.rm(work, { recursive: true, force: true })
})

/** The CLI as nobody inside the namespace, in a private mount namespace whose /usr/bin/pkexec is the stand-in. */
function nobodyCommand(args: readonly string[]): [string, string[]] {
  return polkit.nobodyCommand([process.execPath, cli, ...args])
}

interface Up extends CollectedOutput {
  readonly child: ChildProcess
  waitFor(pattern: RegExp): Promise<void>
}

function spawnUp(namespace: Namespace, configPath: string, env: NodeJS.ProcessEnv): Up {
  const [file, args] = nobodyCommand(['up', '--config', configPath, '--hosts-file', '/etc/hosts'])
  const child = namespace.spawn(file, args, { env })
  const output = collectOutput(child)
  return {
    child,
    ...output,
    async waitFor(pattern) {
      const until = Date.now() + 30_000
      while (!pattern.test(output.stdout())) {
        if (output.gone() || Date.now() > until) {
          throw new Error(`${output.gone() ? 'up exited' : 'no match within 30 s'} waiting for ${pattern}\n--- stdout ---\n${output.stdout()}\n--- stderr ---\n${output.stderr()}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    },
  }
}

interface Setup extends NobodyNamespace {
  readonly configPath: string
  readonly env: NodeJS.ProcessEnv
}

async function setup(): Promise<Setup> {
  const base = await nobodyNamespace(polkit, work, initialHosts, pki.active(registryName))
  const { namespace, dataDir, origin } = base
  try {
    const configPath = join(work, `config-${namespace.name}.json`)
    // The default listen section (127.0.0.1:443/80); the "ECS" is the origin itself, in sni mode.
    await fs.writeFile(
      configPath,
      JSON.stringify({
        extraHosts: [registryName, { name: bucketName, ports: [80] }],
        tunnel: { mode: 'sni', host: '127.0.0.1', port: origin.tlsPort, httpPort: origin.httpPort },
      }),
      { mode: 0o644 },
    )
    const env = { PATH: cliPath, HOME: work, ACR_BRIDGE_DATA_DIR: dataDir, ACR_BRIDGE_LOG: 'info', LANG: 'C.UTF-8' }
    return { ...base, configPath, env }
  } catch (error) {
    await namespace.dispose()
    throw error
  }
}

function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:')) ?? ''
  return Number(line.split(/\s+/)[1])
}

async function expectAsBefore(s: Setup): Promise<void> {
  expect(differences(s.before, await snapshot(s.namespace))).toEqual([])
  expect(await readLease(s.dataDir)).toBeUndefined()
  expect((await fs.readdir(s.dataDir)).filter((name) => name.startsWith('elevate-') || name === 'hosts.backup')).toEqual([])
}

describe('acr-bridge up as an ordinary user (Linux, nft redirect)', () => {
  it('binds high ports, ONE elevation adds the redirect and the block, curl works by name, SIGINT gives everything back', async () => {
    const s = await setup()
    try {
      // Nothing answers on 443 yet: the test can fail.
      expect((await curl(s.namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`], cliPath)).code).not.toBe(0)
      const start = polkit.authorizations.length

      const up = spawnUp(s.namespace, s.configPath, s.env)
      await up.waitFor(/^state: /m)
      expect(uidOf(up.child.pid!)).toBe(nobody)
      const out = up.stdout()
      expect(out).toContain('acr-bridge up: 2 names in /etc/hosts, mode sni')
      expect(out).toMatch(new RegExp(`^  ${registryName.replace(/\./g, '\\.')} +→ 127\\.0\\.0\\.1:443 via sni`, 'm'))
      const bound = /^  listening on 127\.0\.0\.1:(\d+) and 127\.0\.0\.1:(\d+) as an ordinary user; the nft table ip acr_bridge redirects 127\.0\.0\.1:443 and :80 to them$/m.exec(out)
      expect(bound, out).not.toBeNull()
      const [tlsPort, httpPort] = [Number(bound![1]), Number(bound![2])]
      expect(tlsPort).toBeGreaterThanOrEqual(1024)

      // ONE elevation, asked for by nobody, made the redirect (to the ports bound) and the block.
      expect(polkit.authorizations.slice(start).map((a) => a.uid)).toEqual([nobody])
      const script = polkit.authorizations[start]!.script
      expect(script).toContain(`ip daddr 127.0.0.1 tcp dport 443 redirect to :${tlsPort}`)
      expect(script).toContain(`ip daddr 127.0.0.1 tcp dport 80 redirect to :${httpPort}`)
      expect(script).toContain('# install-file')
      const rules = await s.namespace.exec('nft', ['list', 'table', 'ip', 'acr_bridge'])
      expect(rules.stdout).toContain(`ip daddr 127.0.0.1 tcp dport 443 redirect to :${tlsPort}`)
      expect(await fs.readFile(s.namespace.hostsPath, 'utf8')).toContain(`127.0.0.1 ${registryName}\n127.0.0.1 ${bucketName}\n`)
      expect((await readLease(s.dataDir))?.records.map((r) => [r.change.kind, r.state])).toEqual([
        ['port-redirect', 'applied'],
        ['hosts', 'applied'],
      ])

      // By name, through the hosts file, the redirect and the unprivileged tunnel: TLS end to end, HTTP by Host.
      const secure = await curl(s.namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`], cliPath)
      expect(secure.stderr).toBe('')
      expect(secure.body).toBe(`tls origin: ${registryName} /v2/\n`)
      const plain = await curl(s.namespace, [`http://${bucketName}/docker/registry/v2/blobs/x`], cliPath)
      expect(plain.body).toBe(`http origin: ${bucketName} /docker/registry/v2/blobs/x\n`)

      up.child.kill('SIGINT')
      expect(await up.exited, up.stderr()).toEqual({ code: 0, signal: null })
      expect(up.stdout()).toContain('Stopped: ')
      expect(polkit.authorizations.slice(start).map((a) => a.uid)).toEqual([nobody, nobody])
      expect(polkit.authorizations[start + 1]!.script).toContain('nft delete table ip acr_bridge')
      await expectAsBefore(s)
      expect((await curl(s.namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`], cliPath)).code).not.toBe(0)
    } finally {
      polkit.active = undefined
      await s.namespace.dispose()
    }
  })

  it('kill -9 leaves the redirect and the block; `acr-bridge revert` (as nobody, one elevation) gives everything back', async () => {
    const s = await setup()
    try {
      const up = spawnUp(s.namespace, s.configPath, s.env)
      await up.waitFor(/^state: /m)
      up.child.kill('SIGKILL')
      expect((await up.exited).signal).toBe('SIGKILL')
      const left = await snapshot(s.namespace)
      expect(left.nft).not.toBe(s.before.nft)
      expect(left.hosts.equals(s.before.hosts)).toBe(false)

      const start = polkit.authorizations.length
      const [file, args] = nobodyCommand(['revert', '--hosts-file', '/etc/hosts', '--yes'])
      const revert = await s.namespace.exec(file, args, { env: s.env })
      expect(revert.code, revert.stderr).toBe(0)
      expect(revert.stdout).toContain('Undid 2 change(s) left by an earlier session (elevated):')
      expect(revert.stdout).toContain('  - the nft table ip acr_bridge (127.0.0.1:443 → ')
      expect(revert.stdout).toContain('  - the acr-bridge block in /etc/hosts (2 names)')
      expect(polkit.authorizations.slice(start).map((a) => a.uid)).toEqual([nobody])
      await expectAsBefore(s)
      expect(existsSync(join(s.dataDir, 'lease.json'))).toBe(false)
    } finally {
      polkit.active = undefined
      await s.namespace.dispose()
    }
  })
})
