import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { validateHostName } from '../../../electron/core/config/host-name.js'

const shellMeta = /[\s#"'`$;|&<>()\\*?!{}[\]~^%=,:@/]/

describe('validateHostName', () => {
  it.each([
    'registry-vpc.cn-beijing.aliyuncs.com',
    'aliregistry.oss-cn-hangzhou.aliyuncs.com',
    'cri-r0xfyoxudmtseqq7-registry.oss-cn-hangzhou-internal.aliyuncs.com',
    'Registry.CN-Beijing.AliyunCS.com',
    'localhost',
    '1password.example.com',
    'xn--fsqu00a.xn--0zwm56d',
    `${'a'.repeat(63)}.example.com`,
    [...Array(4)].map(() => 'a'.repeat(61)).join('.').slice(0, 253).replace(/\.$/, 'a'),
  ])('accepts %s', (name) => {
    expect(validateHostName(name)).toBeUndefined()
  })

  it.each([
    ['', /empty/],
    ['a b.com', /whitespace/],
    ['a\tb.com', /whitespace/],
    ['a.com\n127.0.0.1 evil.com', /line break/],
    ['a.com\r', /line break/],
    ['a\u0000.com', /NUL/],
    ['a\u0007.com', /control/],
    ['a#b.com', /"#"/],
    ['a;b.com', /";"/],
    ['$(reboot).com', /"\$"/],
    ['`id`.com', /backtick/],
    ['"a".com', /double quote/],
    ["'a'.com", /single quote/],
    ['a|b.com', /"\|"/],
    ['a&b.com', /"&"/],
    ['a<b>.com', /"<"/],
    ['(a).com', /"\("/],
    ['a\\b.com', /backslash/],
    ['a_b.com', /"_"/],
    ['*.aliyuncs.com', /"\*"/],
    ['a/b.com', /"\/"/],
    ['\u0430liyuncs.com', /non-ASCII character U\+0430/],
    ['a\u00a0b.com', /whitespace/],
    ['a\u2028b.com', /whitespace|non-ASCII/],
    ['a.com.', /ends with a dot/],
    ['.a.com', /empty label/],
    ['a..com', /empty label/],
    ['-a.com', /hyphen/],
    ['a-.com', /hyphen/],
    [`${'a'.repeat(64)}.com`, /longer than 63/],
    [`${'a.'.repeat(127)}ab`, /longer than 253/],
    ['10.0.0.1', /IP address/],
    ['127.1', /IP address/],
    ['0x7f.1', /IP address/],
    ['4294967295', /IP address/],
    ['example.123', /IP address/],
    ['::1', /":"/],
    ['[::1]', /"\["/],
  ])('refuses %j', (name, problem) => {
    expect(validateHostName(name)).toMatch(problem)
  })

  it('says what is wrong without repeating the name', () => {
    expect(validateHostName('evil;name.com')).not.toContain('evil')
  })

  it('property: anything accepted is plain ASCII letters, digits, dots and hyphens, with no shell metacharacter', () => {
    const alphabet = 'aZ09.-_ ;$`\'"#|&<>()\\\n\r\t\u0000\u0430é*:/@'
    const nearNames = fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((chars) => chars.join(''))
    const anyString = fc.string({ unit: 'binary', maxLength: 300 })
    const dnsLike = fc
      .array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/), { minLength: 1, maxLength: 5 })
      .map((labels) => labels.join('.'))
    let accepted = 0
    fc.assert(
      fc.property(fc.oneof(nearNames, anyString, dnsLike), (name) => {
        if (validateHostName(name) !== undefined) return
        accepted++
        expect(name).toMatch(/^[a-z0-9.-]+$/i)
        expect(name).not.toMatch(shellMeta)
        expect(name.length).toBeLessThanOrEqual(253)
        expect(name.split('.').every((label) => label.length >= 1 && label.length <= 63)).toBe(true)
      }),
      { numRuns: 1000 },
    )
    // the property must have been exercised on accepted names, not only on refusals
    expect(accepted).toBeGreaterThan(100)
  }, 60_000)

  it('property: every RFC 1123 name with a non-numeric last label is accepted', () => {
    const label = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/)
    fc.assert(
      fc.property(fc.array(label, { minLength: 0, maxLength: 3 }), fc.stringMatching(/^[a-zA-Z]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?$/), (labels, last) => {
        const name = [...labels, last].join('.')
        fc.pre(name.length <= 253)
        expect(validateHostName(name)).toBeUndefined()
      }),
      { numRuns: 500 },
    )
  }, 60_000)
})
