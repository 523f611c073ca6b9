// `acr-bridge doctor` in the VPC world: the built CLI runs in the laptop namespace against our relay on the ECS and a
// tunnel in the laptop namespace. All green first; then each hop is broken in turn and doctor must name exactly that
// hop, exit 1 and give the right fix. Runs as root (network namespaces) on a private build of the current sources.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  createVpcWorld,
  DEFAULT_BLOB_REDIRECT,
  DEFAULT_REALM,
  WORLD_ADDRESSES,
  WORLD_NAMES,
  type VpcWorld,
} from './harness/index.js'
import { describeReport, DoctorWorld, failures, worldBuild, worldConfig, worldSetupTimeoutMs, type Build, type DoctorJson } from './doctor-world.js'
import type { Config } from '../../electron/core/config/types.js'
import type { HostEntry } from '../../electron/core/catalog/types.js'
import { generateKeyPair, startSshd, type Sshd } from '../helpers/sshd.js'

const REPO = 'acr-test/doctor-demo'
const ALT_AUTH = 'dockerauth.cn-beijing.aliyuncs.com'
const CUSTOM_BUCKET = 'acr-custom-bucket.oss-cn-beijing-internal.aliyuncs.com'
const { registry, auth, oss, httpBucket } = WORLD_NAMES
const ecs = WORLD_ADDRESSES.ecsPublic

let world: VpcWorld
let build: Build | undefined
let dw: DoctorWorld
let config: Config
let entries: HostEntry[]
let configPath: string

function expectExactly(run: { code: number | null; report: DoctorJson; stderr: string }, expected: string[]): void {
  const detail = `${describeReport(run.report)}\n${run.stderr}`
  expect(failures(run.report), detail).toEqual(expected)
  expect(run.code, detail).toBe(expected.length === 0 ? 0 : 1)
  expect(run.report.ok).toBe(expected.length === 0)
}

function failed(report: DoctorJson, name: string, hop: string) {
  const check = report.checks.find((c) => c.name === name && c.hop === hop && !c.ok)
  if (check === undefined) throw new Error(`no failed ${hop} check for ${name}:\n${describeReport(report)}`)
  return check
}

beforeAll(async () => {
  build = await worldBuild()
  world = await createVpcWorld({ extraAuthNames: [ALT_AUTH], extraOssNames: [CUSTOM_BUCKET] })
  dw = new DoctorWorld(world, build)
  await dw.startRelay()
  const image = await world.buildImage({ sizeMb: 1 })
  const pushed = await world.skopeoPush('ecs', image, `${REPO}:latest`)
  if (!pushed.ok) throw new Error(`push failed: ${pushed.stderr}\n${world.logs()}`)
  config = worldConfig()
  entries = dw.entriesOf(config)
  configPath = dw.writeConfig('doctor.json', config)
  dw.applyHosts(entries)
  await dw.startTunnel(entries)
}, worldSetupTimeoutMs)

afterAll(async () => {
  dw?.dispose()
  await world?.dispose()
})

