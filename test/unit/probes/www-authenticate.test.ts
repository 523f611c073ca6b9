import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bearerChallenge, parseWwwAuthenticate } from '../../../electron/core/probes/www-authenticate.js'

describe('parseWwwAuthenticate', () => {
  it('reads the distribution token challenge, with a comma inside the quoted scope', () => {
    const value = 'Bearer realm="https://dockerauth-vpc.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:26842",scope="repository:ns/app:pull,push"'
    expect(parseWwwAuthenticate(value)).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://dockerauth-vpc.cn-beijing.aliyuncs.com/auth',
          service: 'registry.aliyuncs.com:cn-beijing:26842',
          scope: 'repository:ns/app:pull,push',
        },
      },
    ])
  })

  it.each([
    ['spaces around = and after commas', 'Bearer realm = "https://a.example/token" ,  service= "svc"', { realm: 'https://a.example/token', service: 'svc' }],
    ['unquoted token values', 'Bearer realm="https://a.example/t",service=registry.example', { realm: 'https://a.example/t', service: 'registry.example' }],
    ['escaped quotes and backslashes', 'Bearer realm="https://a.example/t",error_description="say \\"hi\\", a\\\\b"', { realm: 'https://a.example/t', error_description: 'say "hi", a\\b' }],
    ['upper-case parameter names (lower-cased)', 'BEARER Realm="https://a.example/t",SERVICE="s"', { realm: 'https://a.example/t', service: 's' }],
    ['a repeated parameter: the first wins', 'Bearer realm="https://first.example/t",realm="https://second.example/t"', { realm: 'https://first.example/t' }],
    ['an = inside a quoted value', 'Bearer realm="https://a.example/t?x=1&y=2",service="s"', { realm: 'https://a.example/t?x=1&y=2', service: 's' }],
  ])('%s', (_label, value, params) => {
    const [challenge] = parseWwwAuthenticate(value)
    expect(challenge?.scheme).toBe('bearer')
    expect(challenge?.params).toEqual(params)
  })

  it('splits several challenges in one value, and keeps repeated header values apart', () => {
    const joined = 'Basic realm="acr, the registry", Bearer realm="https://auth.example/token",service="reg", Negotiate abc123=='
    const challenges = parseWwwAuthenticate(joined)
    expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate'])
    expect(challenges[0]?.params).toEqual({ realm: 'acr, the registry' })
    expect(challenges[1]?.params).toEqual({ realm: 'https://auth.example/token', service: 'reg' })
    expect(challenges[2]?.token68).toBe('abc123==')
    expect(parseWwwAuthenticate(['Basic realm="x"', 'Bearer realm="https://y.example/t"']).map((c) => c.scheme)).toEqual(['basic', 'bearer'])
  })

  it('reads token68 forms, with and without padding', () => {
    expect(parseWwwAuthenticate('Basic dXNlcjpwYXNz')).toEqual([{ scheme: 'basic', params: {}, token68: 'dXNlcjpwYXNz' }])
    expect(parseWwwAuthenticate('Negotiate abc=')[0]?.token68).toBe('abc=')
  })

  it('never throws on garbage, and returns nothing for nothing', () => {
    for (const value of ['', ',,,', '"', '=', 'Bearer realm="unterminated', '\u0000\u00ff', 'Bearer ,,, realm="x"', '===']) {
      expect(() => parseWwwAuthenticate(value)).not.toThrow()
    }
    expect(parseWwwAuthenticate(undefined)).toEqual([])
    expect(parseWwwAuthenticate('')).toEqual([])
    expect(parseWwwAuthenticate('Bearer realm="unterminated')[0]?.params['realm']).toBe('unterminated')
  })
})

describe('bearerChallenge', () => {
  it('takes the first Bearer challenge that has a realm', () => {
    expect(bearerChallenge(['Basic realm="r"', 'Bearer error="invalid_token"', 'Bearer realm="https://auth.example/t",service="s",scope="a:b:pull"'])).toEqual({
      realm: 'https://auth.example/t',
      service: 's',
      scope: 'a:b:pull',
    })
  })

  it('is undefined without a Bearer realm', () => {
    expect(bearerChallenge('Basic realm="registry"')).toBeUndefined()
    expect(bearerChallenge('Bearer realm=""')).toBeUndefined()
    expect(bearerChallenge(undefined)).toBeUndefined()
  })
})

describe('parseWwwAuthenticate (properties)', () => {
  const paramName = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/)
  const value = fc.string({ unit: fc.constantFrom(...' ,;="\\/:=abcXYZ019-_.'.split('')), maxLength: 24 })
  const quoted = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`

  it('gives back every parameter of a rendered challenge, whatever its printable value holds', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(paramName, value), { selector: ([k]) => k, minLength: 1, maxLength: 6 }), (params) => {
        const header = `Bearer ${params.map(([k, v]) => `${k}=${quoted(v)}`).join(', ')}`
        const [challenge] = parseWwwAuthenticate(header)
        expect(challenge?.params).toEqual(Object.fromEntries(params))
      }),
      { numRuns: 300 },
    )
  })

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => void parseWwwAuthenticate(text)), { numRuns: 500 })
  })
})
