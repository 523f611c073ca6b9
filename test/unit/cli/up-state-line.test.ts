import { describe, expect, it } from 'vitest'
import { stateLine } from '../../../electron/cli/commands/up.js'
import type { SessionState, SessionStateKind } from '../../../electron/common/status.js'

function state(kind: SessionStateKind, failing: SessionState['failing'] = [], error?: SessionState['error']): SessionState {
  return { kind, since: '2026-01-01T00:00:00.000Z', failing, checks: [], traffic: [], ...(error === undefined ? {} : { error }) }
}

const lost = { code: 'UPSTREAM_UNREACHABLE', message: 'The SSH connection to 203.0.113.10:22 was lost.', hint: 'Check that the ECS is running.' }

describe("up's state line", () => {
  it('healthy and starting: the word', () => {
    expect(stateLine(state('healthy'))).toBe('state: healthy')
    expect(stateLine(state('starting'))).toBe('state: starting')
  })

  it('degraded names the failing names and their reasons', () => {
    expect(stateLine(state('degraded', [{ name: 'a.aliyuncs.com', reason: 'no answer' }, { name: 'b.aliyuncs.com', reason: 'TLS failed' }]))).toBe(
      'state: degraded (a.aliyuncs.com: no answer; b.aliyuncs.com: TLS failed)',
    )
  })

  it('degraded with no failing name (the SSH connection reconnecting) says why, with the hint', () => {
    expect(stateLine(state('degraded', [], lost))).toBe('state: degraded: The SSH connection to 203.0.113.10:22 was lost. Check that the ECS is running.')
  })

  it('down: the message and the hint', () => {
    expect(stateLine(state('down', [], lost))).toBe('state: down: The SSH connection to 203.0.113.10:22 was lost. Check that the ECS is running.')
    expect(stateLine(state('down'))).toBe('state: down')
  })
})
