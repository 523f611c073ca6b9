// Every check doctor runs, and the HealthMonitor after it: per name and per hop, through the tunnel's own dialer so it
// works for names the hosts file does not map yet.
//
// - The tunnel: each listener port answers (and, once names are known to work through the dialer, passes them on);
//   the proxy ECS answers.
// - Per name, concurrently: resolve (OS resolver + hosts file shadowing); then, for port 443, TLS with a certificate
//   valid for the name, and by the name's role: registry (GET /v2/ → 401 Bearer realm) + realm-covered (+ realm when
//   the realm host is not one of the probed names), token service (the realm answers), OSS (GET / → 403 AccessDenied
//   XML); for port 80, OSS over plain HTTP. With a repository (and credentials), blob-covered: one real pull's blob
//   redirect target is in the set.
// - A hop that fails ends its name's chain: the hops after it are not reported (they would only repeat the cause).
//   When the ECS itself does not answer, the per-name network checks are dropped for the same reason.
// - Every hop has its own time limit; names run concurrently, so a dead hop costs about its own limit.

import type { CheckResult, HopKind } from '../../common/status.js'
import type { HostEntry } from '../catalog/types.js'
import type { TunnelConfig } from '../config/types.js'
import { describeTarget } from '../discovery/location.js'
import { discoverHosts, isCovered } from '../discovery/discover.js'
import { nullLogger, type Logger } from '../logger.js'
import type { Dialer } from '../tunnel/types.js'
import { fail, pass, sortChecks } from './check-result.js'
import { nameRole, type NameRole } from './name-role.js'
import { hostsFileMappings, probeResolve, readHostsText, type Lookup } from './resolve.js'
import { fetchThrough, openThrough, requestOver, ThroughError, urlHost, urlPort, type HttpAnswer, type OpenOptions } from './through.js'
import { createListenerDialer, probeListeners, probeUpstream, type ListenAddress } from './tunnel-probes.js'
import { bearerChallenge, parseWwwAuthenticate } from './www-authenticate.js'

/** A real pull of one manifest and one blob, for the blob-covered check. */
export interface PullProbe {
  /** `ns/name`. */
  readonly repository: string
  readonly reference?: string
  /** The registry host; default: the first registry name of the active set. */
  readonly registry?: string
  readonly credentials?: { readonly username: string; readonly password: string }
}

export interface RunChecksOptions {
  /** The active set. */
  readonly entries: readonly HostEntry[]
  readonly dialer: Dialer
  readonly tunnel: TunnelConfig
  readonly listen: ListenAddress
  /** The hosts file to look for shadowing lines in. */
  readonly hostsPath: string
  /** Limit of each hop (default 5000 ms). */
  readonly timeoutMs?: number
  /** Extra CA certificates (PEM) trusted for the names' certificates, on top of the system store. */
  readonly ca?: OpenOptions['ca']
  readonly pull?: PullProbe
  readonly lookup?: Lookup
  readonly readHostsFile?: (path: string) => Promise<Uint8Array>
  readonly signal?: AbortSignal
  readonly logger?: Logger
}

export const defaultProbeTimeoutMs = 5000

interface Context {
  readonly options: RunChecksOptions
  readonly entries: readonly HostEntry[]
  readonly timeoutMs: number
  readonly signal: AbortSignal
  readonly logger: Logger
  /** Realm URLs learned from registries' challenges, by realm host. */
  readonly realms: Map<string, { readonly url: URL; readonly service?: string }>
  /** Names of the set probed as token services on 443: a registry leaves its realm check to them. */
  readonly authNames: ReadonlySet<string>
  /** Settles when every registry name has its /v2/ answer (or failed): token services wait for their realm URL. */
  registriesSettled: Promise<unknown>
  /**
   * For each name that works through the dialer, the same request through the local listener, started at once (so
   * it runs beside the other names): undefined when the listener passes it on, else what went wrong.
   */
  readonly forwardTls: Map<string, Promise<string | undefined>>
  readonly forwardHttp: Map<string, Promise<string | undefined>>
  readonly listenerDialer: Dialer
}

