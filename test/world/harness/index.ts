/**
 * The VPC world: a laptop, a proxy ECS and a VPC built from real parts in network namespaces, for tests of
 * `acr-bridge up` (every tunnel mode), doctor and discovery. Needs root and the Debian packages iproute2, openssl,
 * docker-registry (distribution 2.8) and skopeo; a missing one makes createVpcWorld() fail with a message.
 *
 * Topology (namespaces `acrw<pid36>-<seq36>-{laptop,ecs,vpc}`):
 *
 *   laptop eth0 203.0.113.2/24 ── veth ── ecs pub0 203.0.113.10/24   ecs vpc0 172.20.0.10/24 ── veth ── vpc eth0
 *                                                                                            172.20.0.20 registry
 *                                                                                            172.20.0.21 token service
 *                                                                                            172.20.0.22 OSS stand-in
 *   No default routes: the laptop cannot reach 172.20.0.0/24, and the ECS does not forward (ip_forward 0).
 *   `lo` is up everywhere. /etc/netns/<ns>/hosts is bind-mounted on /etc/hosts by `ip netns exec`: in ecs and vpc it
 *   maps every served name to its VPC address; the laptop's starts with localhost lines only (`up` writes its block
 *   there: `laptopHostsPath`). /etc/netns/<ns>/resolv.conf says `nameserver 127.0.0.1` (nothing listens): no real DNS.
 *
 * Services in `vpc` (killed at dispose; logs in `logDir`, `logs()` gives their tails for failure messages):
 *   - distribution registry on registry-vpc.cn-beijing.aliyuncs.com:443 (TLS), filesystem storage in `storageRoot`,
 *     `auth: token` (realm https://dockerauth-vpc.cn-beijing.aliyuncs.com/auth, service
 *     registry.aliyuncs.com:cn-beijing:26842, issuer dockerauth.aliyuncs.com), blob GETs 307 to
 *     https://oss-cn-beijing-internal.aliyuncs.com/docker/registry/v2/blobs/sha256/<aa>/<hex>/data (setBlobRedirect).
 *   - token service (token-service.mjs) on dockerauth-vpc…:443: Basic auth for `credentials`, ES256 JWT with a libtrust
 *     `kid` the registry trusts; anonymous or wrong credentials get 401.
 *   - OSS stand-in (oss-standin.mjs) on 172.20.0.22 :443 (SNI: oss-cn-beijing-internal… and bucket hosts) and :80:
 *     GET / → 403 AccessDenied XML; blob paths → the registry's stored blob; else 404 NoSuchKey XML.
 *   Every served name has a certificate from the test CA (`caFile`); useWrongCertificate(name) makes its server
 *   present a valid-CA certificate for another name instead.
 *
 * API
 *   createVpcWorld(options?: VpcWorldOptions): Promise<VpcWorld>   (sweeps stale worlds of dead runs first)
 *   sweepStaleWorlds(): string[]                                     (removes leftovers of crashed runs; returns them)
 *   VpcWorld:
 *     names {registry, auth, oss, httpBucket, extraAuth[], extraOss[], all[]}, addresses {laptop, ecsPublic, ecsVpc,
 *     registry, token, oss}, interfaces, credentials {username, password}, service, issuer, caFile, laptopHostsPath,
 *     hostsPath {laptop, ecs, vpc}, ns {laptop, ecs, vpc} (real namespace names), tmpDir, logDir, storageRoot
 *     trustEnv(): {SSL_CERT_FILE, NODE_EXTRA_CA_CERTS}             env that makes Go and Node clients trust caFile
 *     settings(): RegistrySettings                                  current realm / service / issuer / blobRedirect
 *     exec(role, cmd, args, opts?): Promise<ExecResult>            runs `ip netns exec <ns> cmd args…`, never throws on
 *                                                                  a non-zero exit (see ok / code / stdout / stderr)
 *     spawn(role, cmd, args, opts?): Promise<WorldProcess>         long-running child, tracked, killed at dispose;
 *                                                                  opts.ready: resolve once output matches
 *     request(role, spec): Promise<ProbeResult>                    one HTTP(S) request from inside a namespace (no
 *                                                                  redirects followed; trusts caFile by default)
 *     buildImage({sizeMb, tag?}): Promise<OciImage>                OCI layout in tmpDir: config + 1 gzipped tar layer
 *     skopeoPush(role, image, ref, opts?): Promise<SkopeoResult>   ref `ns/name:tag` (registry name added) or full ref
 *     skopeoPull(role, ref, opts?): Promise<SkopeoPullResult>      into a fresh OCI dir; digest + layer digests
 *     setRealm(url) / setBlobRedirect(baseUrl | null)              rewrite the registry config and restart it; for a
 *                                                                  realm / bucket host the laptop's set does not
 *                                                                  cover, serve it with options.extraAuthNames /
 *                                                                  extraOssNames (ECS and VPC resolve those names)
 *     stopTokenService() / startTokenService()
 *     useWrongCertificate(name) / useRightCertificate(name)        registry: restarts it; Node services: next handshake
 *     ossRequests(): OssRequest[]; waitForOssRequest(match, timeoutMs?); tokenRequests(): TokenRequest[]
 *     logs(): string                                               tails of all service logs, for failure messages
 *     dispose(): Promise<void>                                     idempotent; also runs (synchronously) on process
 *                                                                  exit; removes namespaces, /etc/netns dirs, tmpDir
 *
 * Children of exec/spawn get a clean environment (PATH, HOME and TMPDIR inside tmpDir, LANG): nothing such as a proxy
 * variable leaks in from the test process; add opts.env (e.g. trustEnv()) or opts.inheritEnv. The exported constants
 * (WORLD_NAMES, WORLD_CREDENTIALS, WORLD_SERVICE, DEFAULT_REALM, DEFAULT_BLOB_REDIRECT, HTTP_BLOB_REDIRECT, …) are
 * the same values the world uses. Why the registry trusts the token service's JWT: see token-service.mjs.
 *
 * Tunnel, relay, tinyproxy and sshd on the ECS are started by the tests that need them, with spawn('ecs', …)
 * (the sshd helper is test/helpers/sshd.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPki, type Pki } from './certs.js'
import { buildOciImage, type OciImage } from './oci-image.js'
import {
  ProcessTracker,
  tail,
  type ExecOptions,
  type ExecResult,
  type SpawnOptions,
  type WorldProcess,
} from './processes.js'
import { checkRedirectBase, renderRegistryConfig, type RegistryFiles, type RegistrySettings } from './registry.js'
import {
  createTopology,
  destroyTopologySync,
  hostsText,
  newBaseName,
  NETNS_ETC,
  sweepStaleWorlds,
  tmpPrefix,
  WORLD_ADDRESSES,
  WORLD_INTERFACES,
  WORLD_ROLES,
  type Topology,
  type WorldRole,
} from './topology.js'

export { sweepStaleWorlds, WORLD_ADDRESSES, WORLD_INTERFACES, type WorldRole }
export type { ExecOptions, ExecResult, SpawnOptions, WorldProcess, OciImage, RegistrySettings }

export const WORLD_REGION = 'cn-beijing'
export const WORLD_NAMES = {
  registry: 'registry-vpc.cn-beijing.aliyuncs.com',
  auth: 'dockerauth-vpc.cn-beijing.aliyuncs.com',
  oss: 'oss-cn-beijing-internal.aliyuncs.com',
  httpBucket: 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com',
} as const
/** The test user the token service knows (constants: tests only). */
export const WORLD_CREDENTIALS = { username: 'acr-world-user', password: 'acr-world-pass-5b1e9c' } as const
export const WORLD_SERVICE = 'registry.aliyuncs.com:cn-beijing:26842'
export const WORLD_ISSUER = 'dockerauth.aliyuncs.com'
export const DEFAULT_REALM = `https://${WORLD_NAMES.auth}/auth`
export const DEFAULT_BLOB_REDIRECT = `https://${WORLD_NAMES.oss}`
/** The Personal Edition style redirect: plain HTTP on port 80 to the bucket host. */
export const HTTP_BLOB_REDIRECT = `http://${WORLD_NAMES.httpBucket}`

