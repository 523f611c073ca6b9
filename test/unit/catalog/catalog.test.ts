import { describe, expect, it } from 'vitest'
import {
  catalogListing,
  defaultEndpointsFor,
  endpointKindInfo,
  endpointKinds,
  findRegion,
  regions,
} from '../../../electron/core/catalog/index.js'
import type { EndpointKind } from '../../../electron/core/config/types.js'

// Every row of ACR-FACTS.md §1, in its order.
const factsRegionIds = [
  'cn-qingdao', 'cn-beijing', 'cn-zhangjiakou', 'cn-huhehaote', 'cn-wulanchabu', 'cn-hangzhou', 'cn-shanghai',
  'cn-nanjing', 'cn-fuzhou', 'cn-wuhan-lr', 'cn-shenzhen', 'cn-heyuan', 'cn-guangzhou', 'cn-chengdu', 'cn-hongkong',
  'cn-zhengzhou-jva', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3',
  'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'ap-south-1', 'us-west-1', 'us-east-1', 'eu-central-1',
  'eu-west-1', 'me-east-1', 'me-central-1', 'cn-hangzhou-finance', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1',
  'cn-beijing-finance-1', 'na-south-1',
]

const allKinds: EndpointKind[] = [
  'registry', 'registry-vpc', 'registry-intl', 'registry-intl-vpc', 'registry-internal', 'dockerauth',
  'dockerauth-vpc', 'dockerauth-hyphen', 'dockerauth-ee', 'dockerauth-ee-vpc', 'oss', 'oss-internal', 'pe-bucket',
  'pe-bucket-internal',
]

describe('regions', () => {
  it('holds exactly the regions of the facts, in order, with unique ids', () => {
    expect(regions.map((r) => r.id)).toEqual(factsRegionIds)
  })

  it('gives every region an English and a Chinese name, Chinese brackets full-width only', () => {
    for (const region of regions) {
      expect(region.nameEn.trim(), region.id).not.toBe('')
      expect(region.nameEn, region.id).toMatch(/^[A-Za-z]/)
      expect(region.nameZh, region.id).toMatch(/\p{Script=Han}/u)
      expect(region.nameZh, region.id).not.toMatch(/[()]/)
    }
    expect(findRegion('cn-beijing')?.nameZh).toBe('华北2（北京）')
    expect(findRegion('cn-nanjing')?.nameZh).toBe('华东5（南京-本地地域）')
  })

  it('marks closed, closing and unconfirmed regions as the facts say', () => {
    const byStatus = (status: string) => regions.filter((r) => r.status === status).map((r) => r.id).sort()
    expect(byStatus('closed')).toEqual(['ap-south-1', 'ap-southeast-2', 'cn-beijing-finance-1', 'na-south-1'])
    expect(byStatus('closing')).toEqual(['cn-fuzhou', 'cn-nanjing'])
    for (const id of ['cn-beijing-finance-1', 'na-south-1', 'cn-hangzhou-finance', 'cn-wuhan-lr']) {
      expect(findRegion(id)?.unconfirmed, id).toBe(true)
      expect(findRegion(id)?.note, id).toBeTruthy()
    }
    expect(findRegion('cn-beijing')?.unconfirmed).toBeUndefined()
    for (const region of regions.filter((r) => r.status !== 'available')) expect(region.note, region.id).toBeTruthy()
  })

  it('finds regions by exact id only', () => {
    expect(findRegion('cn-hangzhou')?.nameEn).toBe('China (Hangzhou)')
    expect(findRegion('CN-HANGZHOU')).toBeUndefined()
    expect(findRegion('cn-hangzhou ')).toBeUndefined()
    expect(findRegion('toString')).toBeUndefined()
    expect(findRegion('')).toBeUndefined()
  })
})

describe('endpoint kinds', () => {
  it('lists every EndpointKind once, in the documented order', () => {
    expect(endpointKinds.map((k) => k.kind)).toEqual(allKinds)
  })

  it('gives each kind a region pattern, a network and its ports', () => {
    for (const info of endpointKinds) {
      expect(info.pattern, info.kind).toContain('<region>')
      expect(info.pattern, info.kind).toMatch(/\.aliyuncs\.com$/)
      expect(info.label, info.kind).not.toBe('')
      expect(['vpc', 'internet']).toContain(info.network)
    }
    expect(endpointKindInfo('pe-bucket').ports).toEqual([80])
    expect(endpointKindInfo('pe-bucket-internal').ports).toEqual([80])
    expect(endpointKindInfo('registry-vpc').ports).toEqual([443])
    expect(endpointKindInfo('dockerauth-ee-vpc').unconfirmed).toBeTruthy()
    expect(endpointKindInfo('pe-bucket-internal').unconfirmed).toBeTruthy()
    expect(endpointKindInfo('dockerauth-vpc').unconfirmed).toBeUndefined()
    expect(endpointKindInfo('oss-internal').network).toBe('vpc')
    expect(endpointKindInfo('dockerauth-hyphen').pattern).toBe('dockerauth-<region>.aliyuncs.com')
  })

  it('defaults to the three names of the article for VPC, their public forms for internet', () => {
    expect(defaultEndpointsFor('vpc')).toEqual(['registry-vpc', 'dockerauth-vpc', 'oss-internal'])
    expect(defaultEndpointsFor('internet')).toEqual(['registry', 'dockerauth', 'oss'])
    // a fresh array each time: callers may not corrupt the defaults
    const first = defaultEndpointsFor('vpc')
    first.push('oss')
    expect(defaultEndpointsFor('vpc')).toHaveLength(3)
  })
})

describe('catalogListing', () => {
  it('is plain JSON data with every region and kind', () => {
    const listing = catalogListing()
    expect(JSON.parse(JSON.stringify(listing))).toEqual(listing)
    expect(listing.regions.map((r) => r.id)).toEqual(factsRegionIds)
    expect(listing.endpointKinds.map((k) => k.kind)).toEqual(allKinds)
    const peBucket = listing.endpointKinds.find((k) => k.kind === 'pe-bucket')
    expect(peBucket).toMatchObject({ pattern: 'aliregistry[-<region>].oss-<region>.aliyuncs.com', ports: [80], network: 'internet' })
    expect(listing.endpointKinds.find((k) => k.kind === 'dockerauth-ee-vpc')?.unconfirmed).toBeTruthy()
    expect(listing.regions.find((r) => r.id === 'ap-southeast-2')).toMatchObject({ status: 'closed', nameZh: '澳大利亚（悉尼）' })
    expect(listing.defaultEndpoints.vpc).toEqual(['registry-vpc', 'dockerauth-vpc', 'oss-internal'])
    expect(listing.enterpriseInstanceHosts.some((h) => h.pattern === '<name>-registry-vpc.<region>.cr.aliyuncs.com')).toBe(true)
    expect(listing.personalInstanceHosts.some((h) => h.pattern === 'crpi-<id>-vpc.<region>.personal.cr.aliyuncs.com')).toBe(true)
  })

  it('hands out copies: mutating a listing does not change the catalog', () => {
    const listing = catalogListing() as unknown as { endpointKinds: { ports: number[] }[] }
    listing.endpointKinds[0]?.ports.push(8080)
    expect(catalogListing().endpointKinds[0]?.ports).toEqual([443])
    expect(endpointKinds[0]?.ports).toEqual([443])
  })
})