describe('acr-bridge doctor in the VPC world', () => {
  test('all green when everything works: every hop of every name, through the tunnel', async () => {
    const run = await dw.doctor(configPath)
    expectExactly(run, [])
    const seen = run.report.checks.map((c) => `${c.name} ${c.hop}`)
    expect(seen).toEqual([
      '127.0.0.1:443 listener',
      '127.0.0.1:80 listener',
      `${ecs}:443 upstream`,
      `${ecs}:80 upstream`,
      `${registry} resolve`,
      `${registry} tls`,
      `${registry} registry`,
      `${registry} realm-covered`,
      `${auth} resolve`,
      `${auth} tls`,
      `${auth} realm`,
      `${oss} resolve`,
      `${oss} tls`,
      `${oss} oss`,
      `${httpBucket} resolve`,
      `${httpBucket} oss`,
    ])
    expect(run.report.checks.find((c) => c.hop === 'registry')?.reason).toContain(`Bearer realm at https://${auth}/auth`)
    expect(run.report.checks.find((c) => c.name === '127.0.0.1:443')?.reason).toContain('passes on all 3 names')
    expect(run.report.warnings).toEqual([]) // docker here is a client without a daemon: nothing VM-based

    const human = await dw.cli(['doctor', '--config', configPath])
    expect(human.code, human.stdout + human.stderr).toBe(0)
    const lines = human.stdout.split('\n')
    expect(lines).toContain('tunnel')
    for (const name of [registry, auth, oss, httpBucket]) expect(lines).toContain(name)
    expect(human.stdout).not.toContain('✗')
    expect(human.stdout).toMatch(/^ {2}✓ realm-covered +the realm host dockerauth-vpc\.cn-beijing\.aliyuncs\.com is in the set$/m)
    expect(human.stdout).toMatch(/^All 16 checks passed \(\d+ ms\)\.$/m)
    // Without a repository, no pull ran: the report says what it could not check, and how to check it.
    expect(human.stdout).toMatch(/^Not checked: where blob downloads are redirected\. Set ACR_BRIDGE_DOCTOR_REPO=NS\/NAME /m)
  })

  test('a healthy run over the article\'s three names is quick (measured; only a generous bound asserted)', async () => {
    const three = worldConfig({}, ['registry-vpc', 'dockerauth-vpc', 'oss-internal'])
    const path = dw.writeConfig('three.json', three)
    const runs: { checks: number; inProcess: number; wall: number }[] = []
    for (let i = 0; i < 3; i++) {
      const run = await dw.doctor(path)
      expectExactly(run, [])
      runs.push({ checks: run.report.checksMs, inProcess: run.report.durationMs, wall: Math.round(run.wallMs) })
    }
    const best = Math.min(...runs.map((r) => r.checks))
    console.log(`[doctor timing] healthy, 3 names: checks ${runs.map((r) => r.checks).join(' / ')} ms; doctor with engine detection ${runs.map((r) => r.inProcess).join(' / ')} ms; whole CLI run incl. node start ${runs.map((r) => r.wall).join(' / ')} ms`)
    expect(best).toBeLessThan(10_000)
  })

  test('the ECS proxy stopped: only the upstream hop fails, and the fix is to start the relay', async () => {
    await dw.stopRelay()
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, [`${ecs}:443 upstream`, `${ecs}:80 upstream`])
      const check = failed(run.report, `${ecs}:443`, 'upstream')
      expect(check.reason).toBe(`the proxy ECS ${ecs}:443 refused the connection`)
      expect(check.hint).toContain('Start the SNI relay on the ECS')
    } finally {
      await dw.startRelay()
    }
  })

  test('one hosts line removed: only that name fails to resolve, and the fix is to apply the block', async () => {
    dw.removeHostsLine(oss)
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, [`${oss} resolve`])
      const check = failed(run.report, oss, 'resolve')
      expect(check.reason).toMatch(new RegExp(`^${oss.replace(/\./g, '\\.')} does not resolve \\(\\w+\\): the hosts file does not map it$`))
      expect(check.hint).toContain('acr-bridge up')
    } finally {
      dw.applyHosts(entries)
    }
  })

  test('a name shadowed by an earlier hosts line: only its resolve fails, naming the line', async () => {
    dw.applyHosts(entries, [`10.9.9.9 ${registry}`])
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, [`${registry} resolve`])
      const check = failed(run.report, registry, 'resolve')
      expect(check.reason).toMatch(new RegExp(`^line 3 of /etc/hosts maps ${registry.replace(/\./g, '\\.')} to 10\\.9\\.9\\.9, before the acr-bridge block \\(line \\d+\\)`))
      expect(check.hint).toContain('Remove or comment out line 3 of /etc/hosts')
    } finally {
      dw.applyHosts(entries)
    }
  })

  test('the token service stopped: only the realm hop fails', async () => {
    await world.stopTokenService()
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, [`${auth} realm`])
      const check = failed(run.report, auth, 'realm')
      expect(check.reason).toContain(`${auth}:443 does not answer through the ECS (`)
      expect(check.hint).toContain(`Check on the ECS that ${auth} resolves to its VPC address and answers`)
    } finally {
      await world.startTokenService()
    }
  })

  test('a certificate for the wrong name: only that name\'s TLS hop fails', async () => {
    await world.useWrongCertificate(oss)
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, [`${oss} tls`])
      const check = failed(run.report, oss, 'tls')
      expect(check.reason).toMatch(new RegExp(`^the certificate presented for ${oss.replace(/\./g, '\\.')} is for DNS:`))
      expect(check.reason).not.toContain(`DNS:${oss}`)
      expect(check.hint).toContain(`Something other than the real ${oss} answers`)
    } finally {
      await world.useRightCertificate(oss)
    }
  })

  test('the registry\'s realm points to a host not in the set: only realm-covered fails, with the name to add', async () => {
    await world.setRealm(`https://${ALT_AUTH}/auth`)
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, [`${registry} realm-covered`])
      const check = failed(run.report, registry, 'realm-covered')
      expect(check.reason).toBe(`the registry's realm ${ALT_AUTH} is not in the set: token requests would bypass the tunnel`)
      expect(check.hint).toBe(`Add ${ALT_AUTH}: the registry's realm points there (\`acr-bridge discover --save\` adds it to extraHosts).`)
      // the realm itself answers through the tunnel: it is checked on the registry's line
      expect(run.report.checks.find((c) => c.name === registry && c.hop === 'realm')).toMatchObject({ ok: true })
      const human = await dw.cli(['doctor', '--config', configPath])
      expect(human.code).toBe(1)
      expect(human.stdout).toContain(`fix: Add ${ALT_AUTH}: the registry's realm points there`)
      expect(human.stdout).toMatch(/^1 of \d+ checks failed/m)
    } finally {
      await world.setRealm(DEFAULT_REALM)
    }
  })

  test('with credentials, blobs redirecting to a bucket host not in the set: only blob-covered fails; no secret in any output', async () => {
    const env = {
      ACR_BRIDGE_DOCTOR_REPO: REPO,
      ACR_BRIDGE_REGISTRY_USERNAME: world.credentials.username,
      ACR_BRIDGE_REGISTRY_PASSWORD: world.credentials.password,
      ACR_BRIDGE_LOG: 'debug',
    }
    const green = await dw.doctor(configPath, env)
    expectExactly(green, [])
    expect(green.report.checks.find((c) => c.hop === 'blob-covered')).toMatchObject({ name: registry, ok: true, reason: `blobs of ${REPO} redirect to https://${oss}, which is in the set` })

    await world.setBlobRedirect(`https://${CUSTOM_BUCKET}`)
    try {
      const run = await dw.doctor(configPath, env)
      expectExactly(run, [`${registry} blob-covered`])
      const check = failed(run.report, registry, 'blob-covered')
      expect(check.reason).toBe(`blobs of ${REPO} redirect to https://${CUSTOM_BUCKET}, which is not in the set: layer downloads would bypass the tunnel`)
      expect(check.hint).toBe(`Add ${CUSTOM_BUCKET}: blob downloads redirect there (\`acr-bridge discover --save\` adds it to extraHosts).`)
      const human = await dw.cli(['doctor', '--config', configPath], { env })
      expect(human.stdout).not.toContain('Not checked:')
      for (const output of [green.stdout, green.stderr, run.stdout, run.stderr, human.stdout, human.stderr]) {
        expect(output).not.toContain(world.credentials.password)
        expect(output).not.toContain(Buffer.from(`${world.credentials.username}:${world.credentials.password}`).toString('base64'))
        expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/) // a JWT (the registry token)
        expect(output).not.toMatch(/Signature=|OSSAccessKeyId=/)
      }
      expect(run.stderr).toContain('[discover] GET https://') // the debug log ran, and was scanned
      expect(world.tokenRequests().some((r) => r.outcome === 'token' && r.user === world.credentials.username)).toBe(true)
    } finally {
      await world.setBlobRedirect(DEFAULT_BLOB_REDIRECT)
    }
  })

  test('no tunnel running: the listener fails with the hint to run up; every other hop is still probed through doctor\'s own dialer', async () => {
    await dw.stopTunnel()
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, ['127.0.0.1:443 listener', '127.0.0.1:80 listener'])
      const check = failed(run.report, '127.0.0.1:443', 'listener')
      expect(check.reason).toBe('nothing answers on 127.0.0.1:443: it refused the connection')
      expect(check.hint).toContain('acr-bridge up')
      expect(run.report.checks.filter((c) => c.ok).map((c) => c.hop)).toEqual(expect.arrayContaining(['tls', 'registry', 'realm', 'oss']))
    } finally {
      await dw.startTunnel(entries)
    }
  })

  test('a running tunnel that does not serve a name: the listener check says which name it does not pass on', async () => {
    await dw.startTunnel(entries.filter((e) => e.name !== oss))
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, ['127.0.0.1:443 listener'])
      const check = failed(run.report, '127.0.0.1:443', 'listener')
      expect(check.reason).toMatch(new RegExp(`^127\\.0\\.0\\.1:443 accepts connections but does not pass on ${oss.replace(/\./g, '\\.')} \\(`))
      expect(check.hint).toContain('restart `acr-bridge up`')
    } finally {
      await dw.startTunnel(entries)
    }
  })

  test('a dead hop costs about its own time limit, not more (names run concurrently)', async () => {
    // The ECS can no longer reach the OSS endpoint's HTTPS port: packets vanish, nothing answers.
    const rule = ['OUTPUT', '-p', 'tcp', '-d', WORLD_ADDRESSES.oss, '--dport', '443', '-j', 'DROP']
    const added = await world.exec('ecs', 'iptables', ['-A', ...rule])
    if (!added.ok) throw new Error(`iptables in the ECS namespace failed: ${added.stderr}`)
    try {
      const run = await dw.doctor(configPath)
      expectExactly(run, [`${oss} oss`])
      expect(failed(run.report, oss, 'oss').reason).toBe(`no answer from ${oss}:443 through the tunnel within 5000 ms`)
      console.log(`[doctor timing] one dead hop (limit 5000 ms): checks ${run.report.checksMs} ms; doctor ${run.report.durationMs} ms; whole CLI run ${Math.round(run.wallMs)} ms`)
      expect(run.report.checksMs).toBeLessThan(5000 + 10_000)
    } finally {
      await world.exec('ecs', 'iptables', ['-D', ...rule])
    }
  })
})

