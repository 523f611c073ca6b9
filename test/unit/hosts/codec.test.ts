import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeHosts, describeEncoding, encodeHosts } from '../../../electron/core/hosts/codec.js'

const boms = [[], [0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff]]

describe('hosts codec', () => {
  it('decode then encode gives back the exact bytes for any input, BOM or not', () => {
    fc.assert(
      fc.property(fc.constantFrom(...boms), fc.uint8Array({ maxLength: 512 }), (bom, body) => {
        const bytes = Buffer.concat([Buffer.from(bom), Buffer.from(body)])
        const decoded = decodeHosts(bytes)
        expect(encodeHosts(decoded.text, decoded.encoding).equals(bytes)).toBe(true)
      }),
      { numRuns: 5000 },
    )
  })

  it('round-trips any UTF-16 text, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.constantFrom<'utf16le' | 'utf16be'>('utf16le', 'utf16be'), fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 100 }).map((units) => String.fromCharCode(...units)), (charset, text) => {
        const bytes = encodeHosts(text, { charset, bom: true })
        const decoded = decodeHosts(bytes)
        expect(decoded.encoding).toEqual({ charset, bom: true })
        expect(decoded.text).toBe(text)
      }),
      { numRuns: 2000 },
    )
  })

  it('detects each encoding from the bytes', () => {
    expect(decodeHosts(Buffer.from('127.0.0.1 a\n')).encoding).toEqual({ charset: 'utf8', bom: false })
    expect(decodeHosts(Buffer.from('\uFEFF127.0.0.1 a\n')).encoding).toEqual({ charset: 'utf8', bom: true })
    expect(decodeHosts(Buffer.from('\uFEFF127.0.0.1 a\n')).text).toBe('127.0.0.1 a\n')
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('# 中文\r\n', 'utf16le')])
    expect(decodeHosts(utf16)).toEqual({ encoding: { charset: 'utf16le', bom: true }, text: '# 中文\r\n' })
    const be = Buffer.from('# x\n', 'utf16le').swap16()
    expect(decodeHosts(Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toEqual({ encoding: { charset: 'utf16be', bom: true }, text: '# x\n' })
    // A GBK/ANSI comment is not UTF-8: read byte for byte.
    const gbk = Buffer.from([0x23, 0x20, 0xd6, 0xd0, 0x0a])
    expect(decodeHosts(gbk)).toEqual({ encoding: { charset: 'latin1', bom: false }, text: '# \u00d6\u00d0\n' })
    // A UTF-8 BOM followed by invalid UTF-8 keeps the BOM apart from the text.
    const bomLatin = Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0xff])
    expect(decodeHosts(bomLatin)).toEqual({ encoding: { charset: 'latin1', bom: true }, text: 'A\u00ff' })
    // An odd-length "UTF-16" file is not UTF-16.
    expect(decodeHosts(Buffer.from([0xff, 0xfe, 0x41])).encoding).toEqual({ charset: 'latin1', bom: false })
  })

  it('appends ASCII to a UTF-16 file as UTF-16, never as raw ASCII bytes', () => {
    const encoding = { charset: 'utf16le', bom: true } as const
    const bytes = encodeHosts('a\r\n', encoding)
    expect([...bytes]).toEqual([0xff, 0xfe, 0x61, 0, 0x0d, 0, 0x0a, 0])
  })

  it('refuses (a bug) to put characters into a latin1 file that it cannot hold', () => {
    expect(() => encodeHosts('\u4e2d', { charset: 'latin1', bom: false })).toThrow(/latin1/)
  })

  it('describes encodings for messages', () => {
    expect(describeEncoding({ charset: 'utf16le', bom: true })).toBe('UTF-16 LE with BOM')
    expect(describeEncoding({ charset: 'utf8', bom: false })).toBe('UTF-8')
  })
})
