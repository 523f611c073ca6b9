import { describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import { manifestAccept, mediaTypes, parseRepositoryRef, pickFromManifest } from '../../../electron/core/discovery/manifest.js'

const d = (c: string): string => `sha256:${c.repeat(64)}`

describe('pickFromManifest', () => {
  it('an OCI or docker image manifest: the first layer', () => {
    for (const mediaType of [mediaTypes.ociManifest, mediaTypes.dockerManifest]) {
      const body = JSON.stringify({ schemaVersion: 2, mediaType, config: { digest: d('c') }, layers: [{ digest: d('1') }, { digest: d('2') }] })
      expect(pickFromManifest(body, undefined)).toEqual({ kind: 'blob', digest: d('1') })
    }
  })

  it('no layers: the config blob', () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociManifest, config: { digest: d('c') }, layers: [] })
    expect(pickFromManifest(body, undefined)).toEqual({ kind: 'blob', digest: d('c') })
  })

  it('an index or manifest list: its first manifest, by the body or by Content-Type', () => {
    const manifests = [{ digest: d('a'), platform: { os: 'linux', architecture: 'amd64' } }, { digest: d('b') }]
    expect(pickFromManifest(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests }), undefined)).toEqual({ kind: 'index', digest: d('a') })
    expect(pickFromManifest(JSON.stringify({ schemaVersion: 2, manifests }), `${mediaTypes.dockerList}; charset=utf-8`)).toEqual({ kind: 'index', digest: d('a') })
    expect(pickFromManifest(JSON.stringify({ schemaVersion: 2, manifests }), undefined)).toEqual({ kind: 'index', digest: d('a') })
  })

  it.each([
    ['not JSON', '<html>', 'not JSON'],
    ['a JSON array', '[]', 'not a JSON object'],
    ['an empty index', JSON.stringify({ mediaType: mediaTypes.ociIndex, manifests: [] }), 'no manifests'],
    ['a bad digest in an index', JSON.stringify({ mediaType: mediaTypes.ociIndex, manifests: [{ digest: '../../etc' }] }), 'no valid digest'],
    ['schema 1', JSON.stringify({ schemaVersion: 1, fsLayers: [] }), 'schema 1'],
    ['no digest at all', JSON.stringify({ schemaVersion: 2, layers: [{ size: 1 }] }), 'no layer or config digest'],
  ])('refuses %s', (_label, body, reason) => {
    const pick = pickFromManifest(body, undefined)
    expect(pick.kind).toBe('invalid')
    if (pick.kind === 'invalid') expect(pick.reason).toContain(reason)
  })

  it('accepts every manifest form it can read', () => {
    for (const type of Object.values(mediaTypes)) expect(manifestAccept).toContain(type)
  })
})

describe('parseRepositoryRef', () => {
  it.each([
    ['ns/app', { repository: 'ns/app', reference: 'latest' }],
    ['ns/app:1.2', { repository: 'ns/app', reference: '1.2' }],
    [`ns/app@${d('e')}`, { repository: 'ns/app', reference: d('e') }],
    ['ns/sub/app', { repository: 'ns/sub/app', reference: 'latest' }],
    ['registry-vpc.cn-beijing.aliyuncs.com/ns/app:v1', { registry: 'registry-vpc.cn-beijing.aliyuncs.com', repository: 'ns/app', reference: 'v1' }],
    ['Registry-VPC.cn-beijing.aliyuncs.com/ns/app', { registry: 'registry-vpc.cn-beijing.aliyuncs.com', repository: 'ns/app', reference: 'latest' }],
    ['my_ns/my-app__x.y', { repository: 'my_ns/my-app__x.y', reference: 'latest' }],
  ])('%s', (text, expected) => {
    expect(parseRepositoryRef(text)).toEqual(expected)
  })

  it.each([
    ['app', 'namespace and a name'],
    ['NS/App', 'not a valid repository path component'],
    ['ns/app:', 'tag is not valid'],
    ['ns/app:-bad', 'tag is not valid'],
    ['ns/app@sha256', 'digest'],
    ['ns//app', 'not a valid repository path component'],
    ['reg;rm -rf.example/ns/app', 'not a valid registry host name'],
    ['ns/app name', 'not a valid repository path component'],
    ['a'.repeat(600), 'too long'],
  ])('refuses %s', (text, reason) => {
    let error: unknown
    try {
      parseRepositoryRef(text)
    } catch (e) {
      error = e
    }
    expect(isBridgeError(error, 'USAGE')).toBe(true)
    expect((error as Error).message).toContain(reason)
  })
})
