// The Linux path for real, in a network namespace this test creates: the tunnel runs as `nobody` on high ports (it
// may not bind 443), ONE privileged run (the real generated script, run as root inside the namespace) adds the nft
// redirect (and, for a rootless engine, the loopback alias) and the hosts block, a client in the namespace reaches a
// TLS origin on :443 and a plain-HTTP origin on :80 by name through the tunnel, and ONE privileged run reverts it:
// `nft list ruleset`, `iptables-save`, `ip addr` and the hosts file are then byte for byte what they were. A third
// case takes the strategy from the config's listen overrides (listen.alias, listen.mechanism) where the table alone
// would bind directly.

import { spawnSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { planSystemChanges } from '../../../electron/core/lease/plan.js'
import { applySystemChanges, findLease, revertSystemChanges } from '../../../electron/core/lease/system-changes.js'
import { defaultAliasAddress } from '../../../electron/core/platform/addresses.js'
import { chooseListenStrategy } from '../../../electron/core/platform/listen-strategy.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import { listenOverrides } from '../../../electron/core/session/system-changes.js'
import { builtCli, builtCliTimeoutMs } from '../../helpers/cli.js'
import { createPki, type Pki } from '../../world/harness/certs.js'
import { createNamespace, curl, differences, namespaceElevator, snapshot, sweepStaleNamespaces, type Namespace } from './netns.js'
import { startInNamespace, startOrigin } from './processes.js'

const here = dirname(fileURLToPath(import.meta.url))
const registryName = 'registry-vpc.cn-hangzhou.aliyuncs.com'
const bucketName = 'aliregistry.oss-cn-hangzhou.aliyuncs.com'
const minimalConfig = { regions: [], tunnel: { mode: 'sni', host: '192.0.2.1' } }
const initialHosts = '# platform test namespace\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n'

let coreDir: string
let work: string
let pki: Pki

function requireTools(): void {
  const missing = ['nft', 'iptables-save', 'ip', 'setpriv', 'curl', 'openssl'].filter(
    (tool) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0,
  )
  if (missing.length > 0) throw new Error(`the Linux platform test needs ${missing.join(', ')} (nftables, iptables, iproute2, util-linux, curl, openssl)`)
  if (process.getuid?.() !== 0) throw new Error('the Linux platform test creates network namespaces and needs root')
}

beforeAll(async () => {
  requireTools()
  sweepStaleNamespaces()
  work = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-platform-'))
  // The namespace's processes run as nobody: they must be able to read what they need.
  await fs.chmod(work, 0o755)
  pki = createPki(join(work, 'pki'), [registryName])
  coreDir = join(dirname(dirname(await builtCli())), 'core')
}, builtCliTimeoutMs)

afterAll(async () => {
  if (work !== undefined) await fs.rm(work, { recursive: true, force: true })
})

interface Session {
  readonly namespace: Namespace
  readonly tunnel: { port: number; httpPort: number; uid: number; lowPortError: string }
}

async function startSession(): Promise<Session> {
  const namespace = await createNamespace(initialHosts)
  try {
    const tls = pki.active(registryName)
    const origin = await startOrigin(namespace, tls)
    const tunnel = await startInNamespace<{ port: number; httpPort: number; uid: number; lowPortError: string }>(namespace, 'setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--',
      process.execPath,
      join(here, 'tunnel-driver.mjs'),
      coreDir,
      JSON.stringify({
        names: [
          { name: registryName, ports: [443] },
          { name: bucketName, ports: [80] },
        ],
        origin: { port: origin.tlsPort, httpPort: origin.httpPort },
      }),
    ])
    return { namespace, tunnel }
  } catch (error) {
    await namespace.dispose()
    throw error
  }
}

