// The VPC world harness itself: topology, isolation, the real registry with token auth and blob redirects to the OSS
// stand-in, skopeo push/pull from the ECS, and the switches later tests rely on. Runs as root (network namespaces).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  createVpcWorld,
  DEFAULT_BLOB_REDIRECT,
  DEFAULT_REALM,
  HTTP_BLOB_REDIRECT,
  sweepStaleWorlds,
  type OciImage,
  type ProbeResult,
  type VpcWorld,
} from './harness/index.js'

const ALT_AUTH = 'dockerauth.cn-beijing.aliyuncs.com'
const REPO = 'acr-test/world-demo'

let world: VpcWorld
let image: OciImage

function ok(r: ProbeResult): Extract<ProbeResult, { ok: true }> {
  if (!r.ok) throw new Error(`request failed: ${r.error.code} ${r.error.message}\n${world.logs()}`)
  return r
}

function failed(r: ProbeResult): { code: string; message: string } {
  if (r.ok) throw new Error(`request unexpectedly answered ${r.status}: ${r.body.slice(0, 300)}`)
  return r.error
}

function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(c!, 'base64url').toString('utf8')) as Record<string, unknown>,
  }
}

function tokenUrl(scope: string, host = world.names.auth, service = world.service): string {
  return `https://${host}/auth?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`
}

async function getToken(scope: string): Promise<string> {
  const r = ok(await world.request('ecs', { url: tokenUrl(scope), basicAuth: world.credentials }))
  expect(r.status, r.body).toBe(200)
  return (JSON.parse(r.body) as { token: string }).token
}

function namespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  return r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean)
}

beforeAll(async () => {
  world = await createVpcWorld({ extraAuthNames: [ALT_AUTH] })
})

afterAll(async () => {
  await world?.dispose()
})

