import { describe, expect, it } from 'vitest'
import { compileAllowList } from '../../../electron/core/relay/allow-list.js'
import { checkProxyAuthorization, connectPorts, judgeAddresses, judgeName } from '../../../electron/core/relay/policy.js'

const allow = compileAllowList(['*.aliyuncs.com'])
const v4 = (address: string) => ({ address, family: 4 })
const v6 = (address: string) => ({ address, family: 6 })

describe('judgeName', () => {
  it.each([
    ['registry-vpc.cn-beijing.aliyuncs.com', { ok: true, value: 'registry-vpc.cn-beijing.aliyuncs.com' }],
    ['evil.example.com', { ok: false, reason: 'not-allowed' }],
    ['aliyuncs.com', { ok: false, reason: 'not-allowed' }],
    ['0x7f000001', { ok: false, reason: 'ip-literal' }],
    ['127.0.0.1', { ok: false, reason: 'ip-literal' }],
    ['a.b.0x64646464', { ok: false, reason: 'ip-literal' }],
  ])('%s', (name, verdict) => {
    expect(judgeName(name, allow)).toEqual(verdict)
  })
})

describe('judgeAddresses', () => {
  it('passes ordinary answers on in the resolver order, OSS VIPs in 100.64.0.0/10 included', () => {
    expect(judgeAddresses([v4('100.118.58.1'), v4('10.0.0.7'), v6('2408:4000::1')])).toEqual({
      ok: true,
      value: ['100.118.58.1', '10.0.0.7', '2408:4000::1'],
    })
  })
  it.each([
    [[v4('127.0.0.1')], 'resolves-to-loopback'],
    [[v6('::ffff:127.0.0.1')], 'resolves-to-loopback'],
    [[v4('100.118.58.1'), v4('100.100.100.200')], 'resolves-to-metadata'],
    [[v4('169.254.169.254')], 'resolves-to-link-local'],
    [[v6('fe80::1')], 'resolves-to-link-local'],
    [[v4('0.0.0.0')], 'resolves-to-unspecified'],
    [[v6('::')], 'resolves-to-unspecified'],
    [[v4('224.0.0.1')], 'resolves-to-multicast'],
    [[v4('255.255.255.255')], 'resolves-to-broadcast'],
    [[v4('10.0.0.1'), v4('not-an-address')], 'resolves-to-invalid'],
    [[], 'resolve-failed'],
  ])('%j → %s (one bad answer refuses the name)', (answers, reason) => {
    expect(judgeAddresses(answers)).toEqual({ ok: false, reason })
  })
  it('lets through exactly the loopback addresses the predicate allows, nothing else', () => {
    const only = (address: string) => address === '127.0.0.2'
    expect(judgeAddresses([v4('127.0.0.2')], only)).toEqual({ ok: true, value: ['127.0.0.2'] })
    expect(judgeAddresses([v4('127.0.0.2'), v4('127.0.0.1')], only)).toEqual({ ok: false, reason: 'resolves-to-loopback' })
    expect(judgeAddresses([v4('100.100.100.200')], () => true)).toEqual({ ok: false, reason: 'resolves-to-metadata' })
  })
})

describe('checkProxyAuthorization', () => {
  const token = 'correct-horse-battery-staple'
  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`
  it.each([
    [undefined, 'auth-missing'],
    ['', 'auth-missing'],
    ['   ', 'auth-missing'],
    [basic(`relay:${token}`), 'ok'],
    [basic(`:${token}`), 'ok'],
    [basic(`anything-at-all:${token}`), 'ok'],
    [`basic ${Buffer.from(`u:${token}`).toString('base64')}`, 'ok'],
    [`Bearer ${token}`, 'ok'],
    [`bearer ${token}`, 'ok'],
    [basic(`relay:${token}x`), 'auth-failed'],
    [basic(`relay:${token.slice(0, -1)}`), 'auth-failed'],
    [basic(token), 'auth-failed'],
    [basic(`${token}:x`), 'auth-failed'],
    [`Bearer ${token.toUpperCase()}`, 'auth-failed'],
    [`Bearer`, 'auth-failed'],
    [`Digest ${token}`, 'auth-failed'],
    [`Basic !!notbase64!!`, 'auth-failed'],
    [`Bearer ${token} extra`, 'auth-failed'],
  ])('%s → %s', (value, verdict) => {
    expect(checkProxyAuthorization(value, token)).toBe(verdict)
  })
})

describe('connectPorts', () => {
  it('is exactly 443 and 80', () => {
    expect([...connectPorts].sort((a, b) => a - b)).toEqual([80, 443])
  })
})
