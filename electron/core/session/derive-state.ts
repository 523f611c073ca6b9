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

/** Hops about the tunnel itself (their check's name is an address:port): when one fails, nothing can work. */
const tunnelHops = new Set<CheckResult['hop']>(['listener', 'upstream'])

/**
 * The one place that decides the session state; the tray colour, the window and `up`'s output show nothing else.
 *
 * - `off`: no tunnel (stopped), whatever the checks say.
 * - `down`: the tunnel failed, or its SSH connection failed for good, or a tunnel check (listener, upstream) fails,
 *   or every name of the set fails (a hosts block that is gone, a dead ECS path): `error` says why.
 * - `starting`: the tunnel is starting, or runs but no probe result is in yet. Never green before a probe passed.
 * - `degraded`: some names fail (each in `failing` with its first failing check's reason), or the SSH connection
 *   is reconnecting.
 * - `healthy`: every check of every name passes.
 *
 * `failing` lists names of the set (in its order; other names, such as a registry probed for a pull, after them);
 * tunnel checks are not names and show in `error` instead. `since` changes only when `kind` changes.
 */
export function deriveSessionState(previous: SessionState | undefined, input: StateInput): SessionState {
  const { tunnel, checks, entries } = input
  const failing = failingNames(checks, entries)
  const tunnelFailure = checks.find((c) => !c.ok && tunnelHops.has(c.hop))
  const names = new Set(entries.map((e) => e.name.toLowerCase()))
  const failingInSet = failing.filter((f) => names.has(f.name.toLowerCase())).length
  let kind: SessionStateKind
  let error = tunnel.error
  if (tunnel.kind === 'stopped') {
    kind = 'off'
  } else if (tunnel.kind === 'failed' || tunnel.upstream === 'failed') {
    kind = 'down'
  } else if (tunnel.kind === 'starting' || checks.length === 0) {
    kind = 'starting'
  } else if (tunnelFailure !== undefined || (names.size > 0 && failingInSet >= names.size)) {
    kind = 'down'
    const cause = tunnelFailure ?? checks.find((c) => !c.ok)
    if (error === undefined && cause !== undefined) {
      error = { code: 'PROBE_FAILED', message: sentence(cause), ...(cause.hint === undefined ? {} : { hint: cause.hint }) }
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
    failing: kind === 'off' ? [] : failing,
    checks,
    traffic: input.traffic,
    ...(error === undefined || kind === 'healthy' || kind === 'starting' ? {} : { error }),
  }
}

/** `registry-vpc.cn-beijing.aliyuncs.com: resolves to 10.0.0.1 through DNS…` as one sentence. */
function sentence(check: CheckResult): string {
  const text = `${check.name}: ${check.reason}`
  return text.endsWith('.') ? text : `${text}.`
}

function failingNames(checks: readonly CheckResult[], entries: readonly HostEntry[]): { name: string; reason: string }[] {
  const order = new Map(entries.map((e, i) => [e.name.toLowerCase(), i]))
  const firstFailure = new Map<string, string>()
  for (const check of checks) {
    if (check.ok || tunnelHops.has(check.hop)) continue
    if (!firstFailure.has(check.name)) firstFailure.set(check.name, check.reason)
  }
  return [...firstFailure.entries()]
    .sort(([a], [b]) => {
      const x = order.get(a.toLowerCase()) ?? Number.MAX_SAFE_INTEGER
      const y = order.get(b.toLowerCase()) ?? Number.MAX_SAFE_INTEGER
      return x !== y ? x - y : a < b ? -1 : a > b ? 1 : 0
    })
    .map(([name, reason]) => ({ name, reason }))
}