const REGISTRY_BIN = '/usr/bin/docker-registry'
const harnessDir = fileURLToPath(new URL('.', import.meta.url))

export interface VpcWorldOptions {
  /** More names the token service answers (certificate + ecs/vpc hosts entries), e.g. for setRealm tests. */
  extraAuthNames?: string[]
  /** More names the OSS stand-in answers (certificate + ecs/vpc hosts entries), e.g. other bucket hosts. */
  extraOssNames?: string[]
  /** Initial realm; default DEFAULT_REALM. */
  realm?: string
  /** Initial blob redirect base; default DEFAULT_BLOB_REDIRECT; null = the registry serves blobs itself. */
  blobRedirect?: string | null
  /** Remove leftovers of crashed runs first (default true). */
  sweep?: boolean
}

export interface WorldNames {
  registry: string
  auth: string
  oss: string
  httpBucket: string
  extraAuth: string[]
  extraOss: string[]
  /** Every name the VPC serves. */
  all: string[]
}

export interface Credentials {
  username: string
  password: string
}

export interface ProbeSpec {
  url: string
  method?: string
  headers?: Record<string, string>
  basicAuth?: Credentials
  /** CA bundle to trust; default the world's caFile. */
  caFile?: string
  servername?: string
  /** Dial this address instead of resolving the URL's host (the Host header and SNI stay the URL's). */
  connectTo?: { host: string; port: number }
  timeoutMs?: number
  maxBodyBytes?: number
}

