// The ONE function that turns a config into the names the hosts block maps and the tunnel serves.

import { BridgeError } from '../errors.js'
import type { Config, EndpointKind, EnterpriseInstance, ExtraHost, PersonalInstance, RegionSelection } from '../config/types.js'
import { describeValue } from '../config/describe-value.js'
import { validateHostName } from '../config/host-name.js'
import { endpointKinds } from './endpoint-kinds.js'
import { crossRegionAuth, findRegion, hyphenAuthRegions, ossNamesUnconfirmed, ossRegionName } from './regions.js'
import type { HostEntry, HostOrigin } from './types.js'

/** One name one part of the config asks for, before names are merged. */
export interface HostCandidate {
  readonly name: string
  readonly ports: readonly number[]
  readonly origin: HostOrigin
  readonly unconfirmed?: string
  /** The config field the name derives from, for errors. */
  readonly field: string
}

const https = [443] as const
const http = [80] as const

/**
 * The exact list of hosts entries a config yields: address = `config.listen.address`, names lower-cased and
 * deduplicated (ports and origins merged), in config order (regions, instances, personal instances, extraHosts;
 * within a region, the catalog order of endpoint kinds). A merged name is unconfirmed only when every origin of it
 * is. Throws BridgeError INVALID_CONFIG when the config names a region the catalog lacks or yields an invalid name
 * (parseConfig refuses both earlier).
 */
export function hostEntriesForConfig(config: Config): HostEntry[] {
  const candidates: HostCandidate[] = []
  config.regions.forEach((selection, index) => candidates.push(...regionCandidates(selection, `regions[${index}]`)))
  config.instances.forEach((instance, index) => candidates.push(...enterpriseCandidates(instance, `instances[${index}]`)))
  config.personalInstances.forEach((instance, index) =>
    candidates.push(...personalCandidates(instance, `personalInstances[${index}]`)),
  )
  config.extraHosts.forEach((host, index) => candidates.push(extraCandidate(host, `extraHosts[${index}]`)))
  return mergeCandidates(candidates, config.listen.address)
}

/** The names one region selection yields, kinds in catalog order, region quirks included. */
export function regionCandidates(selection: RegionSelection, field: string): HostCandidate[] {
  const region = requireRegion(selection.id, `${field}.id`)
  const r = region.id
  const oss = ossRegionName(r)
  const ossUnconfirmed = ossNamesUnconfirmed(r)
  const wanted = new Set<EndpointKind>(selection.endpoints)
  const out: HostCandidate[] = []
  for (const info of endpointKinds) {
    if (!wanted.has(info.kind)) continue
    const origin: HostOrigin = { kind: 'region', region: r, endpoint: info.kind }
    const add = (name: string, ports: readonly number[], unconfirmed?: string): void => {
      out.push({ name, ports, origin, field: `${field}.endpoints`, ...(unconfirmed === undefined ? {} : { unconfirmed }) })
    }
    switch (info.kind) {
      case 'registry':
      case 'registry-vpc':
      case 'registry-intl':
      case 'registry-intl-vpc':
      case 'registry-internal':
      case 'dockerauth-ee':
        add(`${info.kind}.${r}.aliyuncs.com`, https)
        break
      case 'dockerauth-ee-vpc':
        add(`dockerauth-ee-vpc.${r}.aliyuncs.com`, https, info.unconfirmed)
        break
      case 'dockerauth': {
        add(`dockerauth.${r}.aliyuncs.com`, https)
        if (hyphenAuthRegions.has(r)) add(`dockerauth-${r}.aliyuncs.com`, https)
        const authRegion = crossRegionAuth.get(r)
        if (authRegion !== undefined) add(`dockerauth.${authRegion}.aliyuncs.com`, https)
        break
      }
      case 'dockerauth-vpc': {
        add(`dockerauth-vpc.${r}.aliyuncs.com`, https)
        const authRegion = crossRegionAuth.get(r)
        if (authRegion !== undefined) {
          add(`dockerauth-vpc.${authRegion}.aliyuncs.com`, https, `${r} authenticating in ${authRegion} over VPC is not observed`)
        }
        break
      }
      case 'dockerauth-hyphen':
        add(`dockerauth-${r}.aliyuncs.com`, https, hyphenAuthRegions.has(r) ? undefined : info.unconfirmed)
        break
      case 'oss':
        add(`oss-${oss}.aliyuncs.com`, https, ossUnconfirmed)
        break
      case 'oss-internal':
        add(`oss-${oss}-internal.aliyuncs.com`, https, ossUnconfirmed)
        break
      case 'pe-bucket':
        add(`${personalBucket(r)}.oss-${oss}.aliyuncs.com`, http, ossUnconfirmed)
        break
      case 'pe-bucket-internal':
        add(`${personalBucket(r)}.oss-${oss}-internal.aliyuncs.com`, http, info.unconfirmed)
        break
    }
  }
  return out
}