describe('the VPC world', () => {
  test('comes up as laptop — ECS — VPC, and the laptop has no path to the VPC', async () => {
    const present = namespaces()
    for (const role of ['laptop', 'ecs', 'vpc'] as const) expect(present).toContain(world.ns[role])

    // hosts files: the laptop starts with localhost only; ECS and VPC resolve every served name to its VPC address
    const laptopHosts = readFileSync(world.laptopHostsPath, 'utf8')
    expect(laptopHosts.trim().split('\n').every((l) => /\blocalhost\b/.test(l))).toBe(true)
    const ecsHosts = readFileSync(world.hostsPath.ecs, 'utf8')
    expect(ecsHosts).toContain(`${world.addresses.registry}\t${world.names.registry}`)
    expect(ecsHosts).toContain(`${world.addresses.token}\t${world.names.auth}`)
    expect(ecsHosts).toContain(`${world.addresses.oss}\t${world.names.oss}`)
    expect(ecsHosts).toContain(`${world.addresses.oss}\t${world.names.httpBucket}`)
    // ...and `ip netns exec` really shows them as /etc/hosts inside
    const inside = await world.exec('ecs', 'cat', ['/etc/hosts'])
    expect(inside.stdout).toBe(ecsHosts)

    // the ECS is not a router, and nobody has a default route
    const forward = await world.exec('ecs', 'sysctl', ['-n', 'net.ipv4.ip_forward'])
    expect(forward.stdout.trim()).toBe('0')
    for (const role of ['laptop', 'ecs', 'vpc'] as const) {
      const routes = await world.exec(role, 'ip', ['route', 'show'])
      expect(routes.ok, routes.stderr).toBe(true)
      expect(routes.stdout).not.toMatch(/^default/m)
    }
    const routeGet = await world.exec('laptop', 'ip', ['route', 'get', world.addresses.registry])
    expect(routeGet.ok).toBe(false)
    expect(routeGet.stderr).toMatch(/Network is unreachable/)
    const back = await world.exec('vpc', 'ip', ['route', 'get', world.addresses.laptop])
    expect(back.stderr).toMatch(/Network is unreachable/)

    // laptop → VPC: no route for any VPC address
    for (const address of [world.addresses.registry, world.addresses.token, world.addresses.oss]) {
      const err = failed(await world.request('laptop', { url: `https://${address}/`, servername: world.names.registry }))
      expect(err.code).toBe('ENETUNREACH')
    }
    // laptop → ECS public address works (nothing listens there yet: refused, not unreachable)
    expect(failed(await world.request('laptop', { url: `http://${world.addresses.ecsPublic}:9/` })).code).toBe('ECONNREFUSED')
    // no real DNS: the laptop cannot resolve the VPC names
    expect(failed(await world.request('laptop', { url: `https://${world.names.registry}/v2/` })).code).toMatch(/ENOTFOUND|EAI_AGAIN/)

    // ECS → registry: the ACR-shaped challenge, over TLS trusted through the test CA
    const v2 = ok(await world.request('ecs', { url: `https://${world.names.registry}/v2/` }))
    expect(v2.status).toBe(401)
    expect(v2.headers['www-authenticate']).toBe(
      `Bearer realm="https://${world.names.auth}/auth",service="registry.aliyuncs.com:cn-beijing:26842"`,
    )
    expect(v2.tls?.authorized).toBe(true)
  })

  test('the OSS stand-in answers GET / with 403 AccessDenied XML on :443 and :80, unknown keys with 404', async () => {
    for (const url of [`https://${world.names.oss}/`, `http://${world.names.httpBucket}/`, `https://${world.names.httpBucket}/`]) {
      const r = ok(await world.request('ecs', { url }))
      expect(r.status, url).toBe(403)
      expect(r.headers['content-type']).toBe('application/xml')
      expect(r.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error>/)
      expect(r.body).toContain('<Code>AccessDenied</Code>')
      expect(r.body).toContain('<Message>Anonymous access is forbidden for this operation.</Message>')
      expect(r.body).toMatch(/<RequestId>[0-9A-F]{24}<\/RequestId>/)
    }
    const https = ok(await world.request('ecs', { url: `https://${world.names.httpBucket}/` }))
    expect(https.tls?.subjectAltName).toBe(`DNS:${world.names.httpBucket}`) // SNI picked the bucket's certificate
    const missing = ok(await world.request('ecs', { url: `https://${world.names.oss}/docker/registry/v2/blobs/sha256/00/${'0'.repeat(64)}/data` }))
    expect(missing.status).toBe(404)
    expect(missing.body).toContain('<Code>NoSuchKey</Code>')
    const other = ok(await world.request('ecs', { url: `https://${world.names.oss}/../../etc/passwd` }))
    expect(other.status).toBe(404)

    // trustEnv() is what a Node client in a namespace needs to trust the test CA
    const script = `require('https').get(${JSON.stringify(`https://${world.names.oss}/`)}, (r) => { console.log(r.statusCode); r.resume() }).on('error', (e) => console.log(e.code))`
    const trusted = await world.exec('ecs', process.execPath, ['-e', script], { env: world.trustEnv() })
    expect(trusted.stdout.trim(), trusted.stderr).toBe('403')
    const untrusted = await world.exec('ecs', process.execPath, ['-e', script])
    expect(untrusted.stdout.trim()).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  test('the token service refuses anonymous and bad credentials and issues tokens the registry accepts', async () => {
    const scope = `repository:${REPO}:pull,push`
    const anonymous = ok(await world.request('ecs', { url: tokenUrl(scope) }))
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/)
    for (const basicAuth of [
      { username: world.credentials.username, password: 'wrong-password' },
      { username: 'someone-else', password: world.credentials.password },
      { username: world.credentials.username, password: '' },
    ]) {
      const r = ok(await world.request('ecs', { url: tokenUrl(scope), basicAuth }))
      expect(r.status, JSON.stringify(basicAuth)).toBe(401)
      expect(r.body).not.toContain('token"')
    }
    const badService = ok(await world.request('ecs', { url: tokenUrl(scope, world.names.auth, 'registry.aliyuncs.com:cn-hangzhou:26842'), basicAuth: world.credentials }))
    expect(badService.status).toBe(400)
    expect(world.tokenRequests().filter((t) => t.outcome === 'bad-credentials')).toHaveLength(3)

    const good = ok(await world.request('ecs', { url: tokenUrl(`${scope},delete`), basicAuth: world.credentials }))
    expect(good.status).toBe(200)
    const body = JSON.parse(good.body) as { token: string; access_token: string; expires_in: number; issued_at: string }
    expect(body.access_token).toBe(body.token)
    expect(body.expires_in).toBeGreaterThanOrEqual(60)
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false)
    const { header, claims } = decodeJwt(body.token)
    expect(header.alg).toBe('ES256')
    expect(header.kid).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/)
    expect(claims.aud).toBe(world.service)
    expect(claims.iss).toBe(world.issuer)
    expect(claims.access).toEqual([{ type: 'repository', name: REPO, actions: ['pull', 'push'] }]) // no delete

    // the real registry verifies it (kid → rootcertbundle key), and rejects a tampered signature
    const withToken = ok(await world.request('ecs', { url: `https://${world.names.registry}/v2/`, headers: { authorization: `Bearer ${body.token}` } }))
    expect(withToken.status, world.logs()).toBe(200)
    const parts = body.token.split('.')
    const sig = Buffer.from(parts[2]!, 'base64url')
    sig[10] = sig[10]! ^ 0xff
    const tampered = `${parts[0]}.${parts[1]}.${sig.toString('base64url')}`
    const rejected = ok(await world.request('ecs', { url: `https://${world.names.registry}/v2/`, headers: { authorization: `Bearer ${tampered}` } }))
    expect(rejected.status).toBe(401)
  })

  test('from the ECS, skopeo pushes and pulls a 30 MB image with equal digests; blobs come from the OSS stand-in', async () => {
    image = await world.buildImage({ sizeMb: 30, tag: 'v1' })
    expect(image.layers[0]!.size).toBeGreaterThan(30 * 1024 * 1024)

    const push = await world.skopeoPush('ecs', image, `${REPO}:v1`)
    expect(push.ok, `${push.stderr}\n${world.logs()}`).toBe(true)
    expect(push.digest).toBe(image.manifestDigest)

    const pull = await world.skopeoPull('ecs', `${REPO}:v1`)
    expect(pull.ok, `${pull.stderr}\n${world.logs()}`).toBe(true)
    expect(pull.digest).toBe(image.manifestDigest)
    expect(pull.configDigest).toBe(image.configDigest)
    expect(pull.layerDigests).toEqual([image.layers[0]!.digest])
    const layerHex = image.layers[0]!.digest.slice('sha256:'.length)
    const pulledLayer = readFileSync(join(pull.dir, 'blobs', 'sha256', layerHex))
    expect(createHash('sha256').update(pulledLayer).digest('hex')).toBe(layerHex)

    // the layer travelled registry → 307 → OSS stand-in over HTTPS, in full
    const served = await world.waitForOssRequest(
      (r) => r.path === `/docker/registry/v2/blobs/sha256/${layerHex.slice(0, 2)}/${layerHex}/data` && r.method === 'GET',
    )
    expect(served).toMatchObject({ scheme: 'https', port: 443, host: world.names.oss, sni: world.names.oss, status: 200, complete: true })
    expect(served.bytes).toBe(image.layers[0]!.size)

    // the redirect itself: 307 to the storage path under the OSS host, and that path is the registry's stored file
    const token = await getToken(`repository:${REPO}:pull`)
    const blob = ok(await world.request('ecs', {
      url: `https://${world.names.registry}/v2/${REPO}/blobs/${image.layers[0]!.digest}`,
      headers: { authorization: `Bearer ${token}` },
      maxBodyBytes: 1024,
    }))
    expect(blob.status).toBe(307)
    const location = `${DEFAULT_BLOB_REDIRECT}/docker/registry/v2/blobs/sha256/${layerHex.slice(0, 2)}/${layerHex}/data`
    expect(blob.headers.location).toBe(location)
    expect(statSync(join(world.storageRoot, new URL(location).pathname)).size).toBe(image.layers[0]!.size)
  })

  test('with the plain-HTTP bucket redirect, a pull from the ECS fetches blobs over port 80', async () => {
    expect(image, 'needs the image pushed by the previous test').toBeDefined()
    await world.setBlobRedirect(HTTP_BLOB_REDIRECT)
    try {
      expect(world.settings().blobRedirect).toBe(HTTP_BLOB_REDIRECT)
      const pull = await world.skopeoPull('ecs', `${REPO}:v1`)
      expect(pull.ok, `${pull.stderr}\n${world.logs()}`).toBe(true)
      expect(pull.digest).toBe(image.manifestDigest)
      const layerHex = image.layers[0]!.digest.slice('sha256:'.length)
      const served = await world.waitForOssRequest((r) => r.scheme === 'http' && r.path.endsWith(`/${layerHex}/data`))
      expect(served).toMatchObject({ port: 80, host: world.names.httpBucket, status: 200, complete: true, sni: null })
      expect(served.bytes).toBe(image.layers[0]!.size)
    } finally {
      await world.setBlobRedirect(DEFAULT_BLOB_REDIRECT)
    }
  })

  test('from the laptop the same pull fails: names do not resolve, and the VPC addresses have no route', async () => {
    const original = readFileSync(world.laptopHostsPath, 'utf8')
    const unresolved = await world.skopeoPull('laptop', `${REPO}:v1`, { timeoutMs: 60_000 })
    expect(unresolved.ok).toBe(false)
    expect(unresolved.stderr).toMatch(new RegExp(`lookup ${world.names.registry.replace(/\./g, '\\.')}`))
    try {
      // map the names straight to the VPC addresses (in place: the file is what `ip netns exec` mounts on /etc/hosts)
      writeFileSync(
        world.laptopHostsPath,
        `${original}${world.addresses.registry}\t${world.names.registry}\n${world.addresses.token}\t${world.names.auth}\n`,
      )
      const unreachable = await world.skopeoPull('laptop', `${REPO}:v1`, { timeoutMs: 60_000 })
      expect(unreachable.ok).toBe(false)
      expect(unreachable.stderr).toMatch(/network is unreachable/)
    } finally {
      writeFileSync(world.laptopHostsPath, original)
    }
    expect(readFileSync(world.laptopHostsPath, 'utf8')).toBe(original)
  })

  test('switches: realm, token service on/off, wrong-name certificates', async () => {
    // realm → another covered name: the challenge follows and a pull still works
    await world.setRealm(`https://${ALT_AUTH}/auth`)
    try {
      const v2 = ok(await world.request('ecs', { url: `https://${world.names.registry}/v2/` }))
      expect(v2.headers['www-authenticate']).toContain(`realm="https://${ALT_AUTH}/auth"`)
      const pull = await world.skopeoPull('ecs', `${REPO}:v1`)
      expect(pull.ok, `${pull.stderr}\n${world.logs()}`).toBe(true)
      expect(world.tokenRequests().some((t) => t.host === ALT_AUTH && t.status === 200)).toBe(true)
    } finally {
      await world.setRealm(DEFAULT_REALM)
    }
    expect(ok(await world.request('ecs', { url: `https://${world.names.registry}/v2/` })).headers['www-authenticate']).toContain(DEFAULT_REALM)

    await world.stopTokenService()
    try {
      expect(failed(await world.request('ecs', { url: tokenUrl(`repository:${REPO}:pull`) })).code).toBe('ECONNREFUSED')
    } finally {
      await world.startTokenService()
    }
    expect(ok(await world.request('ecs', { url: tokenUrl(`repository:${REPO}:pull`) })).status).toBe(401)

    for (const name of [world.names.oss, world.names.registry]) {
      await world.useWrongCertificate(name)
      try {
        const err = failed(await world.request('ecs', { url: `https://${name}/` }))
        expect(err.code, name).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
      } finally {
        await world.useRightCertificate(name)
      }
      const r = ok(await world.request('ecs', { url: `https://${name}/` }))
      expect(r.tls?.subjectAltName).toBe(`DNS:${name}`)
    }
  })

  test('sweepStaleWorlds removes leftovers of a dead run and leaves live worlds alone', async () => {
    // a pid that is certainly not running: a child that has already exited
    let deadPid = 0
    for (let i = 0; i < 20 && deadPid === 0; i++) {
      const pid = spawnSync('true').pid!
      try {
        process.kill(pid, 0)
      } catch {
        deadPid = pid
      }
    }
    expect(deadPid).toBeGreaterThan(0)
    const stale = `acrw${deadPid.toString(36)}-z-vpc`
    const staleEtc = join('/etc/netns', stale)
    const staleTmp = mkdtempSync(join(tmpdir(), `acrw${deadPid.toString(36)}-z-`))
    try {
      expect(spawnSync('ip', ['netns', 'add', stale]).status).toBe(0)
      mkdirSync(staleEtc, { recursive: true })
      writeFileSync(join(staleEtc, 'hosts'), '127.0.0.1 localhost\n')
      const removed = sweepStaleWorlds()
      expect(removed).toEqual(expect.arrayContaining([`netns ${stale}`, staleTmp]))
      expect(namespaces()).not.toContain(stale)
      expect(existsSync(staleEtc)).toBe(false)
      expect(existsSync(staleTmp)).toBe(false)
      for (const role of ['laptop', 'ecs', 'vpc'] as const) expect(namespaces()).toContain(world.ns[role])
      expect(existsSync(world.tmpDir)).toBe(true)
    } finally {
      spawnSync('ip', ['netns', 'del', stale])
      rmSync(staleEtc, { recursive: true, force: true })
      rmSync(staleTmp, { recursive: true, force: true })
    }
  })

  test('dispose stops the services and removes namespaces, /etc/netns dirs and temp files; twice is fine', async () => {
    const pids = spawnSync('ip', ['netns', 'pids', world.ns.vpc], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number)
    expect(pids.length).toBeGreaterThanOrEqual(3) // registry, token service, OSS stand-in
    const etcDirs = Object.values(world.ns).map((n) => join('/etc/netns', n))
    await world.dispose()
    await world.dispose()
    for (const n of Object.values(world.ns)) expect(namespaces()).not.toContain(n)
    for (const d of etcDirs) expect(existsSync(d)).toBe(false)
    expect(existsSync(world.tmpDir)).toBe(false)
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow()
    await expect(world.exec('ecs', 'true', [])).rejects.toThrow(/disposed/)
  })
})
