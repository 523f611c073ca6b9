// Host discovery (ACR-FACTS.md §2.6): the real pull flow through the tunnel's own dialer, so it works before `up`
// has written the hosts file. GET /v2/ → the Bearer realm → a token (Basic auth) → the manifest (an index leads to its
// first manifest) → one blob GET with redirects disabled → the Location. Every host the flow touches is reported with
// its scheme and port, and whether the active set covers it. Neither the password, nor the token, nor the query of a
// presigned Location ever reaches a log line, an error message or the result.

import type { HostEntry } from '../catalog/types.js'
import type { ErrorCode } from '../errors.js'
import { nullLogger, type Logger } from '../logger.js'
import type { DiscoveredHost, DiscoveryResult } from '../session/types.js'
import type { Dialer } from '../tunnel/types.js'
import { fetchThrough, ThroughError, urlHost, urlPort, type FetchAnswer, type OpenOptions } from '../probes/through.js'
import { parseWwwAuthenticate } from '../probes/www-authenticate.js'
import { describeTarget, parseLocation, type RedirectTarget } from './location.js'
import { manifestAccept, pickFromManifest } from './manifest.js'

export interface DiscoverOptions {
  readonly dialer: Dialer
  /** The active set: decides which discovered hosts are covered. */
  readonly entries: readonly HostEntry[]
  /** The registry host (`registry-vpc.cn-beijing.aliyuncs.com`). */
  readonly registry: string
  /** `ns/name`. */
  readonly repository: string
  /** Tag or digest; default `latest`. */
  readonly reference?: string
  readonly credentials?: { readonly username: string; readonly password: string }
  /** Extra CA certificates (PEM) on top of the system store. */
  readonly ca?: OpenOptions['ca']
  /** Limit for each request (default 10 s). */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  readonly logger?: Logger
}

export type DiscoveryStep = 'registry' | 'token' | 'manifest' | 'blob'

export interface DiscoveryReport extends DiscoveryResult {
  readonly registry: string
  readonly repository: string
  readonly reference: string
  /** Where blobs come from: a redirect target (no query), or the registry itself. Undefined if not reached. */
  readonly blob?: { readonly servedBy: 'redirect'; readonly target: RedirectTarget } | { readonly servedBy: 'registry' }
  /** Set when the flow stopped early: what is known so far is in `hosts`. */
  readonly incomplete?: { readonly step: DiscoveryStep; readonly code: ErrorCode; readonly message: string; readonly hint: string }
}

const maxManifestBytes = 4 * 1024 * 1024

class Stop extends Error {
  constructor(
    readonly step: DiscoveryStep,
    readonly code: ErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(message)
  }
}

/** True when `entries` serve `name` on `port`. */
export function isCovered(entries: readonly HostEntry[], name: string, port: number): boolean {
  const lower = name.toLowerCase()
  return entries.some((entry) => entry.name.toLowerCase() === lower && entry.ports.includes(port))
}

