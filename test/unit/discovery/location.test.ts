import { describe, expect, it } from 'vitest'
import { describeTarget, parseLocation } from '../../../electron/core/discovery/location.js'

const request = new URL('https://registry-vpc.cn-beijing.aliyuncs.com/v2/ns/app/blobs/sha256:abc')

describe('parseLocation', () => {
  it('reads a Personal Edition redirect: plain http on port 80, and drops the presigned query', () => {
    const location =
      'http://aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com/docker/registry/v2/blobs/sha256/ab/abc/data?Expires=1535097803&OSSAccessKeyId=LTAIsecret&Signature=c2lnbmF0dXJl'
    const result = parseLocation(request, location)
    expect(result).toEqual({
      ok: true,
      target: { scheme: 'http', host: 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com', port: 80, path: '/docker/registry/v2/blobs/sha256/ab/abc/data' },
    })
    expect(JSON.stringify(result)).not.toMatch(/Signature|OSSAccessKeyId|Expires/)
  })

  it.each([
    ['an https bucket host', 'https://cri-abc-registry.oss-cn-beijing-internal.aliyuncs.com/x', { scheme: 'https', host: 'cri-abc-registry.oss-cn-beijing-internal.aliyuncs.com', port: 443 }],
    ['an explicit port', 'https://bucket.example:8443/x', { scheme: 'https', host: 'bucket.example', port: 8443 }],
    ['an explicit default port', 'http://bucket.example:80/x', { scheme: 'http', host: 'bucket.example', port: 80 }],
    ['upper case host', 'HTTPS://Bucket.OSS-cn-beijing.Aliyuncs.com/x', { scheme: 'https', host: 'bucket.oss-cn-beijing.aliyuncs.com', port: 443 }],
    ['a path-absolute reference: same host', '/v2/ns/app/blobs/uploads/x', { scheme: 'https', host: 'registry-vpc.cn-beijing.aliyuncs.com', port: 443 }],
    ['a relative reference', 'other?x=1', { scheme: 'https', host: 'registry-vpc.cn-beijing.aliyuncs.com', port: 443 }],
    ['a scheme-relative reference keeps the scheme', '//cdn.example/blob', { scheme: 'https', host: 'cdn.example', port: 443 }],
    ['an IPv6 literal (brackets dropped)', 'http://[2001:db8::1]:8080/b', { scheme: 'http', host: '2001:db8::1', port: 8080 }],
    ['surrounding white space', '  https://b.example/x  ', { scheme: 'https', host: 'b.example', port: 443 }],
    ['the same value twice', ['https://b.example/x', 'https://b.example/x'], { scheme: 'https', host: 'b.example', port: 443 }],
  ])('%s', (_label, location, expected) => {
    const result = parseLocation(request, location)
    expect(result.ok).toBe(true)
    if (result.ok) expect(result.target).toMatchObject(expected)
  })

  it.each([
    ['no header', undefined, 'no Location'],
    ['an empty header', '  ', 'no Location'],
    ['two different values', ['https://a.example/', 'https://b.example/'], 'more than one'],
    ['another scheme', 'ftp://files.example/blob', 'ftp URL'],
    ['a javascript URL', 'javascript:alert(1)', 'javascript URL'],
    ['credentials in the URL', 'https://user:pass@b.example/x', 'credentials'],
    ['not a URL', 'http://[::1', 'not a valid URL'],
  ])('refuses %s', (_label, location, reason) => {
    const result = parseLocation(request, location)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toContain(reason)
  })
})

describe('describeTarget', () => {
  it('shows the port only when it is not the scheme default, and never a query', () => {
    expect(describeTarget({ scheme: 'https', host: 'a.example', port: 443 })).toBe('https://a.example')
    expect(describeTarget({ scheme: 'http', host: 'a.example', port: 80 })).toBe('http://a.example')
    expect(describeTarget({ scheme: 'https', host: 'a.example', port: 80 })).toBe('https://a.example:80')
    expect(describeTarget({ scheme: 'http', host: '2001:db8::1', port: 8080 })).toBe('http://[2001:db8::1]:8080')
  })
})
