// Manifests a pull meets (docker v2 schema 2, docker manifest lists, OCI image manifests and indexes), and the
// repository reference discovery is given (`ns/name`, `ns/name:tag`, `ns/name@sha256:…`, optionally with the
// registry host in front, as docker writes it).

import { BridgeError } from '../errors.js'
import { validateHostName } from '../config/host-name.js'

export const mediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const

/** The Accept header of a manifest GET: every form we can read. */
export const manifestAccept = [mediaTypes.ociIndex, mediaTypes.dockerList, mediaTypes.ociManifest, mediaTypes.dockerManifest].join(', ')

export type ManifestPick =
  | { readonly kind: 'index'; readonly digest: string }
  | { readonly kind: 'blob'; readonly digest: string }
  | { readonly kind: 'invalid'; readonly reason: string }

const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/

/**
 * What to fetch next from a manifest body: an index / list → its first manifest's digest; an image manifest → its
 * first layer's digest (else the config's). The media type comes from the body, else the Content-Type header.
 */
export function pickFromManifest(body: string, contentType: string | undefined): ManifestPick {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { kind: 'invalid', reason: 'the manifest is not JSON' }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { kind: 'invalid', reason: 'the manifest is not a JSON object' }
  const doc = json as Record<string, unknown>
  const declared = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : (contentType ?? '').split(';')[0]!.trim()
  const isIndex = declared === mediaTypes.dockerList || declared === mediaTypes.ociIndex || (declared === '' && Array.isArray(doc['manifests']))
  if (isIndex) {
    const manifests = doc['manifests']
    if (!Array.isArray(manifests) || manifests.length === 0) return { kind: 'invalid', reason: 'the image index lists no manifests' }
    const digest = digestOf(manifests[0])
    return digest === undefined ? { kind: 'invalid', reason: 'the first manifest of the index has no valid digest' } : { kind: 'index', digest }
  }
  if (doc['schemaVersion'] === 1) return { kind: 'invalid', reason: 'the registry answered a schema 1 manifest, which has no blob list we read' }
  const layers = doc['layers']
  const first = Array.isArray(layers) && layers.length > 0 ? digestOf(layers[0]) : undefined
  const digest = first ?? digestOf(doc['config'])
  return digest === undefined ? { kind: 'invalid', reason: 'the manifest names no layer or config digest' } : { kind: 'blob', digest }
}

function digestOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const digest = (value as Record<string, unknown>)['digest']
  return typeof digest === 'string' && digestPattern.test(digest) ? digest : undefined
}

export interface RepositoryRef {
  /** The registry host when the reference names one (`registry-vpc.cn-beijing.aliyuncs.com/ns/name`). */
  readonly registry?: string
  /** `ns/name` (lower case, as the distribution spec requires). */
  readonly repository: string
  /** A tag or a digest; `latest` when none is given. */
  readonly reference: string
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

/** Parses `--repo`; USAGE error naming the problem. */
export function parseRepositoryRef(text: string): RepositoryRef {
  const bad = (why: string): BridgeError =>
    new BridgeError('USAGE', `--repo ${JSON.stringify(text.slice(0, 80))}: ${why}.`, { hint: 'Give the repository as NAMESPACE/NAME (optionally :TAG or @sha256:DIGEST), e.g. --repo myns/myapp:1.0.' })
  if (text.length > 512) throw bad('too long')
  let rest = text
  let reference = 'latest'
  const at = rest.indexOf('@')
  if (at !== -1) {
    reference = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!digestPattern.test(reference)) throw bad('the digest after @ is not valid')
  } else {
    const slash = rest.lastIndexOf('/')
    const colon = rest.lastIndexOf(':')
    if (colon > slash) {
      reference = rest.slice(colon + 1)
      rest = rest.slice(0, colon)
      if (!tagPattern.test(reference)) throw bad('the tag is not valid')
    }
  }
  const parts = rest.split('/')
  let registry: string | undefined
  if (parts.length > 2 && (parts[0]!.includes('.') || parts[0]!.includes(':'))) {
    registry = parts.shift()!.toLowerCase()
    if (validateHostName(registry) !== undefined) throw bad(`${registry} is not a valid registry host name`)
  }
  if (parts.length < 2) throw bad('a repository has a namespace and a name (NAMESPACE/NAME)')
  for (const part of parts) {
    if (!pathComponent.test(part)) throw bad(`${JSON.stringify(part)} is not a valid repository path component (lower-case letters, digits, . _ -)`)
  }
  return { ...(registry === undefined ? {} : { registry }), repository: parts.join('/'), reference }
}
