// A dial through the tunnel that runs out of time: openThrough tells a timeout by the dialer's mark
// (details.timedOut), never by the wording of its message, and the failed check then says which hop did not answer
// with the dialer's own hint. The probe's own deadline (the dialer never answers) stays the plain timeout.
import type { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { BridgeError } from '../../../electron/core/errors.js'
import { throughFailure } from '../../../electron/core/probes/run-checks.js'
import { openThrough, ThroughError } from '../../../electron/core/probes/through.js'
import type { Dialer } from '../../../electron/core/tunnel/types.js'
import { failingDialer } from './fake-dialers.js'

const name = 'oss-cn-beijing-internal.aliyuncs.com'
const target = { name, port: 443 }

/** A dialer that never answers, but gives up when the probe aborts the dial. */
const silentDialer: Dialer = {
  mode: 'sni',
  dial: (_target, options) =>
    new Promise<Duplex>((_resolve, reject) => {
      options?.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true })
    }),
  close: async () => {},
}

async function openFailure(dialer: Dialer, timeoutMs = 2000): Promise<ThroughError> {
  const error = await openThrough({ dialer, name, port: 443, tls: true, timeoutMs }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ThroughError)
  return error as ThroughError
}

describe('a dial that runs out of time', () => {
  const channelTimeout = new BridgeError('UPSTREAM_UNREACHABLE', `The ECS did not open a channel to ${name}:443 within 5 s.`, {
    hint: 'Check that the ECS can resolve and reach the name (VPC endpoints resolve only inside the VPC).',
    details: { timedOut: true },
  })

  it('is a timeout when the dialer marks its error so, whatever its wording (here in seconds)', async () => {
    const failure = await openFailure(failingDialer(channelTimeout, 'ssh'))
    expect(failure.kind).toBe('timeout')
    expect(failure.stage).toBe('dial')
    expect(failure.bridgeError).toBe(channelTimeout)
  })

  it('is a dial failure when the dialer does not mark it, even if the message reads like a time limit', async () => {
    const refused = new BridgeError('UPSTREAM_UNREACHABLE', 'The proxy ECS 203.0.113.10:443 is unreachable (within 5000 ms of starting).', {
      hint: 'Check tunnel.host.',
    })
    const failure = await openFailure(failingDialer(refused, 'ssh'))
    expect(failure.kind).toBe('dial')
    expect(failure.bridgeError).toBe(refused)
  })

  it("is the probe's own timeout when the dialer never answers", async () => {
    const failure = await openFailure(silentDialer, 50)
    expect(failure.kind).toBe('timeout')
    expect(failure.bridgeError).toBeUndefined()
  })
})

describe('throughFailure for a timeout', () => {
  it("names the hop the dialer says did not answer, with the dialer's hint", () => {
    const error = new ThroughError('timeout', 'dial', 'x', {
      bridgeError: new BridgeError('UPSTREAM_UNREACHABLE', 'The proxy ECS 203.0.113.10:443 did not answer within 5000 ms.', {
        hint: "Check tunnel.host, the ECS security group and this machine's network.",
        details: { timedOut: true },
      }),
    })
    const check = throughFailure(name, error, 'oss', 'tls', target, 5000)
    expect(check).toEqual({
      name,
      hop: 'oss',
      ok: false,
      reason: `no stream to ${name}:443 through the tunnel: The proxy ECS 203.0.113.10:443 did not answer within 5000 ms`,
      hint: "Check tunnel.host, the ECS security group and this machine's network.",
      latencyMs: 5000,
    })
  })

  it('without a dialer error: no answer through the tunnel, and the ECS is what to check', () => {
    const check = throughFailure(name, new ThroughError('timeout', 'tls', 'x'), 'oss', 'tls', target, 5000)
    expect(check).toMatchObject({ ok: false, hop: 'oss', reason: `no answer from ${name}:443 through the tunnel within 5000 ms`, latencyMs: 5000 })
    expect(check?.hint).toContain(`Check that the ECS can reach ${name}`)
  })
})