describe('acr-bridge doctor through the other tunnel modes', () => {
  /** Waits (bounded) until host:port accepts TCP connections from the laptop namespace. */
  async function waitForTcp(host: string, port: number): Promise<void> {
    const script = `const net = await import('node:net'); const until = Date.now() + 10000; for (;;) { const ok = await new Promise((r) => { const s = net.connect(${port}, '${host}'); s.once('connect', () => { s.destroy(); r(true) }); s.once('error', () => r(false)) }); if (ok) process.exit(0); if (Date.now() > until) process.exit(1); await new Promise((r) => setTimeout(r, 100)) }`
    const r = await world.exec('laptop', process.execPath, ['--input-type=module', '-e', script])
    if (!r.ok) throw new Error(`${host}:${port} did not come up`)
  }

  test('connect mode through tinyproxy on the ECS: green; a wrong proxy password fails the upstream hop only', async () => {
    const dir = join(dw.dir, 'tinyproxy')
    mkdirSync(dir, { recursive: true })
    const conf = join(dir, 'tinyproxy.conf')
    const proxyUser = 'acr-proxy'
    const proxyPassword = 'proxy-pass-8d2c'
    writeFileSync(conf, ['User nobody', 'Group nogroup', 'Port 3128', `Listen ${ecs}`, 'Timeout 60', 'LogLevel Info', 'Allow 203.0.113.0/24', 'DisableViaHeader Yes', 'ConnectPort 443', 'ConnectPort 80', `BasicAuth ${proxyUser} ${proxyPassword}`, ''].join('\n'))
    const proxy = await world.spawn('ecs', 'tinyproxy', ['-d', '-c', conf], { logName: 'tinyproxy' })
    try {
      await waitForTcp(ecs, 3128)
      const connect = (password: string): string =>
        dw.writeConfig(`connect-${password.length}.json`, worldConfig({ tunnel: { mode: 'connect', host: ecs, port: 3128, connect: { username: proxyUser, password } } }))
      const green = await dw.doctor(connect(proxyPassword))
      expectExactly(green, [])
      expect(green.report.checks.find((c) => c.hop === 'upstream')).toMatchObject({ name: `${ecs}:3128`, ok: true })
      expect(green.report.checks.find((c) => c.hop === 'upstream')?.reason).toContain('CONNECT registry-vpc.cn-beijing.aliyuncs.com:443 accepted')

      const wrong = await dw.doctor(connect('wrong-password'))
      expectExactly(wrong, [`${ecs}:3128 upstream`])
      expect(failed(wrong.report, `${ecs}:3128`, 'upstream').reason).toContain('rejected the user name or password')
      expect(`${wrong.stdout}${wrong.stderr}`).not.toContain('wrong-password')
    } finally {
      await proxy.stop()
    }
  })

  test('ssh mode through sshd on the ECS: green with the SSH handshake as the upstream hop; an unknown host key fails it only', async () => {
    const keys = join(dw.dir, 'ssh')
    mkdirSync(keys, { recursive: true })
    const client = await generateKeyPair(keys, 'client')
    let sshd: Sshd | undefined
    try {
      sshd = await startSshd({ listenAddress: ecs, port: 22, authorizedKeys: [client.publicKeyLine], commandPrefix: ['ip', 'netns', 'exec', world.ns.ecs] })
      const hostKey = sshd.hostKeys[0]!
      const knownHosts = join(keys, 'known_hosts')
      const emptyKnownHosts = join(keys, 'known_hosts.empty')
      writeFileSync(knownHosts, `${ecs} ${hostKey.keyType} ${hostKey.keyBase64}\n`)
      writeFileSync(emptyKnownHosts, '')
      const ssh = (known: string, name: string): string =>
        dw.writeConfig(name, worldConfig({ tunnel: { mode: 'ssh', host: ecs, port: 22, ssh: { username: 'root', privateKeyPath: client.privateKeyPath, knownHostsPath: known } } }))

      const green = await dw.doctor(ssh(knownHosts, 'ssh.json'))
      expectExactly(green, [])
      expect(green.report.checks.find((c) => c.hop === 'upstream')).toMatchObject({ name: `${ecs}:22`, ok: true, reason: `SSH to ${ecs}:22 is up (host key known, logged in)` })

      const unknown = await dw.doctor(ssh(emptyKnownHosts, 'ssh-unknown.json'))
      expectExactly(unknown, [`${ecs}:22 upstream`])
      expect(failed(unknown.report, `${ecs}:22`, 'upstream').reason).toContain(hostKey.fingerprint)
    } finally {
      await sshd?.dispose()
    }
  })
})

