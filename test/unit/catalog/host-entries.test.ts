import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { endpointKinds, hostEntriesForConfig, regions } from '../../../electron/core/catalog/index.js'
import { validateHostName } from '../../../electron/core/config/host-name.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import type { Config, EndpointKind } from '../../../electron/core/config/types.js'
import { isBridgeError } from '../../../electron/core/errors.js'

const tunnel = { mode: 'sni', host: '203.0.113.10' } as const

function entriesFor(partial: Record<string, unknown>) {
  return hostEntriesForConfig(parseConfig({ tunnel, ...partial }))
}

function names(partial: Record<string, unknown>): string[] {
  return entriesFor(partial).map((e) => e.name)
}

function entry(partial: Record<string, unknown>, name: string) {
  const found = entriesFor(partial).find((e) => e.name === name)
  if (found === undefined) throw new Error(`${name} not yielded`)
  return found
}

describe('hostEntriesForConfig: region kinds', () => {
  it('cn-beijing VPC defaults are exactly the three names of the article', () => {
    const entries = entriesFor({ regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }] })
    expect(entries).toEqual([
      { address: '127.0.0.1', name: 'registry-vpc.cn-beijing.aliyuncs.com', ports: [443], origins: [{ kind: 'region', region: 'cn-beijing', endpoint: 'registry-vpc' }] },
      { address: '127.0.0.1', name: 'dockerauth-vpc.cn-beijing.aliyuncs.com', ports: [443], origins: [{ kind: 'region', region: 'cn-beijing', endpoint: 'dockerauth-vpc' }] },
      { address: '127.0.0.1', name: 'oss-cn-beijing-internal.aliyuncs.com', ports: [443], origins: [{ kind: 'region', region: 'cn-beijing', endpoint: 'oss-internal' }] },
    ])
    // the same when endpoints are left to their default
    expect(names({ regions: [{ id: 'cn-beijing' }] })).toEqual(entries.map((e) => e.name))
  })

  it('uses listen.address as the address of every entry', () => {
    const entries = entriesFor({ regions: [{ id: 'cn-beijing' }], listen: { address: '10.254.254.254' }, extraHosts: ['a.example.com'] })
    expect(entries.map((e) => e.address)).toEqual(['10.254.254.254', '10.254.254.254', '10.254.254.254', '10.254.254.254'])
  })

  it('names the Hangzhou Personal Edition bucket plain "aliregistry", on port 80', () => {
    expect(entriesFor({ regions: [{ id: 'cn-hangzhou', endpoints: ['pe-bucket'] }] })).toEqual([
      { address: '127.0.0.1', name: 'aliregistry.oss-cn-hangzhou.aliyuncs.com', ports: [80], origins: [{ kind: 'region', region: 'cn-hangzhou', endpoint: 'pe-bucket' }] },
    ])
    const internal = entry({ regions: [{ id: 'cn-hangzhou', endpoints: ['pe-bucket-internal'] }] }, 'aliregistry.oss-cn-hangzhou-internal.aliyuncs.com')
    expect(internal.ports).toEqual([80])
    expect(internal.unconfirmed).toBeTruthy()
    expect(names({ regions: [{ id: 'ap-southeast-1', endpoints: ['pe-bucket'] }] })).toEqual(['aliregistry-ap-southeast-1.oss-ap-southeast-1.aliyuncs.com'])
  })

  it('adds the hyphenated auth host for Zhangjiakou (confirmed) and marks it unconfirmed elsewhere', () => {
    expect(names({ regions: [{ id: 'cn-zhangjiakou', endpoints: ['dockerauth'] }] })).toEqual([
      'dockerauth.cn-zhangjiakou.aliyuncs.com',
      'dockerauth-cn-zhangjiakou.aliyuncs.com',
    ])
    expect(entry({ regions: [{ id: 'cn-zhangjiakou', endpoints: ['dockerauth'] }] }, 'dockerauth-cn-zhangjiakou.aliyuncs.com').unconfirmed).toBeUndefined()
    expect(entry({ regions: [{ id: 'cn-zhangjiakou', endpoints: ['dockerauth-hyphen'] }] }, 'dockerauth-cn-zhangjiakou.aliyuncs.com').unconfirmed).toBeUndefined()
    expect(entry({ regions: [{ id: 'cn-beijing', endpoints: ['dockerauth-hyphen'] }] }, 'dockerauth-cn-beijing.aliyuncs.com').unconfirmed).toBeTruthy()
    expect(names({ regions: [{ id: 'cn-beijing', endpoints: ['dockerauth'] }] })).toEqual(['dockerauth.cn-beijing.aliyuncs.com'])
  })

  it('adds Hangzhou auth for Shanghai: confirmed public, unconfirmed VPC', () => {
    const publicEntries = entriesFor({ regions: [{ id: 'cn-shanghai', endpoints: ['dockerauth'] }] })
    expect(publicEntries.map((e) => [e.name, e.unconfirmed])).toEqual([
      ['dockerauth.cn-shanghai.aliyuncs.com', undefined],
      ['dockerauth.cn-hangzhou.aliyuncs.com', undefined],
    ])
    expect(publicEntries[1]?.origins).toEqual([{ kind: 'region', region: 'cn-shanghai', endpoint: 'dockerauth' }])
    const vpcEntries = entriesFor({ regions: [{ id: 'cn-shanghai', endpoints: ['dockerauth-vpc'] }] })
    expect(vpcEntries.map((e) => e.name)).toEqual(['dockerauth-vpc.cn-shanghai.aliyuncs.com', 'dockerauth-vpc.cn-hangzhou.aliyuncs.com'])
    expect(vpcEntries[0]?.unconfirmed).toBeUndefined()
    expect(vpcEntries[1]?.unconfirmed).toMatch(/cn-hangzhou/)
  })

  it('yields every kind for a region in catalog order, whatever order the config lists them', () => {
    const reversed = [...endpointKinds].reverse().map((k) => k.kind)
    expect(names({ regions: [{ id: 'cn-chengdu', endpoints: reversed }] })).toEqual([
      'registry.cn-chengdu.aliyuncs.com',
      'registry-vpc.cn-chengdu.aliyuncs.com',
      'registry-intl.cn-chengdu.aliyuncs.com',
      'registry-intl-vpc.cn-chengdu.aliyuncs.com',
      'registry-internal.cn-chengdu.aliyuncs.com',
      'dockerauth.cn-chengdu.aliyuncs.com',
      'dockerauth-vpc.cn-chengdu.aliyuncs.com',
      'dockerauth-cn-chengdu.aliyuncs.com',
      'dockerauth-ee.cn-chengdu.aliyuncs.com',
      'dockerauth-ee-vpc.cn-chengdu.aliyuncs.com',
      'oss-cn-chengdu.aliyuncs.com',
      'oss-cn-chengdu-internal.aliyuncs.com',
      'aliregistry-cn-chengdu.oss-cn-chengdu.aliyuncs.com',
      'aliregistry-cn-chengdu.oss-cn-chengdu-internal.aliyuncs.com',
    ])
  })

  it('uses the OSS region name of Hangzhou finance and marks finance OSS hosts unconfirmed', () => {
    const e = entry({ regions: [{ id: 'cn-hangzhou-finance', endpoints: ['oss-internal'] }] }, 'oss-cn-hzfinance-internal.aliyuncs.com')
    expect(e.unconfirmed).toBeTruthy()
    expect(entry({ regions: [{ id: 'cn-shenzhen-finance-1', endpoints: ['registry-vpc'] }] }, 'registry-vpc.cn-shenzhen-finance-1.aliyuncs.com').unconfirmed).toBeUndefined()
  })
})