for (const scenario of [
  { title: 'a rootful engine: 127.0.0.1', engines: ['native'] as const, address: '127.0.0.1', alias: false },
  { title: 'a rootless engine: an alias outside 127/8 on lo', engines: ['rootless-docker'] as const, address: defaultAliasAddress, alias: true },
  // The config's overrides decide over the table: as root with a rootful engine the table says "bind 443 directly
  // on 127.0.0.1"; listen.mechanism "redirect" and listen.alias true make it the redirect behind our alias.
  {
    title: 'where the table binds directly (root, rootful engine), the config says listen.alias true, listen.mechanism "redirect"',
    engines: ['native'] as const,
    address: defaultAliasAddress,
    alias: true,
    privileged: true,
    listen: { alias: true, mechanism: 'redirect' },
  },
] as const) {
  describe(`Linux, unprivileged tunnel, ${scenario.title}`, () => {
    it('one privileged run makes :443 and :80 reach the tunnel by name; one revert leaves nothing behind', async () => {
      const { namespace, tunnel } = await startSession()
      const dataDir = join(work, `data-${namespace.name}`)
      try {
        // The tunnel really is unprivileged: it runs as nobody and may not bind 443.
        expect(tunnel.uid).toBe(65534)
        expect(tunnel.lowPortError).toBe('EACCES')
        const before = await snapshot(namespace)
        const portStart = Number((await namespace.exec('sysctl', ['-n', 'net.ipv4.ip_unprivileged_port_start'])).stdout.trim())
        expect(portStart).toBe(1024)

        // Nothing answers on 443 yet: the test can fail.
        const early = await curl(namespace, ['--cacert', pki.caFile, '--resolve', `${registryName}:443:127.0.0.1`, `https://${registryName}/v2/`])
        expect(early.code).not.toBe(0)

        const strategy = chooseListenStrategy({
          platform: 'linux',
          engines: scenario.engines,
          isPrivileged: 'privileged' in scenario,
          unprivilegedPortStart: portStart,
          ports: { tls: 443, http: 80 },
          ...('listen' in scenario ? { overrides: listenOverrides(parseConfig({ ...minimalConfig, listen: scenario.listen }).listen) } : {}),
        })
        expect(strategy).toMatchObject({ mechanism: 'nft-redirect', hostsAddress: scenario.address, bindAddress: '127.0.0.1' })
        expect(strategy.alias).toBe(scenario.alias ? scenario.address : undefined)
        const plan = planSystemChanges({
          strategy,
          bound: { port: tunnel.port, httpPort: tunnel.httpPort },
          names: [{ name: registryName }, { name: bucketName }],
          hostsPath: namespace.hostsPath,
          takeOver: false,
          flushResolverCache: false,
        })
        const elevator = namespaceElevator(namespace)
        const deps = { dataDir, platform: 'linux' as const, elevator, localAddresses: () => namespace.addresses() }
        const applied = await applySystemChanges(plan, deps)
        expect(applied.privilegedRun).toBe(true)
        expect(elevator.runs).toHaveLength(1)
        expect(elevator.runs[0]?.script).toContain(`ip daddr ${scenario.address} tcp dport 443 redirect to :${tunnel.port}`)

        const during = await snapshot(namespace)
        expect(during.nft).not.toBe(before.nft)
        expect(during.hosts.equals(before.hosts)).toBe(false)
        expect(during.addresses === before.addresses).toBe(!scenario.alias)
        const rules = await namespace.exec('nft', ['list', 'table', 'ip', 'acr_bridge'])
        expect(rules.stdout).toContain(`ip daddr ${scenario.address} tcp dport 443 redirect to :${tunnel.port}`)
        expect(rules.stdout).toContain(`ip daddr ${scenario.address} tcp dport 80 redirect to :${tunnel.httpPort}`)
        expect((await namespace.addresses()).includes(defaultAliasAddress)).toBe(scenario.alias)
        expect(await fs.readFile(namespace.hostsPath, 'utf8')).toContain(`${scenario.address} ${registryName}`)
        expect(await findLease(dataDir, { platform: 'linux' })).toMatchObject({ ours: true, names: [registryName, bucketName] })

        // By name, through the hosts file, the redirect and the unprivileged tunnel: TLS end to end (the origin's
        // certificate, checked by curl) and plain HTTP routed by Host.
        const secure = await curl(namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`])
        expect(secure.stderr).toBe('')
        expect(secure.body).toBe(`tls origin: ${registryName} /v2/\n`)
        const plain = await curl(namespace, [`http://${bucketName}/docker/registry/v2/blobs/x`])
        expect(plain.body).toBe(`http origin: ${bucketName} /docker/registry/v2/blobs/x\n`)

        const reverted = await revertSystemChanges(deps)
        expect(reverted.reverted).toBe(true)
        expect(elevator.runs).toHaveLength(2)
        expect(differences(before, await snapshot(namespace))).toEqual([])
        expect(await fs.readdir(dataDir)).toEqual([])
        // And the name no longer reaches anything.
        expect((await curl(namespace, ['--cacert', pki.caFile, `https://${registryName}/v2/`])).code).not.toBe(0)
      } finally {
        await namespace.dispose()
      }
    })
  })
}
