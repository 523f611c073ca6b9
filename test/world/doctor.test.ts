// `acr-bridge doctor` in the VPC world: the built CLI runs in the laptop namespace against our relay on the ECS and a
// tunnel in the laptop namespace. All green first; then each hop is broken in turn and doctor must name exactly that
// hop, exit 1 and give the right fix. Runs as root (network namespaces); needs the build (npm test builds first).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  createVpcWorld,
  DEFAULT_BLOB_REDIRECT,
  DEFAULT_REALM,
  WORLD_ADDRESSES,
  WORLD_NAMES,
  type VpcWorld,
} from './harness/index.js'
import { describeReport, DoctorWorld, failures, prepareBuild, worldConfig, type Build, type DoctorJson } from './doctor-world.js'
import type { Config } from '../../electron/core/config/types.js'
import type { HostEntry } from '../../electron/core/catalog/types.js'

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
  build = prepareBuild()
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
})

afterAll(async () => {
  dw?.dispose()
  await world?.dispose()
  build?.dispose()
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