export async function runChecks(options: RunChecksOptions): Promise<CheckResult[]> {
  const entries = options.entries
  const timeoutMs = options.timeoutMs ?? defaultProbeTimeoutMs
  const logger = options.logger ?? nullLogger
  const names = new AbortController()
  const onabort = (): void => names.abort()
  if (options.signal?.aborted === true) names.abort()
  else options.signal?.addEventListener('abort', onabort, { once: true })
  const roles = new Map(entries.map((entry) => [entry.name, nameRole(entry)]))
  const context: Context = {
    options,
    entries,
    timeoutMs,
    signal: names.signal,
    logger,
    realms: new Map(),
    authNames: new Set(entries.filter((e) => roles.get(e.name) === 'auth' && e.ports.includes(443)).map((e) => e.name)),
    registriesSettled: Promise.resolve(),
    forwardTls: new Map(),
    forwardHttp: new Map(),
    listenerDialer: createListenerDialer(options.listen),
  }
  try {
    const hostsText = readHostsText(options.hostsPath, options.readHostsFile)
    const resolves = hostsText.then((read) => {
      const mappings = 'text' in read ? hostsFileMappings(read.text) : undefined
      if ('error' in read) logger.debug(`[probes] cannot read ${options.hostsPath} (${read.error})`)
      return Promise.all(
        entries.map((entry) =>
          probeResolve(entry, {
            hostsPath: options.hostsPath,
            timeoutMs,
            ...(mappings === undefined ? {} : { mappings }),
            ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
          }),
        ),
      )
    })
    const listeners = probeListeners(options.listen, entries, timeoutMs, options.signal)
    const upstream = probeUpstream(options.tunnel, options.dialer, entries, timeoutMs, options.signal).then((checks) => {
      if (checks.some((c) => !c.ok)) names.abort()
      return checks
    })

    // Registries publish their realm before token services ask for it.
    const registrySettlers: (() => void)[] = []
    const settled: Promise<void>[] = []
    const settlerFor = new Map<string, () => void>()
    for (const entry of entries) {
      if (roles.get(entry.name) !== 'registry' || !entry.ports.includes(443)) continue
      let settle!: () => void
      settled.push(new Promise<void>((resolve) => (settle = resolve)))
      settlerFor.set(entry.name, settle)
      registrySettlers.push(settle)
    }
    context.registriesSettled = Promise.all(settled)

    const pullRegistry = pullRegistryOf(options.pull, entries, roles)
    const chains = entries.map((entry) =>
      nameChecks(entry, roles.get(entry.name) as NameRole, context, settlerFor.get(entry.name) ?? (() => {}), pullRegistry === entry.name),
    )
    if (options.pull !== undefined && pullRegistry !== undefined && !entries.some((e) => e.name === pullRegistry)) {
      chains.push(blobCheck(pullRegistry, pullRegistry, options.pull, context).then((check) => (check === undefined ? [] : [check])))
    }
    const [resolveChecks, listenerChecks, upstreamChecks, nameResults] = await Promise.all([resolves, listeners, upstream, Promise.all(chains)])
    for (const settle of registrySettlers) settle()

    const out: CheckResult[] = [...resolveChecks, ...upstreamChecks]
    if (upstreamChecks.every((c) => c.ok)) {
      out.push(...nameResults.flat())
      out.push(...(await listenerForwarding(listenerChecks, context)))
    } else {
      out.push(...listenerChecks.map((l) => l.check))
    }
    return sortChecks(out, entries)
  } finally {
    options.signal?.removeEventListener('abort', onabort)
    names.abort()
  }
}

function pullRegistryOf(pull: PullProbe | undefined, entries: readonly HostEntry[], roles: ReadonlyMap<string, NameRole>): string | undefined {
  if (pull === undefined) return undefined
  if (pull.registry !== undefined) return pull.registry.toLowerCase()
  return entries.find((e) => roles.get(e.name) === 'registry' && e.ports.includes(443))?.name
}

