// What a name in the active set is for, which decides the checks it gets after TLS: a registry (GET /v2/), a token
// service (the realm answers), an OSS endpoint or bucket (GET / → 403 AccessDenied XML), or something else (TLS only).

import type { HostEntry } from '../catalog/types.js'

export type NameRole = 'registry' | 'auth' | 'oss' | 'other'

/** From the entry's origins (catalog kinds, instance roles); names from extraHosts by their shape. */
export function nameRole(entry: HostEntry): NameRole {
  for (const origin of entry.origins) {
    switch (origin.kind) {
      case 'region':
        if (origin.endpoint.startsWith('registry')) return 'registry'
        if (origin.endpoint.startsWith('dockerauth')) return 'auth'
        return 'oss'
      case 'enterprise':
        if (origin.role === 'registry') return 'registry'
        if (origin.role === 'auth') return 'auth'
        if (origin.role === 'bucket') return 'oss'
        break // chart: a registry of Helm charts, but not a Docker registry API we probe
      case 'personal':
        return origin.role === 'registry' ? 'registry' : 'auth'
      case 'extra':
        break
    }
  }
  return roleFromShape(entry.name)
}

/** Guess for a bare name: `dockerauth…`, `…oss-<region>[-internal].aliyuncs.com`, `registry…` / `….cr.aliyuncs.com`. */
export function roleFromShape(name: string): NameRole {
  const lower = name.toLowerCase()
  if (/^dockerauth(?:[.-]|$)/.test(lower)) return 'auth'
  if (/(?:^|\.)oss-[a-z0-9-]+\.aliyuncs\.com$/.test(lower) || /^[a-z0-9-]+\.oss\.aliyuncs\.com$/.test(lower)) return 'oss'
  if (/^(?:registry|crpi-)/.test(lower) || /-registry(?:-vpc)?\.[a-z0-9-]+\.cr\.aliyuncs\.com$/.test(lower) || /\.personal\.cr\.aliyuncs\.com$/.test(lower)) {
    return 'registry'
  }
  return 'other'
}