export type ProbeResult =
  | {
      ok: true
      status: number
      headers: Record<string, string | string[] | undefined>
      body: string
      bodyBytes: number
      tls?: { authorized: boolean; authorizationError: string | null; subjectAltName: string | null }
    }
  | { ok: false; error: { code: string; message: string } }

export interface SkopeoOptions {
  /** Credentials for the registry; default the world's; null = anonymous. */
  creds?: Credentials | null
  env?: Record<string, string>
  timeoutMs?: number
  extraArgs?: string[]
}

export interface SkopeoResult extends ExecResult {
  /** The argument list skopeo ran with (credentials masked). */
  args: string[]
  /** Manifest digest written by --digestfile; null if the copy failed. */
  digest: string | null
}

export interface SkopeoPullResult extends SkopeoResult {
  /** The OCI layout directory the image was copied into. */
  dir: string
  configDigest: string | null
  layerDigests: string[]
}

export interface OssRequest {
  time: string
  scheme: 'http' | 'https'
  port: number
  host: string
  sni: string | null
  method: string
  path: string
  hasQuery: boolean
  status: number
  bytes: number
  complete: boolean
}

export interface TokenRequest {
  time: string
  method: string
  host: string
  sni: string | null
  path: string
  status: number
  outcome?: string
  user?: string
  service?: string | null
  access?: Array<{ type: string; name: string; actions: string[] }>
}