describe('hostEntriesForConfig: instances', () => {
  it('Enterprise Edition over VPC, with instance id and chart', () => {
    const entries = entriesFor({ instances: [{ name: 'myinst', region: 'cn-hangzhou', network: 'vpc', instanceId: 'cri-r0xfyoxudmtseqq7', chart: true }] })
    expect(entries.map((e) => [e.name, e.ports, e.unconfirmed !== undefined, e.origins[0]])).toEqual([
      ['myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com', [443], false, { kind: 'enterprise', region: 'cn-hangzhou', instance: 'myinst', role: 'registry' }],
      ['dockerauth-ee-vpc.cn-hangzhou.aliyuncs.com', [443], true, { kind: 'enterprise', region: 'cn-hangzhou', instance: 'myinst', role: 'auth' }],
      ['dockerauth-vpc.cn-hangzhou.aliyuncs.com', [443], false, { kind: 'enterprise', region: 'cn-hangzhou', instance: 'myinst', role: 'auth' }],
      ['cri-r0xfyoxudmtseqq7-registry.oss-cn-hangzhou-internal.aliyuncs.com', [443], false, { kind: 'enterprise', region: 'cn-hangzhou', instance: 'myinst', role: 'bucket' }],
      ['myinst-chart-vpc.cn-hangzhou.cr.aliyuncs.com', [443], true, { kind: 'enterprise', region: 'cn-hangzhou', instance: 'myinst', role: 'chart' }],
    ])
  })

  it('Enterprise Edition over the internet; no bucket without an instance id, no chart unless asked', () => {
    expect(names({ instances: [{ name: 'higress', region: 'cn-hangzhou', network: 'internet' }] })).toEqual([
      'higress-registry.cn-hangzhou.cr.aliyuncs.com',
      'dockerauth-ee.cn-hangzhou.aliyuncs.com',
      'dockerauth.cn-hangzhou.aliyuncs.com',
    ])
    expect(names({ instances: [{ name: 'x1', region: 'cn-beijing', network: 'internet', instanceId: 'cri-abc', chart: true }] })).toEqual([
      'x1-registry.cn-beijing.cr.aliyuncs.com',
      'dockerauth-ee.cn-beijing.aliyuncs.com',
      'dockerauth.cn-beijing.aliyuncs.com',
      'cri-abc-registry.oss-cn-beijing.aliyuncs.com',
      'x1-chart.cn-beijing.cr.aliyuncs.com',
    ])
  })

  it('new Personal Edition (crpi) over VPC and internet, with their auth hosts marked as the facts allow', () => {
    const vpc = entriesFor({ personalInstances: [{ id: 'abc123', region: 'cn-shanghai', network: 'vpc' }] })
    expect(vpc.map((e) => [e.name, e.unconfirmed !== undefined])).toEqual([
      ['crpi-abc123-vpc.cn-shanghai.personal.cr.aliyuncs.com', false],
      ['dockerauth-vpc.cn-shanghai.aliyuncs.com', true],
    ])
    expect(vpc[0]?.origins).toEqual([{ kind: 'personal', region: 'cn-shanghai', instance: 'crpi-abc123', role: 'registry' }])
    const guangzhou = entriesFor({ personalInstances: [{ id: 'q1', region: 'cn-guangzhou', network: 'internet' }] })
    expect(guangzhou.map((e) => [e.name, e.unconfirmed !== undefined])).toEqual([
      ['crpi-q1.cn-guangzhou.personal.cr.aliyuncs.com', false],
      ['dockerauth-cn-guangzhou.aliyuncs.com', false],
      ['dockerauth.cn-guangzhou.aliyuncs.com', true],
    ])
    expect(entry({ personalInstances: [{ id: 'q1', region: 'cn-beijing', network: 'internet' }] }, 'dockerauth-cn-beijing.aliyuncs.com').unconfirmed).toBeTruthy()
  })
})

