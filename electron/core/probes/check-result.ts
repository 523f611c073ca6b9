// Building CheckResult values (electron/common/status.ts) and ordering them the way doctor and the window show them.

import type { CheckResult, HopKind } from '../../common/status.js'
import type { HostEntry } from '../catalog/types.js'

/** The order of hops within one name: the order a pull meets them. */
export const hopOrder: readonly HopKind[] = ['listener', 'upstream', 'resolve', 'tls', 'registry', 'realm-covered', 'realm', 'oss', 'blob-covered']

/** Hops about the tunnel itself rather than one name: their `name` is an address:port. */
export const tunnelHops: ReadonlySet<HopKind> = new Set<HopKind>(['listener', 'upstream'])

function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10
}

export function pass(name: string, hop: HopKind, reason: string, latencyMs?: number): CheckResult {
  return { name, hop, ok: true, reason, ...(latencyMs === undefined ? {} : { latencyMs: roundMs(latencyMs) }) }
}

export function fail(name: string, hop: HopKind, reason: string, hint: string, latencyMs?: number): CheckResult {
  return { name, hop, ok: false, reason, hint, ...(latencyMs === undefined ? {} : { latencyMs: roundMs(latencyMs) }) }
}

/**
 * Tunnel checks first (listener, then upstream, in the order given), then names in the order of the active set
 * (names outside it last, alphabetically), each name's hops in pull order. Stable otherwise.
 */
export function sortChecks(checks: readonly CheckResult[], entries: readonly HostEntry[]): CheckResult[] {
  const nameIndex = new Map(entries.map((entry, index) => [entry.name.toLowerCase(), index]))
  const rank = (check: CheckResult): [number, number, string, number] => {
    const hop = hopOrder.indexOf(check.hop)
    if (tunnelHops.has(check.hop)) return [0, hop, '', 0]
    const index = nameIndex.get(check.name.toLowerCase())
    return index === undefined ? [2, 0, check.name, hop] : [1, index, '', hop]
  }
  return checks
    .map((check, position) => ({ check, position, key: rank(check) }))
    .sort((a, b) => {
      for (let i = 0; i < 4; i++) {
        const x = a.key[i] as number | string
        const y = b.key[i] as number | string
        if (x < y) return -1
        if (x > y) return 1
      }
      return a.position - b.position
    })
    .map(({ check }) => check)
}