export async function discoverHosts(options: DiscoverOptions): Promise<DiscoveryReport> {
  const logger = options.logger ?? nullLogger
  const timeoutMs = options.timeoutMs ?? 10_000
  const registry = options.registry.toLowerCase()
  const reference = options.reference ?? 'latest'
  const hosts: DiscoveredHost[] = []
  const add = (name: string, port: number, scheme: 'https' | 'http', role: DiscoveredHost['role']): void => {
    if (hosts.some((h) => h.name === name && h.port === port)) return
    hosts.push({ name, port, scheme, role, covered: isCovered(options.entries, name, port) })
  }
  let blob: DiscoveryReport['blob']

  const get = async (step: DiscoveryStep, url: URL, headers: Record<string, string>, extra: { readBody?: boolean; maxBodyBytes?: number } = {}): Promise<FetchAnswer> => {
    try {
      const answer = await fetchThrough({
        dialer: options.dialer,
        url,
        headers,
        timeoutMs,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...extra,
      })
      logger.debug(`[discover] GET ${url.protocol}//${url.host}${url.pathname} → ${answer.status}`)
      return answer
    } catch (error) {
      if (!(error instanceof ThroughError)) throw error
      throw new Stop(step, 'DISCOVERY_FAILED', `${stepLabel(step)} through the tunnel failed: ${error.message}.`, throughHint(error, urlHost(url)))
    }
  }

  try {
    add(registry, 443, 'https', 'registry')
    // 1. the challenge
    const base = new URL(`https://${registry}/`)
    const ping = await get('registry', new URL('/v2/', base), {})
    let authorization: string | undefined
    const basic = options.credentials === undefined ? undefined : `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`, 'utf8').toString('base64')}`
    if (ping.status === 401) {
      const challenges = parseWwwAuthenticate(ping.headersDistinct['www-authenticate'])
      const bearer = challenges.find((c) => c.scheme === 'bearer' && (c.params['realm'] ?? '') !== '')
      if (bearer !== undefined) {
        let realm: URL
        try {
          realm = new URL(bearer.params['realm'] as string)
        } catch {
          throw new Stop('registry', 'DISCOVERY_FAILED', `${registry} names a token realm that is not a URL.`, 'Check that the ECS forwards the name to the real registry.')
        }
        if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
          throw new Stop('registry', 'DISCOVERY_FAILED', `${registry} names a token realm that is not http or https.`, 'Check that the ECS forwards the name to the real registry.')
        }
        add(urlHost(realm), urlPort(realm), realm.protocol === 'https:' ? 'https' : 'http', 'realm')
        // 2. the token
        realm.searchParams.delete('scope')
        if (bearer.params['service'] !== undefined && !realm.searchParams.has('service')) realm.searchParams.set('service', bearer.params['service'])
        realm.searchParams.append('scope', `repository:${options.repository}:pull`)
        const answer = await get('token', realm, basic === undefined ? {} : { Authorization: basic })
        if (answer.status === 401 || answer.status === 403) {
          throw new Stop(
            'token',
            options.credentials === undefined ? 'CREDENTIALS_MISSING' : 'DISCOVERY_FAILED',
            options.credentials === undefined
              ? `The token service ${urlHost(realm)} gives no anonymous token for ${options.repository}.`
              : `The token service ${urlHost(realm)} refused the user name or password.`,
            options.credentials === undefined
              ? 'Pass --username and --password-stdin (or set ACR_BRIDGE_REGISTRY_USERNAME / ACR_BRIDGE_REGISTRY_PASSWORD, or run `docker login`).'
              : 'Check the registry user name and password (ACR: the registry password set in the console, not the account password).',
          )
        }
        if (answer.status !== 200) {
          throw new Stop('token', 'DISCOVERY_FAILED', `The token service ${urlHost(realm)} answered ${answer.status}.`, 'Check that the ECS forwards the realm host to the real token service.')
        }
        const token = tokenOf(answer.body)
        if (token === undefined) {
          throw new Stop('token', 'DISCOVERY_FAILED', `The token service ${urlHost(realm)} answered without a token.`, 'Check that the ECS forwards the realm host to the real token service.')
        }
        authorization = `Bearer ${token}`
      } else if (challenges.some((c) => c.scheme === 'basic')) {
        authorization = basic
        if (authorization === undefined) {
          throw new Stop('registry', 'CREDENTIALS_MISSING', `${registry} asks for a user name and password.`, 'Pass --username and --password-stdin (or set ACR_BRIDGE_REGISTRY_USERNAME / ACR_BRIDGE_REGISTRY_PASSWORD).')
        }
      } else {
        throw new Stop('registry', 'DISCOVERY_FAILED', `${registry} answered 401 without a Bearer or Basic challenge.`, 'Check that the ECS forwards the name to the real registry.')
      }
    } else if (ping.status !== 200) {
      throw new Stop('registry', 'DISCOVERY_FAILED', `GET /v2/ on ${registry} answered ${ping.status}, not 401 or 200.`, 'Check that the ECS forwards the name to the real registry.')
    }
    const auth: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization }

    // 3. the manifest (an index leads to its first manifest)
    let ref = reference
    let digest: string | undefined
    for (let hop = 0; hop < 2 && digest === undefined; hop++) {
      const url = new URL(`/v2/${options.repository}/manifests/${ref}`, base)
      const answer = await get('manifest', url, { ...auth, Accept: manifestAccept }, { maxBodyBytes: maxManifestBytes })
      if (answer.status === 404) {
        throw new Stop('manifest', 'DISCOVERY_FAILED', `${options.repository}:${ref} does not exist on ${registry}.`, 'Check --repo: the namespace, the name and the tag.')
      }
      if (answer.status === 401 || answer.status === 403) {
        throw new Stop('manifest', 'DISCOVERY_FAILED', `${registry} refused to show ${options.repository} (${answer.status}).`, 'Check that this user may pull the repository.')
      }
      if (answer.status !== 200) {
        throw new Stop('manifest', 'DISCOVERY_FAILED', `The manifest GET on ${registry} answered ${answer.status}.`, 'Check that the ECS forwards the name to the real registry.')
      }
      if (answer.truncated) throw new Stop('manifest', 'DISCOVERY_FAILED', `The manifest of ${options.repository} is larger than 4 MiB.`, 'Try another repository or tag.')
      const contentType = answer.headers['content-type']
      const pick = pickFromManifest(answer.body.toString('utf8'), typeof contentType === 'string' ? contentType : undefined)
      if (pick.kind === 'invalid') throw new Stop('manifest', 'DISCOVERY_FAILED', `Cannot read the manifest of ${options.repository}: ${pick.reason}.`, 'Try another repository or tag.')
      if (pick.kind === 'index') ref = pick.digest
      else digest = pick.digest
    }
    if (digest === undefined) throw new Stop('manifest', 'DISCOVERY_FAILED', `The image index of ${options.repository} points at another index.`, 'Try another repository or tag.')

    // 4. one blob, redirects disabled: only the head is read
    const blobUrl = new URL(`/v2/${options.repository}/blobs/${digest}`, base)
    const answer = await get('blob', blobUrl, auth, { readBody: false })
    if ([301, 302, 303, 307, 308].includes(answer.status)) {
      const location = parseLocation(blobUrl, answer.headersDistinct['location'])
      if (!location.ok) throw new Stop('blob', 'DISCOVERY_FAILED', `The blob redirect cannot be followed: ${location.reason}.`, 'Check that the ECS forwards the name to the real registry.')
      const target = location.target
      add(target.host, target.port, target.scheme, 'blob')
      blob = { servedBy: 'redirect', target }
      logger.debug(`[discover] blobs redirect to ${describeTarget(target)}`)
    } else if (answer.status === 200) {
      blob = { servedBy: 'registry' }
    } else {
      throw new Stop('blob', 'DISCOVERY_FAILED', `The blob GET on ${registry} answered ${answer.status}.`, 'Check that this user may pull the repository.')
    }
    return report(undefined)
  } catch (error) {
    if (error instanceof Stop) {
      logger.debug(`[discover] stopped at ${error.step}: ${error.message}`)
      return report({ step: error.step, code: error.code, message: error.message, hint: error.hint })
    }
    throw error
  }

  function report(incomplete: DiscoveryReport['incomplete']): DiscoveryReport {
    return {
      registry,
      repository: options.repository,
      reference,
      hosts,
      missing: hosts.filter((h) => !h.covered),
      ...(blob === undefined ? {} : { blob }),
      ...(incomplete === undefined ? {} : { incomplete }),
    }
  }
}

function tokenOf(body: Buffer): string | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>
    const token = json['token'] ?? json['access_token']
    return typeof token === 'string' && token !== '' ? token : undefined
  } catch {
    return undefined
  }
}

function stepLabel(step: DiscoveryStep): string {
  switch (step) {
    case 'registry':
      return 'GET /v2/'
    case 'token':
      return 'The token request'
    case 'manifest':
      return 'The manifest GET'
    case 'blob':
      return 'The blob GET'
  }
}

function throughHint(error: ThroughError, name: string): string {
  switch (error.kind) {
    case 'dial':
      return error.bridgeError?.hint ?? 'Check the tunnel settings (tunnel.host, tunnel.port) and that the proxy ECS is running.'
    case 'closed':
      return `Check that the ECS can reach ${name} (its DNS or hosts file must resolve it to the VPC address) and that its proxy allows the name.`
    case 'refused':
      return `Allow ${name} on the ECS's relay or proxy (acr-bridge relay: --allow).`
    case 'certificate':
      return `Something other than ACR answers for ${name}: check what the ECS forwards the name to.`
    case 'timeout':
      return `Check that the ECS can reach ${name}; run \`acr-bridge doctor\` to find the broken hop.`
    case 'protocol':
      return `Check that the ECS forwards ${name} unchanged (an SNI router or CONNECT proxy, not a TLS-terminating one).`
    case 'aborted':
      return 'The run was stopped.'
  }
}