describe('the HealthMonitor with the real probes, in the laptop namespace', () => {
  const monitorScript = `
const o = JSON.parse(process.argv[1])
const { createHealthMonitor } = await import(o.monitorModule)
const { createSniDialer } = await import(o.sniModule)
const { deriveSessionState } = await import(o.deriveModule)
const dialer = createSniDialer({ host: o.ecs, port: 443, httpPort: 80 })
const quiet = { error() {}, warn() {}, info() {}, debug() {} }
const monitor = createHealthMonitor(
  { config: o.config, entries: o.entries, dialer, hostsPath: '/etc/hosts', listen: { address: '127.0.0.1', port: 443, httpPort: 80 }, logger: quiet, now: () => new Date() },
  { intervalMs: 600000 },
)
let state
monitor.onDidChangeChecks((checks) => {
  state = deriveSessionState(state, { tunnel: { kind: 'running' }, checks, entries: o.entries, traffic: [], now: new Date() })
  console.log('CHECKS ' + JSON.stringify({ kind: state.kind, failing: state.failing, error: state.error ?? null, checks: checks.length }))
})
monitor.start()
process.stdin.setEncoding('utf8')
process.stdin.on('data', async (data) => {
  for (const command of data.split('\\n')) {
    if (command === 'run') await monitor.runNow()
    if (command === 'stop') {
      monitor.stop()
      await dialer.close()
      process.stdin.destroy()
      console.log('STOPPED')
    }
  }
})
`

  test('healthy, then degraded at once after runNow when the token service stops, then healthy; after stop the process exits by itself', async () => {
    const { join: joinPath } = await import('node:path')
    const { pathToFileURL } = await import('node:url')
    const options = {
      monitorModule: pathToFileURL(joinPath(build!.distDir, 'core', 'probes', 'health-monitor.js')).href,
      sniModule: pathToFileURL(joinPath(build!.distDir, 'core', 'tunnel', 'sni-dialer.js')).href,
      deriveModule: pathToFileURL(joinPath(build!.distDir, 'core', 'session', 'derive-state.js')).href,
      ecs,
      config,
      entries,
    }
    const monitor = await world.spawn('laptop', process.execPath, ['--input-type=module', '-e', monitorScript, JSON.stringify(options)], {
      env: world.trustEnv(),
      stdin: 'pipe',
      logName: 'health-monitor',
    })
    const states = (): { kind: string; failing: { name: string; reason: string }[]; error: unknown; checks: number }[] =>
      [...monitor.output().matchAll(/^CHECKS (.*)$/gm)].map((m) => JSON.parse(m[1]!))
    const nth = (n: number): RegExp => new RegExp(`(?:^CHECKS .*$[\\s\\S]*?){${n}}`, 'm')
    try {
      await monitor.waitForOutput(nth(1), 30_000)
      expect(states()[0]).toMatchObject({ kind: 'healthy', failing: [], checks: 16 })

      await world.stopTokenService()
      monitor.child.stdin!.write('run\n')
      await monitor.waitForOutput(nth(2), 30_000)
      expect(states()[1]).toMatchObject({ kind: 'degraded', failing: [{ name: auth }] })
      expect(states()[1]!.failing[0]!.reason).toContain('does not answer through the ECS')

      await world.startTokenService()
      monitor.child.stdin!.write('run\n')
      await monitor.waitForOutput(nth(3), 30_000)
      expect(states()[2]).toMatchObject({ kind: 'healthy', failing: [] })

      monitor.child.stdin!.write('stop\n')
      await monitor.waitForOutput(/^STOPPED$/m, 10_000)
      // nothing is left to keep the process alive: the timer is cancelled (and unref'd), the dialer closed
      const exit = await Promise.race([monitor.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000))])
      expect(exit).toEqual({ code: 0, signal: null })
    } finally {
      await world.startTokenService()
      await monitor.stop()
    }
  })
})
