import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { maxClientHelloBytes, parseClientHello } from '../../../electron/core/tunnel/client-hello.js'

const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/client-hello/${name}`, import.meta.url)))

const tls13 = fixture('tls13-sni.bin')
const tls12 = fixture('tls12-sni.bin')
const upper = fixture('uppercase-sni.bin')
const noSni = fixture('no-sni.bin')
const large = fixture('large-sni.bin')

/** The handshake message inside a single-record hello. */
function handshakeOf(hello: Buffer): Buffer {
  expect(hello.readUInt16BE(3)).toBe(hello.length - 5)
  return hello.subarray(5)
}

/** Re-wraps a handshake message into TLS records of at most `size` bytes each. */
function records(handshake: Buffer, size: number): Buffer {
  const parts: Buffer[] = []
  for (let at = 0; at < handshake.length; at += size) {
    const fragment = handshake.subarray(at, at + size)
    const header = Buffer.from([22, 3, 1, 0, 0])
    header.writeUInt16BE(fragment.length, 3)
    parts.push(header, fragment)
  }
  return Buffer.concat(parts)
}

/** Appends a padding extension (type 21) of `size` bytes to a ClientHello handshake message. */
function withPadding(handshake: Buffer, size: number): Buffer {
  const body = handshake.subarray(4)
  // Walk to the extensions block: version+random, session id, cipher suites, compression.
  let at = 34
  at += 1 + body[at]!
  at += 2 + body.readUInt16BE(at)
  at += 1 + body[at]!
  const extensionsLength = body.readUInt16BE(at)
  const padding = Buffer.alloc(4 + size)
  padding.writeUInt16BE(21, 0)
  padding.writeUInt16BE(size, 2)
  const newBody = Buffer.concat([body.subarray(0, at), Buffer.from([0, 0]), body.subarray(at + 2), padding])
  newBody.writeUInt16BE(extensionsLength + padding.length, at)
  const header = Buffer.from([1, 0, 0, 0])
  header.writeUIntBE(newBody.length, 1, 3)
  return Buffer.concat([header, newBody])
}

describe('parseClientHello on real hellos from Node tls.connect', () => {
  it('finds the SNI of a TLS 1.3 and a TLS 1.2 hello', () => {
    expect(parseClientHello(tls13)).toEqual({ kind: 'sni', name: 'registry-vpc.cn-hangzhou.aliyuncs.com' })
    expect(parseClientHello(tls12)).toEqual({ kind: 'sni', name: 'dockerauth-vpc.cn-beijing.aliyuncs.com' })
  })

  it('lowercases the name', () => {
    expect(parseClientHello(upper)).toEqual({ kind: 'sni', name: 'myinst-registry-vpc.cn-shanghai.cr.aliyuncs.com' })
  })

  it('reports a hello without server_name as no-sni', () => {
    expect(parseClientHello(noSni)).toEqual({ kind: 'no-sni' })
  })

  it('reads a hello larger than one TCP segment', () => {
    expect(large.length).toBeGreaterThan(1460)
    expect(parseClientHello(large)).toEqual({ kind: 'sni', name: 'cri-abc123-registry.oss-cn-hangzhou-internal.aliyuncs.com' })
  })

  it('gives the same SNI for every split point: need-more before, the name after', () => {
    for (const hello of [tls13, large]) {
      const expected = parseClientHello(hello)
      for (let cut = 0; cut < hello.length; cut++) {
        expect(parseClientHello(hello.subarray(0, cut))).toEqual({ kind: 'need-more' })
      }
      // What follows the hello (the client's next bytes) does not change the answer.
      expect(parseClientHello(Buffer.concat([hello, Buffer.from([23, 3, 3, 0, 1, 0])]))).toEqual(expected)
    }
  })

  it('reads a hello split over many TLS records, at every record size', () => {
    const handshake = handshakeOf(tls13)
    for (let size = 1; size <= handshake.length; size += 1) {
      const split = records(handshake, size)
      expect(parseClientHello(split)).toEqual({ kind: 'sni', name: 'registry-vpc.cn-hangzhou.aliyuncs.com' })
    }
  })

  it('reads a 40 KiB hello spread over three full records, and refuses one over 64 KiB', () => {
    const big = withPadding(handshakeOf(tls13), 40 * 1024)
    const split = records(big, 16384)
    expect(split.length).toBeGreaterThan(40 * 1024)
    expect(parseClientHello(split)).toEqual({ kind: 'sni', name: 'registry-vpc.cn-hangzhou.aliyuncs.com' })
    expect(parseClientHello(split.subarray(0, 20000))).toEqual({ kind: 'need-more' })

    // A handshake message declaring 70,000 bytes (more than the extension block can even hold).
    const hugeMessage = Buffer.alloc(4 + 70_000)
    hugeMessage[0] = 1
    hugeMessage.writeUIntBE(70_000, 1, 3)
    const huge = records(hugeMessage, 16384)
    // Refused as soon as the declared length is seen, not after 64 KiB have been buffered.
    expect(parseClientHello(huge.subarray(0, 9))).toMatchObject({ kind: 'invalid' })
    expect(parseClientHello(huge)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('64 KiB') })
  })

  it('refuses what is not a ClientHello at the first byte that proves it', () => {
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n'))).toMatchObject({ kind: 'invalid' })
    expect(parseClientHello(Buffer.from([22]))).toEqual({ kind: 'need-more' })
    expect(parseClientHello(Buffer.from([22, 2]))).toMatchObject({ kind: 'invalid' })
    expect(parseClientHello(Buffer.from([0x80, 0x2e, 0x01]))).toMatchObject({ kind: 'invalid' }) // SSLv2 hello
    // A record longer than 2^14.
    expect(parseClientHello(Buffer.from([22, 3, 1, 0x40, 0x01]))).toMatchObject({ kind: 'invalid' })
    // A ServerHello (type 2) instead of a ClientHello.
    expect(parseClientHello(Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0]))).toMatchObject({ kind: 'invalid' })
  })

  it('refuses a name that is not a valid DNS name', () => {
    const handshake = Buffer.from(handshakeOf(tls13))
    const at = handshake.indexOf(Buffer.from('registry-vpc'))
    for (const bad of [' ', '#', '_', '\n', '\x00']) {
      const mutated = Buffer.from(handshake)
      mutated.write(bad, at + 3, 'latin1')
      expect(parseClientHello(records(mutated, 16384))).toEqual({ kind: 'invalid', reason: 'server name is not a valid DNS name' })
    }
  })

  it('refuses an IPv4 literal as a server name', () => {
    const name = 'registry-vpc.cn-hangzhou.aliyuncs.com'
    const handshake = Buffer.from(handshakeOf(tls13))
    const at = handshake.indexOf(Buffer.from(name))
    // Same length as the real name, so no length field changes: "10.1.2.3"-style, an all-digit last label.
    const numeric = '1'.repeat(name.length - 4) + '.2.3'
    handshake.write(numeric, at, 'latin1')
    expect(parseClientHello(records(handshake, 16384))).toMatchObject({ kind: 'invalid' })
  })
})

describe('parseClientHello properties', () => {
  it('never throws on random bytes, and needs no more than 64 KiB to decide', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const result = parseClientHello(Buffer.from(bytes))
        expect(['need-more', 'sni', 'no-sni', 'invalid']).toContain(result.kind)
      }),
      { numRuns: 2000 },
    )
    expect(parseClientHello(Buffer.concat([Buffer.from([22, 3, 1, 0x40, 0]), Buffer.alloc(maxClientHelloBytes)]))).toMatchObject({ kind: 'invalid' })
  })

  it('never throws on random bytes behind a plausible record header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 0xffff }), (bytes, length) => {
        const header = Buffer.from([22, 3, 1, 0, 0, 1, 0, 0, 0])
        header.writeUInt16BE(length, 3)
        header.writeUIntBE(Math.max(0, length - 4), 6, 3)
        parseClientHello(Buffer.concat([header, Buffer.from(bytes)]))
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on mutated real hellos, and a mutation outside the name keeps the name or refuses the hello', () => {
    const name = 'registry-vpc.cn-hangzhou.aliyuncs.com'
    const nameAt = tls13.indexOf(Buffer.from(name))
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: tls13.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: tls13.length }),
        (mutations, cut) => {
          const mutated = Buffer.from(tls13)
          for (const [at, value] of mutations) mutated[at] = value
          const result = parseClientHello(mutated.subarray(0, cut))
          expect(['need-more', 'sni', 'no-sni', 'invalid']).toContain(result.kind)
          if (result.kind === 'sni') {
            const touchesName = mutations.some(([at]) => at >= nameAt && at < nameAt + name.length)
            if (!touchesName) expect(result.name).toBe(name)
            expect(result.name).toMatch(/^[a-z0-9.-]+$/)
          }
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('gives the same answer however the bytes are split into records', () => {
    const handshake = handshakeOf(large)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16384 }), (size) => {
        expect(parseClientHello(records(handshake, size))).toEqual({ kind: 'sni', name: 'cri-abc123-registry.oss-cn-hangzhou-internal.aliyuncs.com' })
      }),
      { numRuns: 300 },
    )
  })
})
