// `acr-bridge catalog --json`: the catalog as plain JSON data.

import type { EndpointKind, Network } from '../config/types.js'
import { defaultEndpointsFor, endpointKinds } from './endpoint-kinds.js'
import { regions } from './regions.js'
import type { RegionStatus } from './types.js'

export interface CatalogListingRegion {
  readonly id: string
  readonly nameEn: string
  readonly nameZh: string
  readonly status: RegionStatus
  readonly note?: string
  readonly unconfirmed?: boolean
}

export interface CatalogListingKind {
  readonly kind: EndpointKind
  readonly network: Network
  readonly label: string
  readonly pattern: string
  readonly ports: readonly number[]
  readonly unconfirmed?: string
}

/** A host name an Enterprise or new Personal Edition instance yields. */
export interface CatalogListingInstanceHost {
  readonly role: 'registry' | 'auth' | 'bucket' | 'chart'
  readonly network: Network
  readonly pattern: string
  readonly ports: readonly number[]
  /** Only when the config says so (`instanceId` given, `chart: true`). */
  readonly when?: string
  readonly unconfirmed?: string
}

export interface CatalogListing {
  readonly regions: readonly CatalogListingRegion[]
  readonly endpointKinds: readonly CatalogListingKind[]
  readonly defaultEndpoints: { readonly vpc: readonly EndpointKind[]; readonly internet: readonly EndpointKind[] }
  readonly enterpriseInstanceHosts: readonly CatalogListingInstanceHost[]
  readonly personalInstanceHosts: readonly CatalogListingInstanceHost[]
  readonly notes: readonly string[]
}

const enterpriseInstanceHosts: readonly CatalogListingInstanceHost[] = [
  { role: 'registry', network: 'vpc', pattern: '<name>-registry-vpc.<region>.cr.aliyuncs.com', ports: [443] },
  { role: 'auth', network: 'vpc', pattern: 'dockerauth-ee-vpc.<region>.aliyuncs.com', ports: [443], unconfirmed: 'seen only in third-party gateway code' },
  { role: 'auth', network: 'vpc', pattern: 'dockerauth-vpc.<region>.aliyuncs.com', ports: [443] },
  { role: 'bucket', network: 'vpc', pattern: '<instance-id>-registry.oss-<region>-internal.aliyuncs.com', ports: [443], when: 'instanceId' },
  { role: 'chart', network: 'vpc', pattern: '<name>-chart-vpc.<region>.cr.aliyuncs.com', ports: [443], when: 'chart', unconfirmed: 'seen only once in use' },
  { role: 'registry', network: 'internet', pattern: '<name>-registry.<region>.cr.aliyuncs.com', ports: [443] },
  { role: 'auth', network: 'internet', pattern: 'dockerauth-ee.<region>.aliyuncs.com', ports: [443] },
  { role: 'auth', network: 'internet', pattern: 'dockerauth.<region>.aliyuncs.com', ports: [443] },
  { role: 'bucket', network: 'internet', pattern: '<instance-id>-registry.oss-<region>.aliyuncs.com', ports: [443], when: 'instanceId' },
  { role: 'chart', network: 'internet', pattern: '<name>-chart.<region>.cr.aliyuncs.com', ports: [443], when: 'chart' },
]

const personalInstanceHosts: readonly CatalogListingInstanceHost[] = [
  { role: 'registry', network: 'vpc', pattern: 'crpi-<id>-vpc.<region>.personal.cr.aliyuncs.com', ports: [443] },
  { role: 'auth', network: 'vpc', pattern: 'dockerauth-vpc.<region>.aliyuncs.com', ports: [443], unconfirmed: 'the VPC auth host of crpi- instances is not observed' },
  { role: 'registry', network: 'internet', pattern: 'crpi-<id>.<region>.personal.cr.aliyuncs.com', ports: [443] },
  { role: 'auth', network: 'internet', pattern: 'dockerauth-<region>.aliyuncs.com', ports: [443], unconfirmed: 'seen only for cn-guangzhou' },
  { role: 'auth', network: 'internet', pattern: 'dockerauth.<region>.aliyuncs.com', ports: [443], unconfirmed: 'not observed for crpi- instances' },
]

const notes: readonly string[] = [
  'Which editions each region supports is unconfirmed for every region.',
  'Auth realm hosts vary and may be in another region: the 401 challenge of GET /v2/ names the one to add (acr-bridge discover).',
  'Blob downloads redirect to bucket hosts that are predictable only for default buckets; discover finds the others.',
  'cn-zhangjiakou and cn-guangzhou: dockerauth also maps dockerauth-<region>.aliyuncs.com. cn-shanghai: dockerauth also maps dockerauth.cn-hangzhou.aliyuncs.com (dockerauth-vpc: dockerauth-vpc.cn-hangzhou, unconfirmed).',
  'cn-hangzhou: the Personal Edition bucket is aliregistry.oss-cn-hangzhou[-internal].aliyuncs.com. cn-hangzhou-finance: OSS hosts use cn-hzfinance.',
]

/** Plain JSON data: regions, endpoint kinds (pattern, ports, network, unconfirmed), defaults and instance hosts. */
export function catalogListing(): CatalogListing {
  return {
    regions: regions.map((region) => ({
      id: region.id,
      nameEn: region.nameEn,
      nameZh: region.nameZh,
      status: region.status,
      ...(region.note === undefined ? {} : { note: region.note }),
      ...(region.unconfirmed === true ? { unconfirmed: true } : {}),
    })),
    endpointKinds: endpointKinds.map((info) => ({
      kind: info.kind,
      network: info.network,
      label: info.label,
      pattern: info.pattern,
      ports: [...info.ports],
      ...(info.unconfirmed === undefined ? {} : { unconfirmed: info.unconfirmed }),
    })),
    defaultEndpoints: { vpc: defaultEndpointsFor('vpc'), internet: defaultEndpointsFor('internet') },
    enterpriseInstanceHosts: enterpriseInstanceHosts.map((host) => ({ ...host, ports: [...host.ports] })),
    personalInstanceHosts: personalInstanceHosts.map((host) => ({ ...host, ports: [...host.ports] })),
    notes: [...notes],
  }
}
