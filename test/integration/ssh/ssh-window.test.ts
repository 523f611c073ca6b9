// The channel receive window against a real sshd reached over a link with a round trip (a delaying relay on
// loopback in front of sshd): the dialer notices the slow channel opens and gives channels the wide window (kept by
// us, not ssh2), bulk data arrive intact through its refills, an unread channel still stops the sender, and the
// same dialer without the delay keeps ssh2's own window.

import { createHash } from 'node:crypto'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Logger } from '../../../electron/core/logger.js'
import type { SshDialer } from '../../../electron/core/tunnel/ssh-dialer.js'
import { bulkDigest, digestAll, startBulkServer, startServer, waitUntil, type TestServer } from './servers.js'
import { startSshdFixture, type SshdFixture } from './sshd-fixture.js'

const oneWayDelayMs = 5

let fixture: SshdFixture
let relay: Server
let relayPort: number
const relaySockets = new Set<Socket>()
const servers: TestServer[] = []

/** Forwards 127.0.0.1:<port> to sshd, every chunk and FIN held back oneWayDelayMs in each direction. */
function startDelayRelay(targetPort: number): Promise<Server> {
  const pass = (from: Socket, to: Socket): void => {
    from.on('data', (chunk) => setTimeout(() => to.write(chunk), oneWayDelayMs))
    from.on('end', () => setTimeout(() => to.end(), oneWayDelayMs))
    from.on('error', () => to.destroy())
    from.on('close', () => setTimeout(() => to.destroy(), oneWayDelayMs))
  }
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (a) => {
    const b = connect({ host: '127.0.0.1', port: targetPort, noDelay: true, allowHalfOpen: true })
    for (const socket of [a, b]) {
      relaySockets.add(socket)
      socket.once('close', () => relaySockets.delete(socket))
    }
    pass(a, b)
    pass(b, a)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

beforeAll(async () => {
  fixture = await startSshdFixture('ssh-window')
  relay = await startDelayRelay(fixture.sshd.port)
  relayPort = (relay.address() as { port: number }).port
  await fixture.trustOn(relayPort)
})

afterEach(async () => {
  await fixture.closeDialers()
  await Promise.allSettled(servers.splice(0).map((server) => server.close()))
})

afterAll(async () => {
  for (const socket of relaySockets) socket.destroy()
  await new Promise<void>((resolve) => (relay === undefined ? resolve() : relay.close(() => resolve())))
  await fixture?.dispose()
})

/** A dialer to sshd directly or through the delaying relay, and the debug lines it logged. */
function dialer(through: 'relay' | 'direct'): { dialer: SshDialer; debug: string[] } {
  const debug: string[] = []
  const logger: Logger = { error() {}, warn() {}, info() {}, debug: (message: string) => void debug.push(message) }
  const created = fixture.dialer({ ...(through === 'relay' ? { port: relayPort } : {}), warm: false, logger })
  return { dialer: created, debug }
}

async function serve(start: Promise<TestServer>): Promise<TestServer> {
  const server = await start
  servers.push(server)
  return server
}

describe('ssh dialer: the channel window', () => {
  it('gives channels the wide window over a link with a round trip, and carries 48 MiB intact through its refills', async () => {
    const size = 48 * 1024 * 1024
    const bulk = await serve(startBulkServer(size))
    const { dialer: through, debug } = dialer('relay')
    const stream = await through.dial({ name: '127.0.0.1', port: bulk.port })
    expect(debug.some((line) => /channel window 8 MiB \(fastest channel open \d+ ms\)/.test(line))).toBe(true)
    expect(await digestAll(stream)).toEqual({ digest: bulkDigest(size), bytes: size })
    stream.destroy()
    await waitUntil(() => through.stats().openChannels === 0, 'the channel to close')
  })

  it('still stops the sender of an unread wide-window channel well before 64 MiB, and delivers everything once read', async () => {
    const size = 64 * 1024 * 1024
    let sent = 0
    const server = await serve(
      startServer((socket) => {
        const chunk = Buffer.alloc(64 * 1024, 5)
        const pump = (): void => {
          while (sent < size) {
            sent += chunk.length
            if (!socket.write(chunk)) return void socket.once('drain', pump)
          }
          socket.end()
        }
        pump()
      }),
    )
    const { dialer: through, debug } = dialer('relay')
    const stream = await through.dial({ name: '127.0.0.1', port: server.port })
    expect(debug.some((line) => line.includes('channel window 8 MiB'))).toBe(true)
    stream.pause()
    await waitUntil(() => sent > 0, 'the server to start sending')
    let last = -1
    while (sent !== last) {
      last = sent
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    expect(sent).toBeLessThan(size / 2)
    const all = digestAll(stream)
    stream.resume()
    const hash = createHash('sha256').update(Buffer.alloc(size, 5)).digest('hex')
    expect(await all).toEqual({ digest: hash, bytes: size })
  })

  it("keeps ssh2's own window when channels open fast (loopback)", async () => {
    const size = 8 * 1024 * 1024
    const bulk = await serve(startBulkServer(size))
    const echo = await serve(startServer((socket) => socket.pipe(socket)))
    const { dialer: through, debug } = dialer('direct')
    // The fastest of a few opens decides: one slow open on a busy machine must not make the loopback "far".
    for (let i = 0; i < 10; i++) (await through.dial({ name: '127.0.0.1', port: echo.port })).destroy()
    const stream = await through.dial({ name: '127.0.0.1', port: bulk.port })
    expect(await digestAll(stream)).toEqual({ digest: bulkDigest(size), bytes: size })
    const decisions = debug.filter((line) => line.includes('channel window'))
    expect(decisions.length === 0 || decisions.at(-1)!.includes('channel window 2 MiB')).toBe(true)
  })
})