/** The hop a name's first network failure belongs to: its service, since TLS could not even be judged. */
function serviceHop(role: NameRole): HopKind {
  switch (role) {
    case 'registry':
      return 'registry'
    case 'auth':
      return 'realm'
    case 'oss':
      return 'oss'
    case 'other':
      return 'tls'
  }
}

/** A ThroughError as a failed check of `hop` (certificate problems: `certificateHop`), or undefined when aborted. */
export function throughFailure(group: string, error: unknown, hop: HopKind, certificateHop: HopKind, target: { name: string; port: number }, timeoutMs: number): CheckResult | undefined {
  if (!(error instanceof ThroughError)) throw error
  const where = `${target.name}:${target.port}`
  switch (error.kind) {
    case 'aborted':
      return undefined
    case 'certificate':
      return fail(
        group,
        certificateHop,
        error.message,
        `Something other than the real ${target.name} answers: check what the ECS forwards ${target.name} to (its DNS or hosts file), and that nothing on the way intercepts TLS.`,
      )
    case 'dial':
      return fail(group, hop, `no stream to ${where} through the tunnel: ${(error.bridgeError?.message ?? error.message).replace(/\.$/, '')}`, error.bridgeError?.hint ?? 'Check the tunnel settings.')
    case 'closed':
      return fail(
        group,
        hop,
        `${where} does not answer through the ECS (${error.message})`,
        `Check on the ECS that ${target.name} resolves to its VPC address and answers (the service may be down), and that the proxy allows the name.`,
      )
    case 'refused':
      return fail(
        group,
        hop,
        `the ECS refuses ${where}: ${error.message}`,
        `Allow ${target.name} on the ECS's relay or proxy (acr-bridge relay: --allow; goproxy/nginx: its allow-list).`,
      )
    case 'timeout':
      // The dialer's time limit ran out first: it knows which hop did not answer (the ECS, the proxy, sshd's channel).
      if (error.bridgeError !== undefined) {
        return fail(group, hop, `no stream to ${where} through the tunnel: ${error.bridgeError.message.replace(/\.$/, '')}`, error.bridgeError.hint ?? 'Check the tunnel settings.', timeoutMs)
      }
      return fail(group, hop, `no answer from ${where} through the tunnel within ${timeoutMs} ms`, `Check that the ECS can reach ${target.name} (security groups, VPC routes, the service itself).`, timeoutMs)
    case 'protocol':
      return fail(group, hop === 'tls' || error.stage === 'tls' ? certificateHop : hop, `${where}: ${error.message}`, `Check that the ECS forwards ${target.name} unchanged (an SNI router or CONNECT proxy, not a TLS-terminating one).`)
  }
}

async function nameChecks(entry: HostEntry, role: NameRole, context: Context, settleRealm: () => void, isPullRegistry: boolean): Promise<CheckResult[]> {
  try {
    const parts = await Promise.all([
      entry.ports.includes(443) ? checkTlsName(entry, role, context, settleRealm, isPullRegistry) : Promise.resolve([]),
      entry.ports.includes(80) ? checkHttpName(entry, role, context) : Promise.resolve([]),
    ])
    return parts.flat()
  } finally {
    settleRealm()
  }
}

