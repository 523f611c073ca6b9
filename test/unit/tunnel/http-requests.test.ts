// The plain-HTTP request checker: every request on a kept-alive connection must be for the connection's host and
// port; bodies (Content-Length, chunked) are skipped by their framing, never read as requests; what cannot be
// followed is refused; random input never throws.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRequestChecker, type RequestCheck } from '../../../electron/core/tunnel/http-requests.js'

const bucket = 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com'
const other = 'registry-vpc.cn-beijing.aliyuncs.com'

const get = (host: string, path = '/x'): string => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: docker\r\n\r\n`
const post = (host: string, body: string): string => `POST /up HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
const chunked = (host: string, chunks: readonly string[], trailers = ''): string =>
  `PUT /up HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n${chunks.map((c) => `${Buffer.byteLength(c).toString(16)};ext=1\r\n${c}\r\n`).join('')}0\r\n${trailers}\r\n`

/** Feeds `text` in pieces cut at `cuts` (byte offsets); returns every result. */
function feedAll(text: string | Buffer, cuts: readonly number[] = [], expected = { name: bucket, port: 80 }): RequestCheck[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1')
  const checker = createRequestChecker(expected)
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b)
  const results: RequestCheck[] = []
  let at = 0
  for (const point of [...points, bytes.length]) {
    if (point <= at && !(point === bytes.length && results.length === 0)) continue
    results.push(checker.feed(bytes.subarray(at, point)))
    at = point
  }
  return results
}

const last = (results: readonly RequestCheck[]): RequestCheck => results[results.length - 1]!
const allOk = (results: readonly RequestCheck[]): boolean => results.every((r) => r.ok)

