// `apply` and `doctor` (the BUILT CLI) tell the user, on stderr, about changes a session that did not end cleanly
// left behind, and point at `acr-bridge revert`; a running session's lease, or none, is not mentioned. The lease is
// a real one, written by the core for a process that has exited (the "crashed session").
// doctor runs in a private mount namespace whose /etc/hosts and /etc/resolv.conf are the test's (cli-process.ts
// privateResolverCommand): its name lookups stay on this machine.

import { promises as fs } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { useCaseFolders } from '../../helpers/case-folders.js'
import { builtCliTimeoutMs, runBuiltCli } from '../../helpers/cli.js'
import { exitedStandIn, leaseHostsBlock, liveStandIn, stopStandIns } from '../../helpers/stand-in-processes.js'
import { buildCli, loopbackResolvConf, privateResolverCommand, runCliOnce } from '../cli-up/cli-process.js'

const original = '# this machine\n127.0.0.1 localhost\n::1 localhost\n'
const registry = 'registry-vpc.cn-beijing.aliyuncs.com'
const warning = 'warning: an earlier acr-bridge session did not end cleanly and left these changes in place:'

const cases = useCaseFolders('acr-bridge-stale-notice-')
beforeAll(async () => {
  await buildCli()
}, builtCliTimeoutMs)
afterEach(stopStandIns)

/** A port on 127.0.0.1 where nothing listens (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A data folder and hosts file; with `owner`, a real lease (the hosts block) taken by that pid. */
async function workspace(owner?: number) {
  const dir = await cases.next()
  const dataDir = join(dir, 'data')
  const hostsPath = join(dir, 'hosts')
  await fs.mkdir(dataDir, { recursive: true })
  await fs.writeFile(hostsPath, original)
  if (owner !== undefined) await leaseHostsBlock({ dataDir, hostsPath, names: [registry], pid: owner })
  const configPath = join(dir, 'config.json')
  const config = {
    regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc'] }],
    tunnel: { mode: 'sni', host: '127.0.0.1', port: await closedPort() },
    listen: { address: '127.0.0.1', port: await closedPort(), httpPort: null },
  }
  await fs.writeFile(configPath, JSON.stringify(config))
  return { dir, dataDir, hostsPath, configPath, env: { ACR_BRIDGE_DATA_DIR: dataDir } }
}

describe('a lease left by a session that did not end cleanly', () => {
  it('apply says what was left and how to undo it, then does its job (exit 0)', async () => {
    const box = await workspace(await exitedStandIn())
    const run = await runBuiltCli(['apply', '--config', box.configPath, '--hosts-file', box.hostsPath, '--yes'], { env: box.env })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(warning)
    expect(run.stderr).toContain(box.hostsPath)
    expect(run.stderr).toContain('Undo them with: acr-bridge revert\n')
    expect(await fs.readFile(box.hostsPath, 'utf8')).toContain(`127.0.0.1 ${registry}`)
  })

  it('doctor --json says so on stderr and keeps stdout one JSON document', async () => {
    const box = await workspace(await exitedStandIn())
    const resolvPath = join(box.dir, 'resolv.conf')
    await fs.writeFile(resolvPath, loopbackResolvConf)
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...box.env }
    const run = await runCliOnce(['doctor', '--config', box.configPath, '--hosts-file', '/etc/hosts', '--json'], env, 60_000, {
      command: privateResolverCommand(box.hostsPath, resolvPath),
    })
    expect(run.stderr).toContain(warning)
    expect(run.stderr).toContain('Undo them with: acr-bridge revert\n')
    const report = JSON.parse(run.stdout) as { ok: boolean }
    expect(report.ok).toBe(false) // nothing listens: the tunnel's hops fail
    expect(run.code).toBe(1)
  })

  it('no lease, or the lease of a running session: not a word about it', async () => {
    for (const owner of [undefined, await liveStandIn()]) {
      const box = await workspace(owner)
      const run = await runBuiltCli(['apply', '--config', box.configPath, '--hosts-file', box.hostsPath, '--yes'], { env: box.env })
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).not.toContain('did not end cleanly')
    }
  })
})