describe('hostEntriesForConfig: merging and order', () => {
  it('keeps config order: regions, instances, personal instances, extraHosts', () => {
    expect(
      names({
        extraHosts: ['z.example.com'],
        personalInstances: [{ id: 'p1', region: 'cn-beijing', network: 'vpc' }],
        instances: [{ name: 'ee', region: 'cn-qingdao', network: 'vpc' }],
        regions: [{ id: 'cn-shenzhen', endpoints: ['registry-vpc'] }, { id: 'cn-qingdao', endpoints: ['registry-vpc'] }],
      }),
    ).toEqual([
      'registry-vpc.cn-shenzhen.aliyuncs.com',
      'registry-vpc.cn-qingdao.aliyuncs.com',
      'ee-registry-vpc.cn-qingdao.cr.aliyuncs.com',
      'dockerauth-ee-vpc.cn-qingdao.aliyuncs.com',
      'dockerauth-vpc.cn-qingdao.aliyuncs.com',
      'crpi-p1-vpc.cn-beijing.personal.cr.aliyuncs.com',
      'dockerauth-vpc.cn-beijing.aliyuncs.com',
      'z.example.com',
    ])
  })

  it('merges a name asked for twice: first position, ports and origins merged, confirmed if any origin is', () => {
    const entries = entriesFor({
      regions: [{ id: 'cn-beijing', endpoints: ['dockerauth-vpc', 'pe-bucket'] }],
      personalInstances: [{ id: 'p1', region: 'cn-beijing', network: 'vpc' }],
      extraHosts: ['ALIREGISTRY-cn-beijing.oss-cn-beijing.aliyuncs.com', 'DockerAuth-VPC.cn-beijing.aliyuncs.com', 'dockerauth-vpc.cn-beijing.aliyuncs.com'],
    })
    expect(entries.map((e) => e.name)).toEqual([
      'dockerauth-vpc.cn-beijing.aliyuncs.com',
      'aliregistry-cn-beijing.oss-cn-beijing.aliyuncs.com',
      'crpi-p1-vpc.cn-beijing.personal.cr.aliyuncs.com',
    ])
    expect(entries[0]).toEqual({
      address: '127.0.0.1',
      name: 'dockerauth-vpc.cn-beijing.aliyuncs.com',
      ports: [443],
      origins: [
        { kind: 'region', region: 'cn-beijing', endpoint: 'dockerauth-vpc' },
        { kind: 'personal', region: 'cn-beijing', instance: 'crpi-p1', role: 'auth' },
        { kind: 'extra' },
      ],
    })
    expect(entries[1]?.ports).toEqual([80, 443])
  })

  it('stays unconfirmed only while every origin is, joining the distinct reasons', () => {
    const entries = entriesFor({
      regions: [{ id: 'cn-hangzhou', endpoints: ['dockerauth-ee-vpc'] }],
      instances: [{ name: 'a', region: 'cn-hangzhou', network: 'vpc' }, { name: 'b', region: 'cn-hangzhou', network: 'vpc' }],
    })
    const ee = entries.find((e) => e.name === 'dockerauth-ee-vpc.cn-hangzhou.aliyuncs.com')
    expect(ee?.origins).toHaveLength(3)
    expect(ee?.unconfirmed?.split('; ')).toHaveLength(2)
    const confirmed = entriesFor({
      instances: [{ name: 'a', region: 'cn-hangzhou', network: 'vpc' }],
      extraHosts: ['dockerauth-ee-vpc.cn-hangzhou.aliyuncs.com'],
    }).find((e) => e.name === 'dockerauth-ee-vpc.cn-hangzhou.aliyuncs.com')
    expect(confirmed?.unconfirmed).toBeUndefined()
  })

  it('refuses a config the schema would have refused, naming the field', () => {
    const config: Config = {
      ...parseConfig({ tunnel }),
      regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc'] }, { id: 'xx-nowhere-1', endpoints: ['registry-vpc'] }],
    }
    expect(() => hostEntriesForConfig(config)).toThrowError(/regions\[1\]\.id/)
    try {
      hostEntriesForConfig(config)
    } catch (error) {
      expect(isBridgeError(error, 'INVALID_CONFIG')).toBe(true)
      expect((error as { field?: string }).field).toBe('regions[1].id')
    }
    const badInstance: Config = { ...parseConfig({ tunnel }), instances: [{ name: 'a b', region: 'cn-beijing', network: 'vpc' }] }
    expect(() => hostEntriesForConfig(badInstance)).toThrowError(/instances\[0\]\.name/)
  })

  it('property: any valid selection yields unique, lower-case, valid names with sorted ports', () => {
    const available = regions.filter((r) => r.status !== 'closed').map((r) => r.id)
    const kinds = endpointKinds.map((k) => k.kind)
    const selection = fc.record({ id: fc.constantFrom(...available), endpoints: fc.subarray(kinds as EndpointKind[]) })
    fc.assert(
      fc.property(
        fc.array(selection, { maxLength: 5 }),
        fc.array(fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/), region: fc.constantFrom(...available), network: fc.constantFrom('vpc', 'internet'), chart: fc.boolean() }), { maxLength: 3 }),
        (regionSelections, instances) => {
          const entries = entriesFor({ regions: regionSelections, instances })
          const seen = new Set<string>()
          for (const e of entries) {
            expect(validateHostName(e.name)).toBeUndefined()
            expect(e.name).toBe(e.name.toLowerCase())
            expect(seen.has(e.name)).toBe(false)
            seen.add(e.name)
            expect([...e.ports].sort((a, b) => a - b)).toEqual(e.ports)
            expect(e.origins.length).toBeGreaterThan(0)
          }
        },
      ),
      { numRuns: 200 },
    )
  }, 60_000)
})