async function checkTlsName(entry: HostEntry, role: NameRole, context: Context, settleRealm: () => void, isPullRegistry: boolean): Promise<CheckResult[]> {
  const { options, timeoutMs, signal } = context
  const name = entry.name
  const out: CheckResult[] = []
  const target = { name, port: 443 }
  let opened
  try {
    opened = await openThrough({ dialer: options.dialer, name, port: 443, tls: true, timeoutMs, signal, ...(options.ca === undefined ? {} : { ca: options.ca }) })
  } catch (error) {
    const check = throughFailure(name, error, serviceHop(role), 'tls', target, timeoutMs)
    return check === undefined ? [] : [check]
  }
  out.push(pass(name, 'tls', `TLS through the tunnel; the certificate is valid for ${name}`, opened.dialMs + (opened.handshakeMs ?? 0)))
  context.forwardTls.set(name, forwardTls(name, context))

  if (role === 'registry') {
    let answer: HttpAnswer
    const started = performance.now()
    try {
      answer = await requestOver(opened.socket, { name, port: 443, path: '/v2/', timeoutMs, signal })
    } catch (error) {
      settleRealm()
      const check = throughFailure(name, error, 'registry', 'tls', target, timeoutMs)
      return check === undefined ? out : [...out, check]
    }
    const ms = performance.now() - started
    const registryOk = registryVerdict(name, answer, ms, context, out)
    settleRealm()
    if (registryOk.realm !== undefined) {
      const realm = registryOk.realm
      const realmHost = urlHost(realm.url)
      const realmPort = urlPort(realm.url)
      if (isCovered(context.entries, realmHost, realmPort)) {
        out.push(pass(name, 'realm-covered', `the realm host ${realmHost} is in the set`))
      } else {
        out.push(
          fail(
            name,
            'realm-covered',
            `the registry's realm ${realmHost}${realmPort === 443 || realmPort === 80 ? '' : `:${realmPort}`} is not in the set: token requests would bypass the tunnel`,
            realmPort === 443 || realmPort === 80
              ? `Add ${realmHost}: the registry's realm points there (\`acr-bridge discover --save\` adds it to extraHosts).`
              : `The realm uses port ${realmPort}, which the tunnel does not carry (only 443 and 80); use mode connect or ssh with a local proxy.`,
          ),
        )
      }
      const delegated = context.authNames.has(realmHost) && realmPort === 443 && realm.url.protocol === 'https:'
      if (!delegated) {
        const check = await realmCheck(name, realm.url, realm.service, context)
        if (check !== undefined) out.push(check)
      }
    }
    if (registryOk.ok && isPullRegistry && options.pull !== undefined) {
      const check = await blobCheck(name, name, options.pull, context)
      if (check !== undefined) out.push(check)
    }
    return out
  }
  if (role === 'auth') {
    opened.socket.destroy()
    await context.registriesSettled
    const known = context.realms.get(name)
    const check = await realmCheck(name, known?.url ?? new URL(`https://${name}/auth`), known?.service, context)
    if (check !== undefined) out.push(check)
    return out
  }
  if (role === 'oss') {
    const started = performance.now()
    try {
      const answer = await requestOver(opened.socket, { name, port: 443, path: '/', timeoutMs, signal })
      out.push(ossVerdict(name, 443, answer, performance.now() - started))
    } catch (error) {
      const check = throughFailure(name, error, 'oss', 'tls', target, timeoutMs)
      if (check !== undefined) out.push(check)
    }
    return out
  }
  opened.socket.destroy()
  return out
}

/** Records the registry check; returns the realm to check next, if the registry named one. */
function registryVerdict(name: string, answer: HttpAnswer, ms: number, context: Context, out: CheckResult[]): { ok: boolean; realm?: { url: URL; service?: string } } {
  const challenges = answer.headersDistinct['www-authenticate']
  if (answer.status === 401) {
    const bearer = bearerChallenge(challenges)
    if (bearer !== undefined) {
      let url: URL | undefined
      try {
        url = new URL(bearer.realm)
      } catch {
        url = undefined
      }
      if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        out.push(fail(name, 'registry', `GET /v2/ answered 401 with a Bearer realm that is not an http(s) URL`, `Check that the ECS forwards ${name} to the registry itself.`, ms))
        return { ok: false }
      }
      const host = urlHost(url)
      if (!context.realms.has(host)) context.realms.set(host, { url, ...(bearer.service === undefined ? {} : { service: bearer.service }) })
      out.push(pass(name, 'registry', `GET /v2/ → 401 with a Bearer realm at ${url.protocol}//${url.host}${url.pathname}`, ms))
      return { ok: true, realm: { url, ...(bearer.service === undefined ? {} : { service: bearer.service }) } }
    }
    if (parseWwwAuthenticate(challenges).some((c) => c.scheme === 'basic')) {
      out.push(pass(name, 'registry', 'GET /v2/ → 401 asking for Basic authentication (no token realm)', ms))
      return { ok: true }
    }
    out.push(fail(name, 'registry', 'GET /v2/ answered 401 without a Bearer realm', `Check that the ECS forwards ${name} to the registry itself.`, ms))
    return { ok: false }
  }
  if (answer.status === 200) {
    out.push(pass(name, 'registry', 'GET /v2/ → 200: the registry asks for no token', ms))
    return { ok: true }
  }
  out.push(fail(name, 'registry', `GET /v2/ answered ${answer.status}, not 401 with a Bearer realm: this is not a registry`, `Check that the ECS forwards ${name} to the registry itself.`, ms))
  return { ok: false }
}