export interface VpcWorld {
  readonly names: WorldNames
  readonly addresses: typeof WORLD_ADDRESSES
  readonly interfaces: typeof WORLD_INTERFACES
  readonly credentials: Credentials
  readonly service: string
  readonly issuer: string
  readonly caFile: string
  readonly laptopHostsPath: string
  readonly hostsPath: Record<WorldRole, string>
  readonly ns: Record<WorldRole, string>
  readonly tmpDir: string
  readonly logDir: string
  readonly storageRoot: string
  /** Environment that makes Go (skopeo) and Node clients trust the test CA. */
  trustEnv(): { SSL_CERT_FILE: string; NODE_EXTRA_CA_CERTS: string }
  settings(): RegistrySettings
  exec(role: WorldRole, cmd: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>
  spawn(role: WorldRole, cmd: string, args: readonly string[], opts?: SpawnOptions): Promise<WorldProcess>
  request(role: WorldRole, spec: ProbeSpec): Promise<ProbeResult>
  buildImage(opts: { sizeMb: number; tag?: string }): Promise<OciImage>
  /** `ns/name:tag` → `docker://<registry name>/ns/name:tag`; a ref with a host (or docker://) is kept. */
  dockerRef(ref: string): string
  skopeoPush(role: WorldRole, image: OciImage, ref: string, opts?: SkopeoOptions): Promise<SkopeoResult>
  skopeoPull(role: WorldRole, ref: string, opts?: SkopeoOptions): Promise<SkopeoPullResult>
  setRealm(url: string): Promise<void>
  setBlobRedirect(baseUrl: string | null): Promise<void>
  stopTokenService(): Promise<void>
  startTokenService(): Promise<void>
  useWrongCertificate(name: string): Promise<void>
  useRightCertificate(name: string): Promise<void>
  ossRequests(): OssRequest[]
  waitForOssRequest(match: (r: OssRequest) => boolean, timeoutMs?: number): Promise<OssRequest>
  tokenRequests(): TokenRequest[]
  logs(): string
  dispose(): Promise<void>
}

function which(cmd: string): string | undefined {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, cmd))) return join(dir, cmd)
  }
  return undefined
}

function checkPrerequisites(): void {
  if (process.platform !== 'linux') throw new Error('the VPC world needs Linux network namespaces')
  if (process.getuid?.() !== 0) throw new Error('the VPC world creates network namespaces and needs root; run the world tests as root')
  const missing = [
    ['ip', 'iproute2'],
    ['sysctl', 'procps'],
    ['openssl', 'openssl'],
    ['docker-registry', 'docker-registry'],
    ['skopeo', 'skopeo'],
  ].filter(([cmd]) => which(cmd!) === undefined)
  if (missing.length > 0) {
    throw new Error(
      `the VPC world needs ${missing.map(([c]) => c).join(', ')}: apt-get install -y ${[...new Set(missing.map(([, p]) => p))].join(' ')}`,
    )
  }
}

