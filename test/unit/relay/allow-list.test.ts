import { describe, expect, it } from 'vitest'
import { compileAllowList, defaultAllowPatterns, isAddressLiteral } from '../../../electron/core/relay/allow-list.js'
import { isBridgeError } from '../../../electron/core/errors.js'
import { normalizeDnsName } from '../../../electron/core/tunnel/dns-name.js'

function allowed(patterns: readonly string[], raw: string): boolean {
  const name = normalizeDnsName(raw)
  return name !== undefined && compileAllowList(patterns).matches(name)
}

describe('compileAllowList', () => {
  it('defaults to *.aliyuncs.com', () => {
    expect(defaultAllowPatterns).toEqual(['*.aliyuncs.com'])
    expect(compileAllowList().patterns).toEqual(['*.aliyuncs.com'])
  })

  const table: readonly (readonly [string, string, boolean])[] = [
    ['*.aliyuncs.com', 'registry-vpc.cn-beijing.aliyuncs.com', true],
    ['*.aliyuncs.com', 'a.aliyuncs.com', true],
    ['*.aliyuncs.com', 'cri-abc-registry.oss-cn-hangzhou-internal.aliyuncs.com', true],
    ['*.aliyuncs.com', 'REGISTRY-VPC.CN-BEIJING.ALIYUNCS.COM', true],
    ['*.aliyuncs.com', 'registry-vpc.cn-beijing.aliyuncs.com.', true],
    ['*.aliyuncs.com', 'aliyuncs.com', false],
    ['*.aliyuncs.com', 'evilaliyuncs.com', false],
    ['*.aliyuncs.com', 'aliyuncs.com.evil.example.com', false],
    ['*.aliyuncs.com', 'evil.example.com', false],
    ['*.aliyuncs.com', 'aliyuncs.co', false],
    ['*.ALIYUNCS.com', 'x.aliyuncs.com', true],
    ['*.cr.aliyuncs.com', 'myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com', true],
    ['*.cr.aliyuncs.com', 'registry-vpc.cn-hangzhou.aliyuncs.com', false],
    ['registry-vpc.cn-beijing.aliyuncs.com', 'registry-vpc.cn-beijing.aliyuncs.com', true],
    ['registry-vpc.cn-beijing.aliyuncs.com', 'Registry-VPC.cn-beijing.aliyuncs.com.', true],
    ['registry-vpc.cn-beijing.aliyuncs.com', 'x.registry-vpc.cn-beijing.aliyuncs.com', false],
    ['registry-vpc.cn-beijing.aliyuncs.com', 'registry-vpc.cn-hangzhou.aliyuncs.com', false],
    ['registry-vpc.cn-beijing.aliyuncs.com.', 'registry-vpc.cn-beijing.aliyuncs.com', true],
  ]
  it.each(table)('%s vs %s → %s', (pattern, name, expected) => {
    expect(allowed([pattern], name)).toBe(expected)
  })

  it('matches when any pattern matches', () => {
    const list = compileAllowList(['registry-vpc.cn-beijing.aliyuncs.com', '*.oss-cn-beijing-internal.aliyuncs.com'])
    expect(list.matches('registry-vpc.cn-beijing.aliyuncs.com')).toBe(true)
    expect(list.matches('aliregistry.oss-cn-beijing-internal.aliyuncs.com')).toBe(true)
    expect(list.matches('dockerauth-vpc.cn-beijing.aliyuncs.com')).toBe(false)
  })

  const bad: readonly (readonly [readonly string[], string])[] = [
    [[], 'allow'],
    [['*'], 'allow[0]'],
    [['*.com'], 'allow[0]'],
    [['*.aliyuncs.com', 'a.*.aliyuncs.com'], 'allow[1]'],
    [['**.aliyuncs.com'], 'allow[0]'],
    [['10.0.0.1'], 'allow[0]'],
    [['::1'], 'allow[0]'],
    [['*.0.0.1'], 'allow[0]'],
    [['bad name.com'], 'allow[0]'],
    [['evil.com\nx'], 'allow[0]'],
    [[''], 'allow[0]'],
  ]
  it.each(bad)('refuses %j naming %s', (patterns, field) => {
    let caught: unknown
    try {
      compileAllowList(patterns)
    } catch (error) {
      caught = error
    }
    expect(isBridgeError(caught, 'INVALID_CONFIG')).toBe(true)
    expect(caught).toMatchObject({ field })
    expect((caught as { hint?: string }).hint).toBeTruthy()
  })
})

describe('isAddressLiteral', () => {
  it.each([
    ['127.0.0.1', true],
    ['100.100.100.200', true],
    ['::1', true],
    ['[::1]', true],
    ['fe80::1%eth0', true],
    ['2130706433', true],
    ['0x7f.1', true],
    ['127.1', true],
    ['1.2.3.4.', true],
    ['registry-vpc.cn-beijing.aliyuncs.com', false],
    ['1password.com', false],
    ['x.0xfoo.com', false],
  ])('%s → %s', (text, expected) => {
    expect(isAddressLiteral(text)).toBe(expected)
  })
})