function isJson(answer: HttpAnswer): boolean {
  if (answer.truncated) return false
  try {
    const value: unknown = JSON.parse(answer.body.toString('utf8'))
    return typeof value === 'object' && value !== null
  } catch {
    return false
  }
}

/** The realm answers: GET realm?service=… (no credentials) → 200, 400 or 401 with a JSON body. */
async function realmCheck(group: string, realm: URL, service: string | undefined, context: Context): Promise<CheckResult | undefined> {
  const url = new URL(realm.href)
  if (service !== undefined && !url.searchParams.has('service')) url.searchParams.set('service', service)
  const host = urlHost(url)
  const label = `${host}${url.pathname}`
  const { options, timeoutMs, signal } = context
  try {
    const answer = await fetchThrough({ dialer: options.dialer, url, timeoutMs, signal, ...(options.ca === undefined ? {} : { ca: options.ca }) })
    if ([200, 400, 401].includes(answer.status) && isJson(answer)) {
      return pass(group, 'realm', `the realm ${label} answers ${answer.status} (JSON)`, answer.elapsedMs)
    }
    const type = answer.headers['content-type']
    return fail(group, 'realm', `the realm ${label} answered ${answer.status}${typeof type === 'string' ? ` (${type.split(';')[0]})` : ''}, not a token service's JSON`, `Check that the ECS forwards ${host} to the token service.`, answer.elapsedMs)
  } catch (error) {
    return throughFailure(group, error, 'realm', 'realm', { name: host, port: urlPort(url) }, timeoutMs)
  }
}

function ossVerdict(name: string, port: number, answer: HttpAnswer, ms: number): CheckResult {
  const body = answer.body.toString('utf8')
  const where = port === 80 ? ' on port 80 (plain HTTP)' : ''
  if (answer.status === 403 && /<Code>\s*AccessDenied\s*<\/Code>/.test(body)) {
    return pass(name, 'oss', `GET /${where} → 403 AccessDenied: OSS answers`, ms)
  }
  return fail(name, 'oss', `GET /${where} answered ${answer.status}, not OSS's 403 AccessDenied XML`, `Check that the ECS forwards ${name} to OSS (an OSS endpoint refuses anonymous listing with that answer).`, ms)
}

async function checkHttpName(entry: HostEntry, role: NameRole, context: Context): Promise<CheckResult[]> {
  const { options, timeoutMs, signal } = context
  const name = entry.name
  try {
    const answer = await fetchThrough({ dialer: options.dialer, url: new URL(`http://${name}/`), timeoutMs, signal })
    let check: CheckResult
    if (role === 'oss') {
      check = ossVerdict(name, 80, answer, answer.elapsedMs)
    } else if (answer.status < 500) {
      check = pass(name, 'oss', `GET / on port 80 (plain HTTP) → ${answer.status}`, answer.elapsedMs)
    } else {
      check = fail(name, 'oss', `GET / on port 80 (plain HTTP) answered ${answer.status}`, `Check that the ECS forwards ${name}:80 to the real server.`, answer.elapsedMs)
    }
    if (check.ok) context.forwardHttp.set(name, forwardHttp(name, answer.status, context))
    return [check]
  } catch (error) {
    const check = throughFailure(name, error, 'oss', 'oss', { name, port: 80 }, timeoutMs)
    return check === undefined ? [] : [check]
  }
}

