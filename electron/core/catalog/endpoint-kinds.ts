// The endpoint kinds a region selection can toggle (ACR-FACTS.md §2, §8), in catalog order: the order in which a
// region's names appear in the hosts block.

import type { EndpointKind, Network } from '../config/types.js'
import type { EndpointKindInfo } from './types.js'

export const endpointKinds: readonly EndpointKindInfo[] = [
  { kind: 'registry', network: 'internet', label: 'Registry, Personal Edition (public)', pattern: 'registry.<region>.aliyuncs.com', ports: [443] },
  { kind: 'registry-vpc', network: 'vpc', label: 'Registry, Personal Edition (VPC)', pattern: 'registry-vpc.<region>.aliyuncs.com', ports: [443] },
  { kind: 'registry-intl', network: 'internet', label: 'Registry, international-site account (public)', pattern: 'registry-intl.<region>.aliyuncs.com', ports: [443] },
  { kind: 'registry-intl-vpc', network: 'vpc', label: 'Registry, international-site account (VPC)', pattern: 'registry-intl-vpc.<region>.aliyuncs.com', ports: [443] },
  { kind: 'registry-internal', network: 'vpc', label: 'Registry, classic network (internal)', pattern: 'registry-internal.<region>.aliyuncs.com', ports: [443] },
  { kind: 'dockerauth', network: 'internet', label: 'Auth service (public)', pattern: 'dockerauth.<region>.aliyuncs.com', ports: [443] },
  { kind: 'dockerauth-vpc', network: 'vpc', label: 'Auth service (VPC)', pattern: 'dockerauth-vpc.<region>.aliyuncs.com', ports: [443] },
  {
    kind: 'dockerauth-hyphen', network: 'internet', label: 'Auth service, hyphenated host (public)', pattern: 'dockerauth-<region>.aliyuncs.com', ports: [443],
    unconfirmed: 'seen only for cn-zhangjiakou and cn-guangzhou',
  },
  { kind: 'dockerauth-ee', network: 'internet', label: 'Enterprise Edition auth service (public)', pattern: 'dockerauth-ee.<region>.aliyuncs.com', ports: [443] },
  {
    kind: 'dockerauth-ee-vpc', network: 'vpc', label: 'Enterprise Edition auth service (VPC)', pattern: 'dockerauth-ee-vpc.<region>.aliyuncs.com', ports: [443],
    unconfirmed: 'seen only in third-party gateway code',
  },
  { kind: 'oss', network: 'internet', label: 'OSS endpoint (public)', pattern: 'oss-<region>.aliyuncs.com', ports: [443] },
  { kind: 'oss-internal', network: 'vpc', label: 'OSS endpoint (internal)', pattern: 'oss-<region>-internal.aliyuncs.com', ports: [443] },
  {
    kind: 'pe-bucket', network: 'internet', label: 'Personal Edition blob bucket (public, plain HTTP)',
    pattern: 'aliregistry[-<region>].oss-<region>.aliyuncs.com', ports: [80],
  },
  {
    kind: 'pe-bucket-internal', network: 'vpc', label: 'Personal Edition blob bucket (internal, plain HTTP)',
    pattern: 'aliregistry[-<region>].oss-<region>-internal.aliyuncs.com', ports: [80],
    unconfirmed: 'the VPC redirect target of Personal Edition blobs has not been observed',
  },
]

const byKind = new Map(endpointKinds.map((info) => [info.kind, info]))

/** The catalog entry of a kind (every EndpointKind has one). */
export function endpointKindInfo(kind: EndpointKind): EndpointKindInfo {
  const info = byKind.get(kind)
  if (info === undefined) throw new Error(`endpoint kind ${kind} is missing from the catalog`)
  return info
}

export function isEndpointKind(value: string): value is EndpointKind {
  return byKind.has(value as EndpointKind)
}

/**
 * The kinds a new region selection starts with. vpc: the three names of the reverse-proxy article for cn-beijing
 * (registry-vpc, dockerauth-vpc, oss-internal); internet: their public forms.
 */
export function defaultEndpointsFor(network: Network): EndpointKind[] {
  return network === 'vpc' ? ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] : ['registry', 'dockerauth', 'oss']
}
