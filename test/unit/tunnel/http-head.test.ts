import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { maxHttpHeadBytes, parseHttpHead } from '../../../electron/core/tunnel/http-head.js'

const head = (text: string): Buffer => Buffer.from(text, 'latin1')

const blobRequest =
  'GET /docker/registry/v2/blobs/sha256/ab/abcd/data?Expires=1&OSSAccessKeyId=x&Signature=y HTTP/1.1\r\n' +
  'Host: aliregistry.oss-cn-hangzhou-internal.aliyuncs.com\r\n' +
  'User-Agent: containerd/1.7\r\nAccept-Encoding: gzip\r\n\r\n'

describe('parseHttpHead', () => {
  it('routes an origin-form request by its Host header', () => {
    const result = parseHttpHead(head(blobRequest))
    expect(result).toMatchObject({ kind: 'host', name: 'aliregistry.oss-cn-hangzhou-internal.aliyuncs.com', method: 'GET', form: 'origin' })
    expect(result).not.toHaveProperty('port')
    expect(result.kind === 'host' && result.headLength).toBe(blobRequest.length)
    expect(result.kind === 'host' && result.headers[0]).toEqual(['host', 'aliregistry.oss-cn-hangzhou-internal.aliyuncs.com'])
  })

  it('lowercases the name, keeps the port, accepts bare LF line ends', () => {
    expect(parseHttpHead(head('GET / HTTP/1.1\nHost: AliRegistry.OSS-cn-beijing.aliyuncs.com:80\n\n'))).toMatchObject({
      kind: 'host', name: 'aliregistry.oss-cn-beijing.aliyuncs.com', port: 80,
    })
  })

  it('takes the host of an absolute-form target over the Host header', () => {
    const request = 'GET http://aliregistry.oss-cn-hangzhou.aliyuncs.com:8080/x?y=1 HTTP/1.1\r\nHost: other.example.com\r\n\r\n'
    expect(parseHttpHead(head(request))).toMatchObject({ kind: 'host', name: 'aliregistry.oss-cn-hangzhou.aliyuncs.com', port: 8080, form: 'absolute' })
    expect(parseHttpHead(head('GET http://a.example.com HTTP/1.1\r\n\r\n'))).toMatchObject({ kind: 'host', name: 'a.example.com', form: 'absolute' })
  })

  it('reads a CONNECT authority-form target', () => {
    expect(parseHttpHead(head('CONNECT registry-vpc.cn-beijing.aliyuncs.com:443 HTTP/1.1\r\nHost: x\r\n\r\n'))).toMatchObject({
      kind: 'host', name: 'registry-vpc.cn-beijing.aliyuncs.com', port: 443, method: 'CONNECT', form: 'authority',
    })
    expect(parseHttpHead(head('CONNECT registry-vpc.cn-beijing.aliyuncs.com HTTP/1.1\r\n\r\n'))).toMatchObject({ kind: 'invalid' })
  })

  it('reports no-host when no host is named', () => {
    expect(parseHttpHead(head('GET / HTTP/1.0\r\n\r\n'))).toEqual({ kind: 'no-host' })
    expect(parseHttpHead(head('GET / HTTP/1.1\r\nHost:\r\n\r\n'))).toEqual({ kind: 'no-host' })
  })

  it('needs more until the empty line, for every split point', () => {
    for (let cut = 0; cut < blobRequest.length; cut++) {
      expect(parseHttpHead(head(blobRequest.slice(0, cut)))).toEqual({ kind: 'need-more' })
    }
    expect(parseHttpHead(head(blobRequest + 'body bytes'))).toMatchObject({ kind: 'host', headLength: blobRequest.length })
  })

  it('refuses malformed heads', () => {
    const cases = [
      '\x16\x03\x01\x02\x00',
      ' GET / HTTP/1.1\r\n\r\n',
      'GET / HTTP/2.0\r\nHost: a.example.com\r\n\r\n',
      'GET  / HTTP/1.1\r\nHost: a.example.com\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a.example.com\r\nHost: b.example.com\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a.example.com\r\n folded\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a b.example.com\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a.example.com#\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a.example.com:99999\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a.example.com:8x\r\n\r\n',
      'GET https://a.example.com/ HTTP/1.1\r\n\r\n',
      'GET http://user@a.example.com/ HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nBad Header: 1\r\nHost: a.example.com\r\n\r\n',
      '\r\n\r\n',
    ]
    for (const text of cases) expect(parseHttpHead(head(text)), JSON.stringify(text)).toMatchObject({ kind: 'invalid' })
  })

  it('refuses a head over 16 KiB without waiting for more', () => {
    const long = 'GET / HTTP/1.1\r\nHost: a.example.com\r\nX-Pad: ' + 'a'.repeat(maxHttpHeadBytes) + '\r\n\r\n'
    expect(parseHttpHead(head(long))).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('16 KiB') })
    expect(parseHttpHead(head(long.slice(0, maxHttpHeadBytes)))).toMatchObject({ kind: 'invalid' })
    expect(parseHttpHead(head(long.slice(0, maxHttpHeadBytes - 1)))).toEqual({ kind: 'need-more' })
  })

  it('never throws on random bytes or random text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1024 }), fc.string({ maxLength: 400 }).map((s) => Buffer.from(s))), (bytes) => {
        const result = parseHttpHead(Buffer.from(bytes))
        expect(['need-more', 'host', 'no-host', 'invalid']).toContain(result.kind)
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on mutated requests; a host it returns is always a lowercase DNS name', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: blobRequest.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat({ max: blobRequest.length }),
        (mutations, cut) => {
          const bytes = head(blobRequest)
          for (const [at, value] of mutations) bytes[at] = value
          const result = parseHttpHead(bytes.subarray(0, cut))
          if (result.kind === 'host') expect(result.name).toMatch(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/)
        },
      ),
      { numRuns: 2000 },
    )
  })
})