/** Enterprise Edition: registry, auth hosts, default bucket (given the instance id), chart domain (chart: true). */
export function enterpriseCandidates(instance: EnterpriseInstance, field: string): HostCandidate[] {
  const region = requireRegion(instance.region, `${field}.region`)
  const r = region.id
  const vpc = instance.network === 'vpc'
  const out: HostCandidate[] = []
  const add = (role: 'registry' | 'auth' | 'bucket' | 'chart', name: string, subField: string, unconfirmed?: string): void => {
    out.push({
      name,
      ports: https,
      origin: { kind: 'enterprise', region: r, instance: instance.name, role },
      field: `${field}.${subField}`,
      ...(unconfirmed === undefined ? {} : { unconfirmed }),
    })
  }
  add('registry', `${instance.name}-registry${vpc ? '-vpc' : ''}.${r}.cr.aliyuncs.com`, 'name')
  if (vpc) {
    add('auth', `dockerauth-ee-vpc.${r}.aliyuncs.com`, 'region', 'dockerauth-ee-vpc is seen only in third-party gateway code')
    add('auth', `dockerauth-vpc.${r}.aliyuncs.com`, 'region')
  } else {
    add('auth', `dockerauth-ee.${r}.aliyuncs.com`, 'region')
    add('auth', `dockerauth.${r}.aliyuncs.com`, 'region')
    if (hyphenAuthRegions.has(r)) add('auth', `dockerauth-${r}.aliyuncs.com`, 'region')
  }
  if (instance.instanceId !== undefined) {
    add('bucket', `${instance.instanceId}-registry.oss-${ossRegionName(r)}${vpc ? '-internal' : ''}.aliyuncs.com`, 'instanceId', ossNamesUnconfirmed(r))
  }
  if (instance.chart === true) {
    add('chart', `${instance.name}-chart${vpc ? '-vpc' : ''}.${r}.cr.aliyuncs.com`, 'chart', vpc ? 'the -chart-vpc domain is seen only once in use' : undefined)
  }
  return out
}

/** New Personal Edition (crpi-): registry, and the auth hosts such instances likely use (realm learned at runtime). */
export function personalCandidates(instance: PersonalInstance, field: string): HostCandidate[] {
  const region = requireRegion(instance.region, `${field}.region`)
  const r = region.id
  const vpc = instance.network === 'vpc'
  const instanceName = `crpi-${instance.id}`
  const out: HostCandidate[] = []
  const add = (role: 'registry' | 'auth', name: string, subField: string, unconfirmed?: string): void => {
    out.push({
      name,
      ports: https,
      origin: { kind: 'personal', region: r, instance: instanceName, role },
      field: `${field}.${subField}`,
      ...(unconfirmed === undefined ? {} : { unconfirmed }),
    })
  }
  add('registry', `${instanceName}${vpc ? '-vpc' : ''}.${r}.personal.cr.aliyuncs.com`, 'id')
  if (vpc) {
    add('auth', `dockerauth-vpc.${r}.aliyuncs.com`, 'region', 'the VPC auth host of crpi- instances is not observed')
  } else {
    add('auth', `dockerauth-${r}.aliyuncs.com`, 'region', r === 'cn-guangzhou' ? undefined : 'the hyphenated crpi- auth host is seen only for cn-guangzhou')
    add('auth', `dockerauth.${r}.aliyuncs.com`, 'region', 'crpi- instances are seen authenticating only at the hyphenated host')
  }
  return out
}

function extraCandidate(host: ExtraHost, field: string): HostCandidate {
  if (typeof host === 'string') return { name: host, ports: https, origin: { kind: 'extra' }, field }
  return { name: host.name, ports: host.ports, origin: { kind: 'extra' }, field: `${field}.name` }
}

/** Lower-cases, validates and merges candidates into entries, keeping first-seen order. */
export function mergeCandidates(candidates: readonly HostCandidate[], address: string): HostEntry[] {
  interface Acc {
    name: string
    ports: Set<number>
    origins: HostOrigin[]
    originKeys: Set<string>
    unconfirmed: string[]
    confirmed: boolean
  }
  const byName = new Map<string, Acc>()
  for (const candidate of candidates) {
    const name = candidate.name.toLowerCase()
    const problem = validateHostName(name)
    if (problem !== undefined) {
      throw new BridgeError('INVALID_CONFIG', `${candidate.field}: yields the invalid host name ${describeValue(name)}, which ${problem}.`, {
        field: candidate.field,
        hint: 'Correct this field; only letters, digits and hyphens are allowed in names.',
      })
    }
    let acc = byName.get(name)
    if (acc === undefined) {
      acc = { name, ports: new Set(), origins: [], originKeys: new Set(), unconfirmed: [], confirmed: false }
      byName.set(name, acc)
    }
    for (const port of candidate.ports) acc.ports.add(port)
    const key = JSON.stringify(candidate.origin)
    if (!acc.originKeys.has(key)) {
      acc.originKeys.add(key)
      acc.origins.push(candidate.origin)
    }
    if (candidate.unconfirmed === undefined) acc.confirmed = true
    else if (!acc.unconfirmed.includes(candidate.unconfirmed)) acc.unconfirmed.push(candidate.unconfirmed)
  }
  return [...byName.values()].map((acc) => ({
    address,
    name: acc.name,
    ports: [...acc.ports].sort((a, b) => a - b),
    origins: acc.origins,
    ...(acc.confirmed ? {} : { unconfirmed: acc.unconfirmed.join('; ') }),
  }))
}

function personalBucket(regionId: string): string {
  return regionId === 'cn-hangzhou' ? 'aliregistry' : `aliregistry-${regionId}`
}

function requireRegion(id: string, field: string): { readonly id: string } {
  const region = findRegion(id)
  if (region === undefined) {
    throw new BridgeError('INVALID_CONFIG', `${field}: ${describeValue(id)} is not a region in the catalog.`, {
      field,
      hint: 'Use a region id that `acr-bridge catalog` lists, e.g. cn-beijing.',
    })
  }
  return region
}
