// `acr-bridge discover` in the VPC world: the real pull flow through the tunnel's dialer (no `up`, no hosts block
// needed) finds the registry's realm host and the blob redirect host, credentials come from every source `docker
// login` users have, `--save` adds what is missing so the next doctor is green, and no credential ever reaches an
// output, a log line or the config. Runs as root (network namespaces) on a private build of the current sources.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createVpcWorld, HTTP_BLOB_REDIRECT, WORLD_NAMES, type VpcWorld } from './harness/index.js'
import { describeReport, DoctorWorld, failures, worldBuild, worldConfig, worldSetupTimeoutMs, type Build, type CliRun } from './doctor-world.js'
import type { Config } from '../../electron/core/config/types.js'

const REPO = 'acr-test/discover-demo'
const ALT_AUTH = 'dockerauth.cn-beijing.aliyuncs.com'
const CUSTOM_BUCKET = 'acr-custom-bucket.oss-cn-beijing-internal.aliyuncs.com'
const { registry, httpBucket } = WORLD_NAMES

let world: VpcWorld
let build: Build | undefined
let dw: DoctorWorld
let base: Config
/** Every output of every CLI run of this file, scanned for secrets at the end. */
const outputs: string[] = []

async function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliRun> {
  const run = await dw.cli(args, { ...options, env: { ACR_BRIDGE_LOG: 'debug', ...(options.env ?? {}) } })
  outputs.push(run.stdout, run.stderr)
  return run
}

function freshConfig(name: string): string {
  return dw.writeConfig(name, base)
}

const hostLine = (url: string, role: string, covered: boolean): RegExp =>
  new RegExp(`^ {2}${covered ? '✓' : '✗'} ${url.replace(/[.]/g, '\\.')} +${role} +${covered ? 'covered' : 'NOT covered'}$`, 'm')

function expectFound(run: CliRun, blobUrl = `https://${CUSTOM_BUCKET}`): void {
  const all = `${run.stdout}\n${run.stderr}`
  expect(run.stdout, all).toMatch(hostLine(`https://${registry}`, 'registry', true))
  expect(run.stdout, all).toMatch(hostLine(`https://${ALT_AUTH}`, 'realm', false))
  expect(run.stdout, all).toMatch(hostLine(blobUrl, 'blob', false))
}

beforeAll(async () => {
  build = await worldBuild()
  // The registry's realm and its blob redirects both point at hosts the article's three names do not cover.
  world = await createVpcWorld({ extraAuthNames: [ALT_AUTH], extraOssNames: [CUSTOM_BUCKET], realm: `https://${ALT_AUTH}/auth`, blobRedirect: `https://${CUSTOM_BUCKET}` })
  dw = new DoctorWorld(world, build)
  await dw.startRelay()
  const image = await world.buildImage({ sizeMb: 1 })
  const pushed = await world.skopeoPush('ecs', image, `${REPO}:v1`)
  if (!pushed.ok) throw new Error(`push failed: ${pushed.stderr}\n${world.logs()}`)
  base = worldConfig({}, ['registry-vpc', 'dockerauth-vpc', 'oss-internal'])
}, worldSetupTimeoutMs)

afterAll(async () => {
  dw?.dispose()
  await world?.dispose()
})

