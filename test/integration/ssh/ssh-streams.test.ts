// Bytes through forwarded channels of one shared SSH connection to a real sshd: bulk both ways, half-close,
// backpressure, channel accounting over 500 dials, and channel-open failures.

import { randomBytes, createHash } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import type { SshDialer } from '../../../electron/core/tunnel/ssh-dialer.js'
import {
  bulkDigest,
  digestAll,
  readAll,
  startBulkServer,
  startDigestServer,
  startEchoServer,
  startServer,
  waitUntil,
  type TestServer,
} from './servers.js'
import { startSshdFixture, type SshdFixture } from './sshd-fixture.js'

let fixture: SshdFixture
let dialer: SshDialer
const servers: TestServer[] = []

beforeAll(async () => {
  fixture = await startSshdFixture('ssh-streams')
  dialer = fixture.dialer()
})

afterAll(async () => {
  await Promise.allSettled([fixture?.dispose(), ...servers.map((server) => server.close())])
})

async function serve(start: Promise<TestServer>): Promise<TestServer> {
  const server = await start
  servers.push(server)
  return server
}

function sshConnections(): number {
  return fixture.sshd.log().match(/Connection from 127\.0\.0\.1 port \d+/g)?.length ?? 0
}

describe('ssh dialer: forwarded channels through a real sshd', () => {
  it('carries 32 MiB down and 16 MiB up intact', async () => {
    const size = 32 * 1024 * 1024
    const bulk = await serve(startBulkServer(size))
    const down = await dialer.dial({ name: '127.0.0.1', port: bulk.port })
    expect(await digestAll(down)).toEqual({ digest: bulkDigest(size), bytes: size })
    down.destroy()

    const sink = await serve(startDigestServer())
    const up = await dialer.dial({ name: 'localhost', port: sink.port })
    const payload = randomBytes(16 * 1024 * 1024)
    const reply = readAll(up)
    for (let offset = 0; offset < payload.length; offset += 1024 * 1024) {
      if (!up.write(payload.subarray(offset, offset + 1024 * 1024))) await new Promise((resolve) => up.once('drain', resolve))
    }
    up.end()
    const expected = `sha256 ${createHash('sha256').update(payload).digest('hex')} ${payload.length}\n`
    expect((await reply).toString()).toBe(expected)
    await waitUntil(() => dialer.stats().openChannels === 0, 'both channels closed')
  })

  it('honours half-close: an answer sent 300 ms after our FIN arrives in full', async () => {
    const server = await serve(startDigestServer({ delayMs: 300, tail: Buffer.from('late bytes after the FIN\n') }))
    const stream = await dialer.dial({ name: '127.0.0.1', port: server.port })
    stream.end('request body')
    const text = (await readAll(stream)).toString()
    expect(text).toBe(`sha256 ${createHash('sha256').update('request body').digest('hex')} 12\nlate bytes after the FIN\n`)
    await waitUntil(() => stream.destroyed && dialer.stats().openChannels === 0, 'the stream to be destroyed after both ends finished')
  })

  it('passes backpressure on to the server: an unread stream stops the sender well before 64 MiB', async () => {
    const size = 64 * 1024 * 1024
    let sent = 0
    let finished = false
    const server = await serve(
      startServer((socket) => {
        const chunk = Buffer.alloc(64 * 1024, 7)
        const pump = (): void => {
          while (sent < size) {
            sent += chunk.length
            if (!socket.write(chunk)) return void socket.once('drain', pump)
          }
          finished = true
          socket.end()
        }
        pump()
      }),
    )
    const stream = await dialer.dial({ name: '127.0.0.1', port: server.port })
    stream.pause()
    await waitUntil(() => sent > 0, 'the server to start sending')
    let last = -1
    // Wait until the sender has stalled (no progress for 200 ms).
    while (sent !== last) {
      last = sent
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(finished).toBe(false)
    expect(sent).toBeLessThan(size / 2)
    const all = digestAll(stream)
    stream.resume() // an explicit pause() is not undone by adding a 'data' listener
    expect((await all).bytes).toBe(size)
    expect(finished).toBe(true)
    // The server's side is done; ours is still open (allowHalfOpen) until we end it.
    expect(dialer.stats().openChannels).toBe(1)
    stream.end()
    await waitUntil(() => dialer.stats().openChannels === 0, 'the channel to close once both sides ended')
  })

  it('opens and closes 500 channels over ONE connection and leaves none open, however they end', async () => {
    const echo = await serve(startEchoServer())
    const chatty = await serve(startBulkServer(1024 * 1024)) // sends 1 MiB nobody reads in the abort cases
    await dialer.connect()
    const connectionsBefore = sshConnections()
    const closes: number[] = []
    const one = async (i: number): Promise<void> => {
      const mode = i % 4
      const stream = await dialer.dial({ name: '127.0.0.1', port: mode < 2 ? echo.port : chatty.port })
      let closeCount = 0
      stream.on('close', () => closes.push(++closeCount))
      stream.on('error', () => {})
      if (mode === 0) {
        stream.end(`#${i}`)
        expect((await readAll(stream)).toString()).toBe(`#${i}`)
      } else if (mode === 1) {
        stream.write(`#${i}`)
        await new Promise((resolve) => stream.once('data', resolve))
        stream.destroy() // abort with the echo side still open
      } else if (mode === 2) {
        stream.destroy() // never read the megabyte
      } else {
        await new Promise((resolve) => stream.once('data', resolve))
        stream.destroy(new Error('client went away')) // abort mid-transfer with data buffered
      }
    }
    for (let batch = 0; batch < 500; batch += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, k) => one(batch + k)))
    }
    await waitUntil(() => dialer.stats().openChannels === 0, `openChannels to reach 0 (now ${dialer.stats().openChannels})`, 20_000)
    await waitUntil(() => echo.open === 0 && chatty.open === 0, 'the servers to see every connection closed', 20_000)
    expect(echo.accepted + chatty.accepted).toBe(500)
    expect(closes.length).toBe(500)
    expect(closes.every((n) => n === 1)).toBe(true)
    expect(dialer.stats()).toEqual({ connected: true, openChannels: 0, reconnects: 0, warmChannels: 0 })
    expect(sshConnections()).toBe(connectionsBefore)
  })

  it('gives a Duplex with plain Node semantics: destroyed, one close, errors from destroy(err)', async () => {
    const echo = await serve(startEchoServer())
    const stream: Duplex = await dialer.dial({ name: '127.0.0.1', port: echo.port })
    let closes = 0
    stream.on('close', () => closes++)
    const failure = new Promise<Error>((resolve) => stream.once('error', resolve))
    stream.destroy(new Error('boom'))
    expect(stream.destroyed).toBe(true)
    expect((await failure).message).toBe('boom')
    await waitUntil(() => closes === 1 && dialer.stats().openChannels === 0, 'one close event and the channel closed')
  })

  it('cancels a dial through its AbortSignal and leaves no channel behind', async () => {
    const echo = await serve(startEchoServer())
    const controller = new AbortController()
    const pending = dialer.dial({ name: '127.0.0.1', port: echo.port }, { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
    await waitUntil(() => dialer.stats().openChannels === 0, 'the abandoned channel to close')
  })

  it('reports a target the ECS cannot reach as UPSTREAM_REFUSED and stays connected', async () => {
    const closed = await serve(startEchoServer())
    await closed.close() // nothing listens on this port any more
    const error = await dialer.dial({ name: '127.0.0.1', port: closed.port }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'UPSTREAM_REFUSED')).toBe(true)
    expect((error as Error).message).toContain(`127.0.0.1:${closed.port}`)
    expect(dialer.stats()).toMatchObject({ connected: true, openChannels: 0 })
    const echo = await serve(startEchoServer())
    const stream = await dialer.dial({ name: '127.0.0.1', port: echo.port })
    stream.end('still fine')
    expect((await readAll(stream)).toString()).toBe('still fine')
  })

  it('reports forwarding disabled on the ECS as UPSTREAM_REFUSED with a hint about AllowTcpForwarding', async () => {
    const strict = await startSshdFixture('ssh-strict', { extraConfig: ['AllowTcpForwarding no'] })
    const strictDialer = strict.dialer()
    try {
      const echo = await serve(startEchoServer())
      const error = await strictDialer.dial({ name: '127.0.0.1', port: echo.port }).catch((e: unknown) => e)
      expect(isBridgeError(error, 'UPSTREAM_REFUSED')).toBe(true)
      if (!isBridgeError(error)) return
      expect(error.details?.reason).toBe(1)
      expect(error.hint).toContain('AllowTcpForwarding')
      expect(strictDialer.stats().openChannels).toBe(0)
      expect(echo.accepted).toBe(0)
    } finally {
      await strict.dispose()
    }
  })
})