async function blobCheck(group: string, registry: string, pull: PullProbe, context: Context): Promise<CheckResult | undefined> {
  const { options, timeoutMs, signal } = context
  const started = performance.now()
  const report = await discoverHosts({
    dialer: options.dialer,
    entries: context.entries,
    registry,
    repository: pull.repository,
    ...(pull.reference === undefined ? {} : { reference: pull.reference }),
    ...(pull.credentials === undefined ? {} : { credentials: pull.credentials }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    timeoutMs,
    signal,
    logger: context.logger,
  })
  const ms = performance.now() - started
  if (signal.aborted) return undefined
  if (report.incomplete !== undefined) {
    return fail(group, 'blob-covered', `no blob of ${pull.repository} reached: ${report.incomplete.message.replace(/\.$/, '')}`, report.incomplete.hint, ms)
  }
  if (report.blob === undefined || report.blob.servedBy === 'registry') {
    return pass(group, 'blob-covered', `the registry serves the blobs of ${pull.repository} itself (no redirect)`, ms)
  }
  const target = report.blob.target
  if (isCovered(context.entries, target.host, target.port)) {
    return pass(group, 'blob-covered', `blobs of ${pull.repository} redirect to ${describeTarget(target)}, which is in the set`, ms)
  }
  const carried = target.port === 443 || target.port === 80
  return fail(
    group,
    'blob-covered',
    `blobs of ${pull.repository} redirect to ${describeTarget(target)}, which is not in the set: layer downloads would bypass the tunnel`,
    carried
      ? `Add ${target.host}${target.port === 80 ? ' (port 80)' : ''}: blob downloads redirect there (\`acr-bridge discover --save\` adds it to extraHosts).`
      : `Blob downloads go to port ${target.port}, which the tunnel does not carry (only 443 and 80).`,
    ms,
  )
}

/** TLS for `name` through the local listener, as a client of the tunnel makes it. */
async function forwardTls(name: string, context: Context): Promise<string | undefined> {
  const { options, timeoutMs } = context
  try {
    const opened = await openThrough({ dialer: context.listenerDialer, name, port: 443, tls: true, timeoutMs, signal: context.signal, ...(options.ca === undefined ? {} : { ca: options.ca }) })
    opened.socket.destroy()
    return undefined
  } catch (error) {
    return `${name} (${error instanceof Error ? error.message : String(error)})`
  }
}

/** GET / for `name` through the local HTTP listener: the answer must be the one seen through the dialer. */
async function forwardHttp(name: string, status: number, context: Context): Promise<string | undefined> {
  try {
    const answer = await fetchThrough({ dialer: context.listenerDialer, url: new URL(`http://${name}/`), timeoutMs: context.timeoutMs, signal: context.signal })
    return answer.status === status ? undefined : `${name} (answered ${answer.status})`
  } catch (error) {
    return `${name} (${error instanceof Error ? error.message : String(error)})`
  }
}

/** The listeners that answer must also pass on the names that work through the dialer (or another program holds the port). */
async function listenerForwarding(listeners: readonly { check: CheckResult; port: number }[], context: Context): Promise<CheckResult[]> {
  return Promise.all(
    listeners.map(async ({ check, port }) => {
      if (!check.ok) return check
      const forwards = port === context.options.listen.port ? context.forwardTls : context.forwardHttp
      const names = [...forwards.keys()]
      const failures = (await Promise.all(forwards.values())).filter((f): f is string => f !== undefined)
      if (failures.length === 0) {
        return names.length === 0 ? check : pass(check.name, 'listener', `${check.name} accepts connections and passes on ${names.length === 1 ? names[0] : `all ${names.length} names`}`, check.latencyMs)
      }
      return fail(
        check.name,
        'listener',
        `${check.name} accepts connections but does not pass on ${failures.join(', ')}`,
        'Another program may hold the port, or the running tunnel serves other names: restart `acr-bridge up` with this config.',
        check.latencyMs,
      )
    }),
  )
}