describe('acr-bridge discover in the VPC world', () => {
  test('with --username and --password-stdin, before any up: finds the realm host and the redirect host, and changes nothing', async () => {
    const path = freshConfig('flags.json')
    const before = readFileSync(path)
    const run = await cli(['discover', '--config', path, '--repo', `${REPO}:v1`, '--username', world.credentials.username, '--password-stdin'], {
      input: `${world.credentials.password}\n`,
    })
    expectFound(run)
    expect(run.code).toBe(1) // hosts are missing and were not saved
    expect(run.stdout).toContain('credentials: from the command line')
    expect(run.stdout).toContain(`not covered: ${ALT_AUTH}, ${CUSTOM_BUCKET}; run again with --save`)
    expect(readFileSync(path).equals(before)).toBe(true)
    // the real flow ran: a token for the pull scope, and a blob GET that stopped at the redirect
    expect(world.tokenRequests().some((r) => r.host === ALT_AUTH && r.outcome === 'token' && r.access?.some((a) => a.name === REPO && a.actions.includes('pull')))).toBe(true)
  })

  test('credentials from ACR_BRIDGE_REGISTRY_USERNAME / ACR_BRIDGE_REGISTRY_PASSWORD', async () => {
    const run = await cli(['discover', '--config', freshConfig('env.json'), '--repo', `${REPO}:v1`], {
      env: { ACR_BRIDGE_REGISTRY_USERNAME: world.credentials.username, ACR_BRIDGE_REGISTRY_PASSWORD: world.credentials.password },
    })
    expectFound(run)
    expect(run.stdout).toContain('credentials: from the environment')
  })

  test("credentials from Docker's config.json: a plain auths entry, then a credential helper", async () => {
    const dockerDir = join(dw.dir, 'docker-plain')
    mkdirSync(dockerDir, { recursive: true })
    const auth = Buffer.from(`${world.credentials.username}:${world.credentials.password}`).toString('base64')
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [`https://${registry}`]: { auth } } }), { mode: 0o600 })
    const plain = await cli(['discover', '--config', freshConfig('docker.json'), '--repo', `${REPO}:v1`], { env: { DOCKER_CONFIG: dockerDir } })
    expectFound(plain)
    expect(plain.stdout).toContain('credentials: from the docker config')

    // credsStore: docker-credential-acrtest on PATH, asked with the registry host on stdin
    const helperDir = join(dw.dir, 'docker-helper')
    const binDir = join(dw.dir, 'bin')
    mkdirSync(helperDir, { recursive: true })
    mkdirSync(binDir, { recursive: true })
    writeFileSync(join(helperDir, 'config.json'), JSON.stringify({ credsStore: 'acrtest', auths: { [registry]: { auth: Buffer.from('wrong:wrong').toString('base64') } } }))
    const asked = join(dw.dir, 'helper-asked.txt')
    const helper = join(binDir, 'docker-credential-acrtest')
    writeFileSync(
      helper,
      [
        '#!/bin/sh',
        `[ "$1" = get ] || exit 2`,
        `read -r host`,
        `printf '%s %s\\n' "$1" "$host" >> '${asked}'`,
        `[ "$host" = '${registry}' ] || { echo 'credentials not found in native keychain'; exit 1; }`,
        `printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "$host" '${world.credentials.username}' '${world.credentials.password}'`,
        '',
      ].join('\n'),
    )
    chmodSync(helper, 0o755)
    const viaHelper = await cli(['discover', '--config', freshConfig('helper.json'), '--repo', `${REPO}:v1`], {
      env: { DOCKER_CONFIG: helperDir, PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    })
    expectFound(viaHelper)
    expect(viaHelper.stdout).toContain('credentials: from the credential helper')
    expect(readFileSync(asked, 'utf8')).toBe(`get ${registry}\n`)
  })

  test('a wrong password: the flow stops at the token, says so, and still lists what it found', async () => {
    const run = await cli(['discover', '--config', freshConfig('wrong.json'), '--repo', `${REPO}:v1`, '--username', world.credentials.username, '--password-stdin'], {
      input: 'not-the-password-7f3a\n',
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(hostLine(`https://${ALT_AUTH}`, 'realm', false))
    expect(run.stdout).not.toMatch(/ blob /)
    expect(run.stderr).toContain(`acr-bridge: The token service ${ALT_AUTH} refused the user name or password.`)
    expect(run.stderr).toContain('Check the registry user name and password')
    expect(`${run.stdout}${run.stderr}`).not.toContain('not-the-password-7f3a')
  })

  test('without credentials: the realm is still found; the missing login is the error', async () => {
    const run = await cli(['discover', '--config', freshConfig('anon.json'), '--repo', `${REPO}:v1`])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('credentials: none (trying anonymously)')
    expect(run.stdout).toMatch(hostLine(`https://${ALT_AUTH}`, 'realm', false))
    expect(run.stderr).toContain('gives no anonymous token')
    expect(run.stderr).toContain('--password-stdin')
  })

  test('a repository that does not exist, and a bad --repo', async () => {
    const missing = await cli(['discover', '--config', freshConfig('missing.json'), '--repo', 'acr-test/nothing-here'], {
      env: { ACR_BRIDGE_REGISTRY_USERNAME: world.credentials.username, ACR_BRIDGE_REGISTRY_PASSWORD: world.credentials.password },
    })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain(`acr-test/nothing-here:latest does not exist on ${registry}`)
    const bad = await cli(['discover', '--config', freshConfig('bad.json'), '--repo', 'Not A Repo'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--repo')
  })

  test('--save adds the realm and blob hosts to extraHosts (atomic, 0600, nothing else changed); the next doctor is green', async () => {
    const path = freshConfig('save.json')
    const env = { ACR_BRIDGE_REGISTRY_USERNAME: world.credentials.username, ACR_BRIDGE_REGISTRY_PASSWORD: world.credentials.password }
    const saved = await cli(['discover', '--config', path, '--repo', `${REPO}:v1`, '--save'], { env })
    expectFound(saved)
    expect(saved.code, saved.stdout + saved.stderr).toBe(0)
    expect(saved.stdout).toContain(`saved to extraHosts in ${path}: ${ALT_AUTH}, ${CUSTOM_BUCKET}`)
    const after = JSON.parse(readFileSync(path, 'utf8')) as Config
    expect(after.extraHosts).toEqual([ALT_AUTH, CUSTOM_BUCKET])
    expect({ ...after, extraHosts: [] }).toEqual({ ...base, extraHosts: [] })
    expect(statSync(path).mode & 0o777).toBe(0o600)

    // what `up` does with the new config: the tunnel serves the new set and the hosts block maps it
    const entries = dw.entriesOf(after)
    dw.applyHosts(entries)
    await dw.startTunnel(entries)
    const doctor = await dw.doctor(path, { ...env, ACR_BRIDGE_DOCTOR_REPO: `${REPO}:v1` })
    expect(failures(doctor.report), describeReport(doctor.report)).toEqual([])
    expect(doctor.code).toBe(0)
    expect(doctor.report.checks.find((c) => c.hop === 'realm-covered')).toMatchObject({ ok: true, reason: `the realm host ${ALT_AUTH} is in the set` })
    expect(doctor.report.checks.find((c) => c.hop === 'blob-covered')).toMatchObject({ ok: true, reason: `blobs of ${REPO} redirect to https://${CUSTOM_BUCKET}, which is in the set` })
    outputs.push(doctor.stdout, doctor.stderr)

    // a second discover finds nothing missing
    const again = await cli(['discover', '--config', path, '--repo', `${REPO}:v1`], { env })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('Every host the pull touches is covered.')
  })

  test('a Personal Edition style redirect to plain HTTP: saved with port 80', async () => {
    await world.setBlobRedirect(HTTP_BLOB_REDIRECT)
    try {
      const path = freshConfig('http.json')
      const run = await cli(['discover', '--config', path, '--repo', `${REPO}:v1`, '--save'], {
        env: { ACR_BRIDGE_REGISTRY_USERNAME: world.credentials.username, ACR_BRIDGE_REGISTRY_PASSWORD: world.credentials.password },
      })
      expectFound(run, `http://${httpBucket}`)
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(`${httpBucket} (port 80)`)
      expect((JSON.parse(readFileSync(path, 'utf8')) as Config).extraHosts).toEqual([ALT_AUTH, { name: httpBucket, ports: [80] }])
    } finally {
      await world.setBlobRedirect(`https://${CUSTOM_BUCKET}`)
    }
  })

  test('no credential ever reached an output, a debug log line or a saved config', () => {
    expect(outputs.length).toBeGreaterThan(10)
    const joined = outputs.join('\n')
    expect(joined).toContain('debug: [discover] GET https://') // the debug log was on, and is part of what was scanned
    expect(joined).not.toContain(world.credentials.password)
    expect(joined).not.toContain(Buffer.from(`${world.credentials.username}:${world.credentials.password}`).toString('base64'))
    expect(joined).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/) // the registry token (a JWT)
    expect(joined).not.toMatch(/Signature=|OSSAccessKeyId=|Expires=/)
    for (const name of ['flags.json', 'env.json', 'save.json', 'http.json']) {
      expect(readFileSync(join(dw.dir, name), 'utf8')).not.toContain(world.credentials.password)
    }
  })
})
