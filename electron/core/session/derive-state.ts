import type { CheckResult, NameTraffic, SessionState, SessionStateKind } from '../../common/status.js'
import type { HostEntry } from '../catalog/types.js'
import type { TunnelHealth } from './types.js'

export interface StateInput {
  readonly tunnel: TunnelHealth
  readonly checks: readonly CheckResult[]
  readonly entries: readonly HostEntry[]
  readonly traffic: readonly NameTraffic[]
  readonly now: Date
}

/** Hops whose failure means nothing can work, whatever the name: the tunnel or the hosts file is broken. */
const globalHops = new Set<CheckResult['hop']>(['listener', 'upstream'])

/**
 * The one place that decides the session state: `off` (no tunnel), `starting` (tunnel starting or no probe result
 * yet), `down` (tunnel failed, or a hop every name needs is failing, or every name fails), `degraded` (some names
 * fail), `healthy` (every check of every name passes).
 */
export function deriveSessionState(previous: SessionState | undefined, input: StateInput): SessionState {
  const { tunnel, checks, entries } = input
  const failing = failingNames(checks, entries)
  let kind: SessionStateKind
  let error = tunnel.error
  if (tunnel.kind === 'stopped') {
    kind = 'off'
  } else if (tunnel.kind === 'failed' || tunnel.upstream === 'failed') {
    kind = 'down'
  } else if (tunnel.kind === 'starting' || checks.length === 0) {
    kind = 'starting'
  } else if (checks.some((c) => !c.ok && globalHops.has(c.hop)) || (entries.length > 0 && failing.length >= entries.length)) {
    kind = 'down'
    const first = checks.find((c) => !c.ok)
    if (error === undefined && first !== undefined) {
      error = { code: 'PROBE_FAILED', message: first.reason, ...(first.hint === undefined ? {} : { hint: first.hint }) }
    }
  } else if (failing.length > 0 || tunnel.upstream === 'reconnecting') {
    kind = 'degraded'
  } else {
    kind = 'healthy'
  }
  const since = previous !== undefined && previous.kind === kind ? previous.since : input.now.toISOString()
  return {
    kind,
    since,
    failing,
    checks,
    traffic: input.traffic,
    ...(error === undefined || kind === 'healthy' || kind === 'starting' ? {} : { error }),
  }
}

function failingNames(checks: readonly CheckResult[], entries: readonly HostEntry[]): { name: string; reason: string }[] {
  const order = new Map(entries.map((e, i) => [e.name, i]))
  const firstFailure = new Map<string, string>()
  for (const check of checks) {
    if (!check.ok && !firstFailure.has(check.name)) firstFailure.set(check.name, check.reason)
  }
  return [...firstFailure.entries()]
    .sort(([a], [b]) => (order.get(a) ?? Number.MAX_SAFE_INTEGER) - (order.get(b) ?? Number.MAX_SAFE_INTEGER))
    .map(([name, reason]) => ({ name, reason }))
}
