import { describe, expect, it } from 'vitest'
import type { CheckResult } from '../../../electron/common/status.js'
import type { HostEntry } from '../../../electron/core/catalog/types.js'
import { hostEntriesForConfig } from '../../../electron/core/catalog/host-entries.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import { fail, pass, sortChecks } from '../../../electron/core/probes/check-result.js'
import { nameRole, roleFromShape } from '../../../electron/core/probes/name-role.js'

const entry = (name: string): HostEntry => ({ address: '127.0.0.1', name, ports: [443], origins: [{ kind: 'extra' }] })

describe('pass / fail', () => {
  it('round the latency to 0.1 ms; a failure carries its hint', () => {
    expect(pass('a.example', 'tls', 'fine', 12.3456)).toEqual({ name: 'a.example', hop: 'tls', ok: true, reason: 'fine', latencyMs: 12.3 })
    expect(fail('a.example', 'oss', 'bad', 'do this')).toEqual({ name: 'a.example', hop: 'oss', ok: false, reason: 'bad', hint: 'do this' })
  })
})

describe('sortChecks', () => {
  it('tunnel checks first, then names in the order of the set, hops in pull order, other names last', () => {
    const entries = [entry('b.example'), entry('a.example')]
    const c = (name: string, hop: CheckResult['hop']): CheckResult => pass(name, hop, '')
    const sorted = sortChecks(
      [c('a.example', 'oss'), c('z.example', 'blob-covered'), c('b.example', 'realm-covered'), c('203.0.113.10:443', 'upstream'), c('a.example', 'resolve'), c('b.example', 'registry'), c('127.0.0.1:443', 'listener'), c('b.example', 'resolve')],
      entries,
    )
    expect(sorted.map((x) => `${x.name} ${x.hop}`)).toEqual([
      '127.0.0.1:443 listener',
      '203.0.113.10:443 upstream',
      'b.example resolve',
      'b.example registry',
      'b.example realm-covered',
      'a.example resolve',
      'a.example oss',
      'z.example blob-covered',
    ])
  })
})

describe('nameRole', () => {
  it('from the catalog origin of each name', () => {
    const config = parseConfig({
      regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal', 'pe-bucket-internal'] }],
      instances: [{ name: 'myinst', region: 'cn-hangzhou', network: 'vpc', instanceId: 'cri-abc123', chart: true }],
      personalInstances: [{ id: 'x1', region: 'cn-shanghai', network: 'vpc' }],
      tunnel: { mode: 'sni', host: '203.0.113.10' },
    })
    const roles = Object.fromEntries(hostEntriesForConfig(config).map((e) => [e.name, nameRole(e)]))
    expect(roles).toMatchObject({
      'registry-vpc.cn-beijing.aliyuncs.com': 'registry',
      'dockerauth-vpc.cn-beijing.aliyuncs.com': 'auth',
      'oss-cn-beijing-internal.aliyuncs.com': 'oss',
      'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com': 'oss',
      'myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com': 'registry',
      'cri-abc123-registry.oss-cn-hangzhou-internal.aliyuncs.com': 'oss',
      'myinst-chart-vpc.cn-hangzhou.cr.aliyuncs.com': 'other',
      'crpi-x1-vpc.cn-shanghai.personal.cr.aliyuncs.com': 'registry',
    })
  })

  it.each([
    ['dockerauth.cn-zhangjiakou.aliyuncs.com', 'auth'],
    ['dockerauth-cn-guangzhou.aliyuncs.com', 'auth'],
    ['mybucket.oss-cn-beijing-internal.aliyuncs.com', 'oss'],
    ['oss-accelerate.aliyuncs.com', 'oss'],
    ['registry.cn-hangzhou.aliyuncs.com', 'registry'],
    ['team-registry-vpc.cn-beijing.cr.aliyuncs.com', 'registry'],
    ['crpi-abc.cn-guangzhou.personal.cr.aliyuncs.com', 'registry'],
    ['cdn.example.com', 'other'],
  ])('extraHosts %s → %s', (name, role) => expect(roleFromShape(name)).toBe(role))
})
