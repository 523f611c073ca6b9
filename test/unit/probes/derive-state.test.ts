// deriveSessionState is the one place that decides what the tray, the window and `up` show: a table of situations.
import { describe, expect, it } from 'vitest'
import type { CheckResult, SessionState } from '../../../electron/common/status.js'
import type { HostEntry } from '../../../electron/core/catalog/types.js'
import { deriveSessionState, type StateInput } from '../../../electron/core/session/derive-state.js'
import type { TunnelHealth } from '../../../electron/core/session/types.js'

const registry = 'registry-vpc.cn-beijing.aliyuncs.com'
const auth = 'dockerauth-vpc.cn-beijing.aliyuncs.com'
const oss = 'oss-cn-beijing-internal.aliyuncs.com'
const entry = (name: string): HostEntry => ({ address: '127.0.0.1', name, ports: [443], origins: [{ kind: 'extra' }] })
const entries = [entry(registry), entry(auth), entry(oss)]

const ok = (name: string, hop: CheckResult['hop']): CheckResult => ({ name, hop, ok: true, reason: `${hop} fine` })
const bad = (name: string, hop: CheckResult['hop'], reason = `${hop} broken`): CheckResult => ({ name, hop, ok: false, reason, hint: `fix ${hop}` })
const tunnelOk = [ok('127.0.0.1:443', 'listener'), ok('203.0.113.10:443', 'upstream')]
const allOk = [...tunnelOk, ok(registry, 'resolve'), ok(registry, 'tls'), ok(registry, 'registry'), ok(auth, 'resolve'), ok(auth, 'realm'), ok(oss, 'resolve'), ok(oss, 'oss')]
const running: TunnelHealth = { kind: 'running' }
const now = new Date('2026-11-28T10:00:00Z')

function derive(tunnel: TunnelHealth, checks: readonly CheckResult[], previous?: SessionState, at = now): SessionState {
  const input: StateInput = { tunnel, checks, entries, traffic: [], now: at }
  return deriveSessionState(previous, input)
}

describe('deriveSessionState', () => {
  it.each<[string, TunnelHealth, readonly CheckResult[], SessionState['kind'], { name: string; reason: string }[]]>([
    ['stopped: off, whatever stale checks say', { kind: 'stopped' }, [bad(registry, 'tls')], 'off', []],
    ['starting tunnel', { kind: 'starting' }, [], 'starting', []],
    ['running, no probe result yet: never green before a probe passed', running, [], 'starting', []],
    ['every check passes', running, allOk, 'healthy', []],
    ['one name fails: degraded, with that name and its first failing reason', running, [...tunnelOk, ok(registry, 'tls'), bad(auth, 'realm', 'the realm does not answer'), bad(auth, 'tls'), ok(oss, 'oss')], 'degraded', [{ name: auth, reason: 'the realm does not answer' }]],
    ['two names fail: both, in the order of the set', running, [...tunnelOk, bad(oss, 'resolve', 'r1'), ok(registry, 'tls'), bad(auth, 'realm', 'r2')], 'degraded', [{ name: auth, reason: 'r2' }, { name: oss, reason: 'r1' }]],
    ['every name fails (hosts block gone): down', running, [...tunnelOk, bad(registry, 'resolve'), bad(auth, 'resolve'), bad(oss, 'resolve')], 'down', [{ name: registry, reason: 'resolve broken' }, { name: auth, reason: 'resolve broken' }, { name: oss, reason: 'resolve broken' }]],
    ['the listener fails: down, and it is not a "name"', running, [bad('127.0.0.1:443', 'listener'), ok('203.0.113.10:443', 'upstream'), ok(registry, 'tls')], 'down', []],
    ['the ECS fails: down', running, [ok('127.0.0.1:443', 'listener'), bad('203.0.113.10:443', 'upstream'), ok(registry, 'resolve')], 'down', []],
    ['the tunnel failed: down', { kind: 'failed', error: { code: 'PORT_IN_USE', message: 'port 443 is taken' } }, [], 'down', []],
    ['ssh connection failed for good: down', { kind: 'running', upstream: 'failed' }, allOk, 'down', []],
    ['ssh reconnecting, checks green: degraded', { kind: 'running', upstream: 'reconnecting' }, allOk, 'degraded', []],
    ['a pull registry outside the set fails: degraded, listed after the set', running, [...allOk, bad('registry.cn-hangzhou.aliyuncs.com', 'blob-covered', 'b')], 'degraded', [{ name: 'registry.cn-hangzhou.aliyuncs.com', reason: 'b' }]],
  ])('%s', (_label, tunnel, checks, kind, failing) => {
    const state = derive(tunnel, checks)
    expect(state.kind).toBe(kind)
    expect(state.failing).toEqual(failing)
    expect(state.checks).toBe(checks)
  })

  it('down says why: the tunnel error first, else the failing tunnel check with its hint', () => {
    expect(derive({ kind: 'failed', error: { code: 'PORT_IN_USE', message: 'port 443 is taken', hint: 'free it' } }, []).error).toEqual({ code: 'PORT_IN_USE', message: 'port 443 is taken', hint: 'free it' })
    const down = derive(running, [ok('127.0.0.1:443', 'listener'), bad(registry, 'tls'), bad('203.0.113.10:443', 'upstream', 'the proxy ECS 203.0.113.10:443 refused the connection')])
    expect(down.error).toEqual({ code: 'PROBE_FAILED', message: '203.0.113.10:443: the proxy ECS 203.0.113.10:443 refused the connection.', hint: 'fix upstream' })
    const gone = derive(running, [...tunnelOk, bad(registry, 'resolve', 'does not resolve'), bad(auth, 'resolve'), bad(oss, 'resolve')])
    expect(gone.error?.message).toBe(`${registry}: does not resolve.`)
  })

  it('healthy and starting carry no error; degraded carries only a tunnel error', () => {
    expect(derive(running, allOk).error).toBeUndefined()
    expect(derive({ kind: 'starting', error: { code: 'X', message: 'm' } }, []).error).toBeUndefined()
    expect(derive(running, [...tunnelOk, bad(auth, 'realm')]).error).toBeUndefined()
  })

  it('`since` moves only when the kind changes', () => {
    const first = derive(running, allOk)
    expect(first.since).toBe(now.toISOString())
    const later = new Date(now.getTime() + 30_000)
    expect(derive(running, allOk, first, later).since).toBe(now.toISOString())
    const changed = derive(running, [...tunnelOk, bad(auth, 'realm')], first, later)
    expect(changed.kind).toBe('degraded')
    expect(changed.since).toBe(later.toISOString())
  })
})