describe('createRequestChecker', () => {
  it('lets kept-alive requests for the same host through, in one piece or byte by byte', () => {
    const text = get(bucket, '/a') + get(`${bucket}:80`, '/b') + get(bucket.toUpperCase(), '/c')
    expect(allOk(feedAll(text))).toBe(true)
    expect(allOk(feedAll(text, Array.from({ length: text.length }, (_, i) => i)))).toBe(true)
  })

  it('refuses a later request for another host or port, naming both, and stays refused', () => {
    const checker = createRequestChecker({ name: bucket, port: 80 })
    expect(checker.feed(Buffer.from(get(bucket)))).toEqual({ ok: true })
    const refused = checker.feed(Buffer.from(get(other)))
    expect(refused).toEqual({ ok: false, reason: 'other-host', detail: `${other}:80 on a connection for ${bucket}:80` })
    expect(checker.feed(Buffer.from(get(bucket)))).toEqual(refused)
    expect(last(feedAll(get(bucket) + get(`${bucket}:8080`)))).toMatchObject({ ok: false, reason: 'other-host' })
    expect(last(feedAll(get(bucket) + `GET http://${other}/x HTTP/1.1\r\nHost: ${bucket}\r\n\r\n`))).toMatchObject({ ok: false, reason: 'other-host' })
  })

  it('skips a Content-Length body, even one that reads like a request for another host', () => {
    const smuggled = get(other)
    expect(allOk(feedAll(post(bucket, smuggled) + get(bucket)))).toBe(true)
    expect(allOk(feedAll(post(bucket, smuggled) + get(bucket), [40, 41, 90, 120]))).toBe(true)
    expect(last(feedAll(post(bucket, smuggled) + get(other)))).toMatchObject({ ok: false, reason: 'other-host' })
  })

  it('walks a chunked body (extensions, trailers) without reading its data as requests', () => {
    const text = chunked(bucket, [get(other), 'x'.repeat(5000), 'tail'], 'X-Checksum: 1\r\n') + get(bucket)
    expect(allOk(feedAll(text))).toBe(true)
    expect(allOk(feedAll(text, Array.from({ length: 60 }, (_, i) => i * 97)))).toBe(true)
    expect(last(feedAll(chunked(bucket, ['abc']) + get(other)))).toMatchObject({ ok: false, reason: 'other-host' })
  })

  it('ignores empty lines between requests', () => {
    expect(allOk(feedAll(`${post(bucket, 'ab')}\r\n${get(bucket)}\r\n\r\n`))).toBe(true)
  })

  it('keeps checking after a request that asks for a protocol upgrade: what follows must still be a request for the host', () => {
    const upgrade = `GET / HTTP/1.1\r\nHost: ${bucket}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n`
    // The origin answered it as a plain request (as OSS does): the connection goes on.
    expect(allOk(feedAll(upgrade + get(bucket)))).toBe(true)
    expect(last(feedAll(upgrade + get(other)))).toMatchObject({ ok: false, reason: 'other-host' })
    // The origin switched protocols: the first bytes that are not a request end it (here HTTP/2's preface).
    expect(last(feedAll(`${upgrade}PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`))).toMatchObject({ ok: false, reason: 'invalid' })
    expect(last(feedAll(Buffer.concat([Buffer.from(upgrade), Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f])])))).toMatchObject({ ok: false, reason: 'invalid' })
  })

  it('refuses what it cannot follow: unknown or doubled framing, malformed chunks', () => {
    const refusal = (text: string) => last(feedAll(text))
    expect(refusal(`POST / HTTP/1.1\r\nHost: ${bucket}\r\nTransfer-Encoding: gzip\r\n\r\n`)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(refusal(`POST / HTTP/1.1\r\nHost: ${bucket}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(refusal(`POST / HTTP/1.1\r\nHost: ${bucket}\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n`)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(refusal(`POST / HTTP/1.1\r\nHost: ${bucket}\r\nContent-Length: -1\r\n\r\n`)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(refusal(`POST / HTTP/1.1\r\nHost: ${bucket}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(refusal(`POST / HTTP/1.1\r\nHost: ${bucket}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n`)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(refusal(`POST / HTTP/1.1\r\nHost: ${bucket}\r\nTransfer-Encoding: chunked\r\n\r\n${'1'.repeat(5000)}`)).toMatchObject({ ok: false, reason: 'invalid' })
    expect(refusal(`GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n`)).toMatchObject({ ok: false, reason: 'no-host' })
    // The same Content-Length twice is one length.
    expect(last(feedAll(`POST / HTTP/1.1\r\nHost: ${bucket}\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab${get(bucket)}`))).toEqual({ ok: true })
  })

  it('refuses a head that grows past 16 KiB while it waits for its end', () => {
    const head = `GET / HTTP/1.1\r\nHost: ${bucket}\r\nX-Pad: ${'a'.repeat(17 * 1024)}`
    expect(last(feedAll(head, Array.from({ length: 40 }, (_, i) => i * 512)))).toMatchObject({ ok: false, reason: 'invalid' })
  })

  it('never throws on random bytes, however they are cut', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 12 }), (bytes, cuts) => {
        for (const result of feedAll(Buffer.from(bytes), cuts)) expect(typeof result.ok).toBe('boolean')
      }),
      { numRuns: 300 },
    )
  })

  it('any sequence of well-formed requests for the host passes however it is cut; one for another host is refused where its head ends', () => {
    const request = fc.oneof(
      fc.constantFrom('/a', '/v2/', '/docker/registry/v2/blobs/sha256/ab/abc/data?Expires=1').map((path) => get(bucket, path)),
      fc.string({ maxLength: 200 }).map((body) => post(bucket, body)),
      fc.tuple(fc.array(fc.string({ minLength: 1, maxLength: 300 }), { maxLength: 5 }), fc.boolean()).map(([chunks, trailer]) => chunked(bucket, chunks, trailer ? 'X-T: 1\r\n' : '')),
    )
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(4000), { maxLength: 15 }), (requests, cuts) => {
        const good = requests.join('')
        expect(allOk(feedAll(good, cuts))).toBe(true)
        const results = feedAll(good + get(other), cuts)
        expect(last(results)).toMatchObject({ ok: false, reason: 'other-host' })
        // Refused only once the foreign head is complete (it ends the text): every earlier piece passed.
        expect(results.slice(0, -1).every((r) => r.ok)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
