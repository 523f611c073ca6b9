import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dominantLineEnding, parseHosts, parseMappingLine, serializeHosts } from '../../../electron/core/hosts/document.js'

describe('hosts document', () => {
  it('serialize(parse(text)) is the text, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '#', '\r', '\n', '\t', 'é') , maxLength: 200 }), (text) => {
        expect(serializeHosts(parseHosts(text))).toBe(text)
      }),
      { numRuns: 3000 },
    )
  })

  it('keeps each line terminator, lone CR included, and no terminator at EOF', () => {
    expect(parseHosts('a\r\nb\nc\rd').lines).toEqual([
      { text: 'a', eol: '\r\n' },
      { text: 'b', eol: '\n' },
      { text: 'c', eol: '\r' },
      { text: 'd', eol: '' },
    ])
    expect(parseHosts('').lines).toEqual([])
    expect(parseHosts('\n').lines).toEqual([{ text: '', eol: '\n' }])
  })

  it('picks the majority line ending, else the platform one', () => {
    expect(dominantLineEnding(parseHosts('a\r\nb\r\nc\n'), 'linux')).toBe('\r\n')
    expect(dominantLineEnding(parseHosts('a\r\nb\nc\n'), 'win32')).toBe('\n')
    expect(dominantLineEnding(parseHosts(''), 'win32')).toBe('\r\n')
    expect(dominantLineEnding(parseHosts(''), 'darwin')).toBe('\n')
    expect(dominantLineEnding(parseHosts('a\r\nb\n'), 'linux')).toBe('\n')
    expect(dominantLineEnding(parseHosts('a\rb\r'), 'win32')).toBe('\r\n')
  })

  it('reads mapping lines as resolvers do', () => {
    expect(parseMappingLine('127.0.0.1\tlocalhost  Foo.Example # c')).toEqual({ address: '127.0.0.1', names: ['localhost', 'foo.example'] })
    expect(parseMappingLine('  ::1 ip6-localhost')).toEqual({ address: '::1', names: ['ip6-localhost'] })
    expect(parseMappingLine('# 127.0.0.1 a')).toBeUndefined()
    expect(parseMappingLine('127.0.0.1#a b')).toBeUndefined()
    expect(parseMappingLine('127.0.0.1')).toBeUndefined()
    expect(parseMappingLine('myhost a.b')).toBeUndefined()
    expect(parseMappingLine('')).toBeUndefined()
  })
})
