// probeUpstream in connect mode: a proxy that answers a CONNECT with an error status works (that name's own checks
// say what is wrong), a proxy that cannot be reached or does not speak HTTP fails the upstream hop. The decision is
// made on the error's code and details, never on its wording.
import { describe, expect, it } from 'vitest'
import type { HostEntry } from '../../../electron/core/catalog/types.js'
import type { TunnelConfig } from '../../../electron/core/config/types.js'
import { BridgeError } from '../../../electron/core/errors.js'
import { probeUpstream } from '../../../electron/core/probes/tunnel-probes.js'
import { failingDialer } from './fake-dialers.js'

const tunnel: TunnelConfig = { mode: 'connect', host: '203.0.113.10', port: 3128 }
const entries: HostEntry[] = [{ address: '127.0.0.1', name: 'registry-vpc.cn-beijing.aliyuncs.com', ports: [443], origins: [{ kind: 'extra' }] }]

describe('probeUpstream, connect mode', () => {
  it('a CONNECT answered with an error status passes the upstream hop, whatever the message says', async () => {
    const refused = new BridgeError('UPSTREAM_REFUSED', 'Wording that changed.', { hint: 'x', details: { proxyStatus: 403 } })
    const [check] = await probeUpstream(tunnel, failingDialer(refused), entries, 1000)
    expect(check).toMatchObject({ hop: 'upstream', ok: true })
  })

  it.each([
    ['a proxy that closed without answering', new BridgeError('UPSTREAM_REFUSED', 'The proxy answered 403 to CONNECT x.', { details: { closedBeforeAnswer: true } })],
    ['a proxy that cannot be reached', new BridgeError('UPSTREAM_UNREACHABLE', 'The proxy refused the connection.', { hint: 'Start it.' })],
    ['a plain error', new Error('socket hang up')],
  ])('%s fails the upstream hop', async (_label, error) => {
    const [check] = await probeUpstream(tunnel, failingDialer(error), entries, 1000)
    expect(check).toMatchObject({ hop: 'upstream', ok: false })
  })
})