function jsonLines<T>(text: string, keep: (o: Record<string, unknown>) => boolean): T[] {
  const out: T[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const o = JSON.parse(line) as Record<string, unknown>
      if (keep(o)) out.push(o as T)
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return out
}

export async function createVpcWorld(options: VpcWorldOptions = {}): Promise<VpcWorld> {
  checkPrerequisites()
  if (options.sweep !== false) sweepStaleWorlds()

  const base = newBaseName()
  const tmpDir = mkdtempSync(tmpPrefix(base))
  const logDir = join(tmpDir, 'logs')
  const homeDir = join(tmpDir, 'home')
  const workDir = join(tmpDir, 'work')
  const storageRoot = join(tmpDir, 'registry-storage')
  for (const d of [logDir, homeDir, workDir, storageRoot]) mkdirSync(d, { recursive: true })

  const names: WorldNames = {
    ...WORLD_NAMES,
    extraAuth: [...(options.extraAuthNames ?? [])],
    extraOss: [...(options.extraOssNames ?? [])],
    all: [],
  }
  const authNames = [names.auth, ...names.extraAuth]
  const ossNames = [names.oss, names.httpBucket, ...names.extraOss]
  names.all = [names.registry, ...authNames, ...ossNames]
  for (const n of names.all) {
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(n)) throw new Error(`not a DNS name: ${JSON.stringify(n)}`)
  }
  if (new Set(names.all).size !== names.all.length) throw new Error(`duplicate served names: ${names.all.join(', ')}`)

  const A = WORLD_ADDRESSES
  const vpcEntries: Array<[string, string]> = [
    [A.registry, names.registry],
    ...authNames.map((n): [string, string] => [A.token, n]),
    ...ossNames.map((n): [string, string] => [A.oss, n]),
  ]
  const hostsByRole: Record<WorldRole, string> = {
    laptop: hostsText([]),
    ecs: hostsText(vpcEntries),
    vpc: hostsText(vpcEntries),
  }

  let settings: RegistrySettings = {
    realm: options.realm ?? DEFAULT_REALM,
    service: WORLD_SERVICE,
    issuer: WORLD_ISSUER,
    blobRedirect: options.blobRedirect === undefined ? DEFAULT_BLOB_REDIRECT : options.blobRedirect,
  }
  if (settings.blobRedirect !== null) checkRedirectBase(settings.blobRedirect)

  const baseEnv = () => ({
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: homeDir,
    TMPDIR: workDir,
    LANG: 'C.UTF-8',
  })
  const tracker = new ProcessTracker(baseEnv, logDir)
  let topo: Topology | undefined
  let disposed = false
  let disposing: Promise<void> | undefined

  const onExit = () => {
    // Last resort when the test process exits without dispose(): synchronous cleanup only.
    tracker.killAllSync()
    if (topo) destroyTopologySync(topo)
    rmSync(tmpDir, { recursive: true, force: true })
  }
  process.once('exit', onExit)

  const dispose = (): Promise<void> => {
    if (disposing) return disposing
    disposed = true
    disposing = (async () => {
      process.off('exit', onExit)
      await tracker.stopAll(2000)
      if (topo) destroyTopologySync(topo)
      rmSync(tmpDir, { recursive: true, force: true })
    })()
    return disposing
  }

  let pki: Pki
  let registry: WorldProcess | undefined
  let tokenService: WorldProcess | undefined
  const tokenServiceRuns: WorldProcess[] = []
  let oss: WorldProcess | undefined
  let pullCount = 0
  let imageCount = 0

  const nsName = (role: WorldRole): string => {
    if (disposed) throw new Error('this VPC world has been disposed')
    if (!topo) throw new Error('the VPC world is not up yet')
    if (!WORLD_ROLES.includes(role)) throw new Error(`unknown namespace role ${JSON.stringify(role)}: use laptop, ecs or vpc`)
    return topo.ns[role]
  }
  const exec = async (role: WorldRole, cmd: string, args: readonly string[], opts?: ExecOptions) =>
    tracker.exec(nsName(role), cmd, args, opts)
  const spawn = async (role: WorldRole, cmd: string, args: readonly string[], opts?: SpawnOptions) =>
    tracker.spawn(nsName(role), cmd, args, opts)

  const registryFiles = (): RegistryFiles => {
    const active = pki.active(names.registry)
    return {
      address: A.registry,
      port: 443,
      certFile: active.cert,
      keyFile: active.key,
      rootCertBundle: pki.tokenSignerCert,
      storageRoot,
    }
  }

  const startRegistry = async () => {
    if (registry) await registry.stop()
    const configFile = join(tmpDir, 'registry.yml')
    writeFileSync(configFile, renderRegistryConfig(registryFiles(), settings))
    registry = await spawn('vpc', REGISTRY_BIN, ['serve', configFile], {
      logName: 'registry',
      ready: /listening on/,
      readyTimeoutMs: 30_000,
    })
  }

  const startTokenService = async () => {
    if (tokenService?.isRunning()) return
    const configFile = join(tmpDir, 'token-service.json')
    writeFileSync(
      configFile,
      JSON.stringify({
        address: A.token,
        port: 443,
        certs: Object.fromEntries(authNames.map((n) => [n, pki.active(n)])),
        signingCertFile: pki.tokenSignerCert,
        signingKeyFile: pki.tokenSignerKey,
        issuer: settings.issuer,
        service: settings.service,
        username: WORLD_CREDENTIALS.username,
        password: WORLD_CREDENTIALS.password,
        basicRealm: 'acr-world token service',
        expiresIn: 600,
        stopWhenStdinEnds: true,
      }),
    )
    tokenService = await spawn('vpc', process.execPath, [join(harnessDir, 'token-service.mjs'), configFile], {
      logName: 'token-service',
      ready: /^READY$/m,
      stdin: 'pipe',
    })
    tokenServiceRuns.push(tokenService)
  }

  const startOss = async () => {
    const configFile = join(tmpDir, 'oss-standin.json')
    writeFileSync(
      configFile,
      JSON.stringify({
        address: A.oss,
        httpsPort: 443,
        httpPort: 80,
        certs: Object.fromEntries(ossNames.map((n) => [n, pki.active(n)])),
        storageRoot,
        stopWhenStdinEnds: true,
      }),
    )
    oss = await spawn('vpc', process.execPath, [join(harnessDir, 'oss-standin.mjs'), configFile], {
      logName: 'oss-standin',
      ready: /^READY$/m,
      stdin: 'pipe',
    })
  }

  const logs = (): string => {
    const parts: string[] = []
    for (const [label, p] of [['registry', registry], ['token service', tokenService], ['OSS stand-in', oss]] as const) {
      if (p) parts.push(`--- ${label} (${p.isRunning() ? 'running' : 'exited'}; ${p.logFile}) ---\n${tail(p.output(), 30)}`)
    }
    return parts.join('\n')
  }

  const request = async (role: WorldRole, spec: ProbeSpec): Promise<ProbeResult> => {
    const r = await exec(role, process.execPath, [join(harnessDir, 'http-probe.mjs')], {
      input: JSON.stringify({ caFile: pki.caFile, ...spec }),
      timeoutMs: (spec.timeoutMs ?? 10_000) + 10_000,
    })
    const line = r.stdout.trim().split('\n').pop() ?? ''
    try {
      return JSON.parse(line) as ProbeResult
    } catch {
      throw new Error(`http-probe in ${role} printed no result (exit ${r.code ?? r.signal}): ${r.stderr.trim()}`)
    }
  }

  const dockerRef = (ref: string): string => {
    if (ref.startsWith('docker://')) return ref
    const first = ref.split('/')[0] ?? ''
    if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return `docker://${ref}`
    return `docker://${names.registry}/${ref}`
  }

  const credsArg = (creds: Credentials | null | undefined): Credentials | null =>
    creds === undefined ? WORLD_CREDENTIALS : creds

  const runSkopeo = async (
    role: WorldRole,
    copyArgs: string[],
    opts: SkopeoOptions,
    digestFile: string,
  ): Promise<SkopeoResult> => {
    const args = ['--insecure-policy', 'copy', '--retry-times', '0', '--digestfile', digestFile, ...(opts.extraArgs ?? []), ...copyArgs]
    const r = await exec(role, 'skopeo', args, {
      env: { SSL_CERT_FILE: pki.caFile, ...(opts.env ?? {}) },
      timeoutMs: opts.timeoutMs ?? 150_000,
    })
    const masked = args.map((a, i) => (args[i - 1]?.endsWith('-creds') ? a.replace(/:.*/, ':***') : a))
    const digest = r.ok && existsSync(digestFile) ? readFileSync(digestFile, 'utf8').trim() : null
    return { ...r, args: masked, digest }
  }

  const world: VpcWorld = {
    names,
    addresses: WORLD_ADDRESSES,
    interfaces: WORLD_INTERFACES,
    credentials: { ...WORLD_CREDENTIALS },
    service: WORLD_SERVICE,
    issuer: WORLD_ISSUER,
    get caFile() {
      return pki.caFile
    },
    laptopHostsPath: '',
    hostsPath: { laptop: '', ecs: '', vpc: '' },
    ns: { laptop: '', ecs: '', vpc: '' },
    tmpDir,
    logDir,
    storageRoot,
    trustEnv: () => ({ SSL_CERT_FILE: pki.caFile, NODE_EXTRA_CA_CERTS: pki.caFile }),
    settings: () => ({ ...settings }),
    exec,
    spawn,
    request,
    buildImage: async ({ sizeMb, tag }) => {
      imageCount += 1
      return buildOciImage(join(tmpDir, 'images', String(imageCount)), { sizeMb, tag })
    },
    dockerRef,
    skopeoPush: async (role, image, ref, opts = {}) => {
      const creds = credsArg(opts.creds)
      const credArgs = creds ? ['--dest-creds', `${creds.username}:${creds.password}`] : ['--dest-no-creds']
      pullCount += 1
      const digestFile = join(workDir, `push-${pullCount}.digest`)
      return runSkopeo(role, [...credArgs, image.ociRef, dockerRef(ref)], opts, digestFile)
    },
    skopeoPull: async (role, ref, opts = {}) => {
      const creds = credsArg(opts.creds)
      const credArgs = creds ? ['--src-creds', `${creds.username}:${creds.password}`] : ['--src-no-creds']
      pullCount += 1
      const dir = join(tmpDir, 'pulls', String(pullCount))
      mkdirSync(dir, { recursive: true })
      const digestFile = join(workDir, `pull-${pullCount}.digest`)
      const r = await runSkopeo(role, [...credArgs, dockerRef(ref), `oci:${dir}:pulled`], opts, digestFile)
      let configDigest: string | null = null
      let layerDigests: string[] = []
      if (r.digest) {
        const hex = r.digest.replace(/^sha256:/, '')
        const manifest = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', hex), 'utf8')) as {
          config: { digest: string }
          layers: Array<{ digest: string }>
        }
        configDigest = manifest.config.digest
        layerDigests = manifest.layers.map((l) => l.digest)
      }
      return { ...r, dir, configDigest, layerDigests }
    },
    setRealm: async (url) => {
      new URL(url) // throws on a malformed URL
      settings = { ...settings, realm: url }
      await startRegistry()
    },
    setBlobRedirect: async (baseUrl) => {
      if (baseUrl !== null) checkRedirectBase(baseUrl)
      settings = { ...settings, blobRedirect: baseUrl === null ? null : baseUrl.replace(/\/$/, '') }
      await startRegistry()
    },
    stopTokenService: async () => {
      await tokenService?.stop()
    },
    startTokenService,
    useWrongCertificate: async (name) => {
      pki.useWrong(name)
      if (name === names.registry) await startRegistry()
    },
    useRightCertificate: async (name) => {
      pki.useRight(name)
      if (name === names.registry) await startRegistry()
    },
    ossRequests: () => jsonLines<OssRequest>(oss?.output() ?? '', (o) => typeof o.method === 'string'),
    waitForOssRequest: async (match, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = world.ossRequests().find(match)
        if (found) return found
        if (Date.now() > deadline) {
          throw new Error(`no matching OSS stand-in request within ${timeoutMs} ms; requests seen:\n${JSON.stringify(world.ossRequests(), null, 1)}`)
        }
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    tokenRequests: () =>
      tokenServiceRuns.flatMap((p) => jsonLines<TokenRequest>(p.output(), (o) => typeof o.method === 'string')),
    logs,
    dispose,
  }

  try {
    topo = createTopology(base, hostsByRole)
    Object.assign(world, {
      ns: { ...topo.ns },
      hostsPath: {
        laptop: join(NETNS_ETC, topo.ns.laptop, 'hosts'),
        ecs: join(NETNS_ETC, topo.ns.ecs, 'hosts'),
        vpc: join(NETNS_ETC, topo.ns.vpc, 'hosts'),
      },
      laptopHostsPath: join(NETNS_ETC, topo.ns.laptop, 'hosts'),
    })
    pki = createPki(join(tmpDir, 'pki'), names.all)
    await Promise.all([startRegistry(), startTokenService(), startOss()])
  } catch (e) {
    const detail = logs()
    await dispose()
    const message = e instanceof Error ? e.message : String(e)
    throw new Error(`the VPC world did not come up: ${message}${detail ? `\n${detail}` : ''}`, { cause: e })
  }
  return world
}
