// Channels opened ahead (SshWarmOptions) through a real sshd: the next tunnel dial (DialOptions.pooled) to a target
// takes the channel that was opened after the previous one, other dials (probes) neither take nor warm any, an
// untaken channel is closed after maxIdleMs and replaced only while the target is hot, a channel the target closed
// or spoke on meanwhile is never handed out, and close() leaves nothing open.

import type { Duplex } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { SshDialer, SshWarmOptions } from '../../../electron/core/tunnel/ssh-dialer.js'
import { readAll, startServer, waitUntil, type TestServer } from './servers.js'
import { startSshdFixture, type SshdFixture } from './sshd-fixture.js'

let fixture: SshdFixture
const servers: TestServer[] = []

beforeAll(async () => {
  fixture = await startSshdFixture('ssh-warm')
})

afterEach(async () => {
  await fixture.closeDialers()
  await Promise.allSettled(servers.splice(0).map((server) => server.close()))
})

afterAll(async () => {
  await fixture?.dispose()
})

function dialer(warm: SshWarmOptions): SshDialer {
  return fixture.dialer({ warm })
}

/**
 * A server that answers every connection's first bytes with the connection's number (`#1\n`, `#2\n`, …), then
 * echoes. Like the registry and OSS behind the tunnel it speaks only when spoken to: a channel opened ahead that
 * receives bytes nobody asked for is dropped, never handed out. `closeAtOnce` lists connection numbers it ends
 * right after accepting them (a target that drops idle connections).
 */
async function numberedServer(closeAtOnce: readonly number[] = []): Promise<TestServer> {
  let count = 0
  const server = await startServer((socket) => {
    const n = ++count
    if (closeAtOnce.includes(n)) {
      socket.destroy()
      return
    }
    socket.once('data', (first: Buffer) => {
      socket.write(`#${n}\n`)
      socket.write(first)
      socket.pipe(socket)
    })
    socket.once('end', () => socket.end()) // closed before it spoke (a channel opened ahead and closed again)
  })
  servers.push(server)
  return server
}

/** Half-closes the stream with `text` and returns all it read: the greeting, then the echo. */
async function exchange(stream: Duplex, text: string): Promise<string> {
  stream.end(text)
  return (await readAll(stream)).toString()
}

/** What the tunnel passes for its client connections: only these take and warm channels opened ahead. */
const pooled = { pooled: true }

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('ssh dialer: channels opened ahead', () => {
  it('opens the next channel to a dialed target ahead, and the next dial takes exactly that one', async () => {
    const server = await numberedServer()
    const through = dialer({ maxIdleMs: 60_000 })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'one')).toBe('#1\none')
    // The channel opened ahead reached the server before anyone asked for it.
    await waitUntil(() => through.stats().warmChannels === 1 && server.accepted === 2, 'a channel opened ahead')
    expect(through.stats()).toMatchObject({ openChannels: 0, warmChannels: 1 })

    const second = await through.dial({ name: '127.0.0.1', port: server.port }, pooled)
    expect(await exchange(second, 'two')).toBe('#2\ntwo') // connection #2: the one opened ahead, not a new one
    // Taking it opened the next one ahead.
    await waitUntil(() => through.stats().warmChannels === 1 && server.accepted === 3, 'the replacement opened ahead')
    await waitUntil(() => through.stats().openChannels === 0 && server.open === 1, 'only the warm channel left open')
    expect(through.poolStats()).toMatchObject({ hits: 1, misses: 1, idle: 1, failures: 0 })
  })

  it('lets dials without pooled (probes, discovery) neither take nor warm a channel', async () => {
    const server = await numberedServer()
    const through = dialer({ maxIdleMs: 60_000 })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }), 'p')).toBe('#1\np')
    await sleep(300)
    expect(server.accepted).toBe(1)
    expect(through.stats().warmChannels).toBe(0)
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'q')).toBe('#2\nq')
    await waitUntil(() => through.stats().warmChannels === 1 && server.accepted === 3, 'a channel opened ahead')
    // A probe dials fresh although a warm channel is ready, and leaves it for the tunnel.
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }), 'r')).toBe('#4\nr')
    expect(through.stats().warmChannels).toBe(1)
  })

  it('closes the warm channels on coolDown() and opens none until the next pooled dial', async () => {
    const server = await numberedServer()
    const through = dialer({ maxIdleMs: 60_000 })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'a')).toBe('#1\na')
    await waitUntil(() => through.stats().warmChannels === 1 && server.open === 1, 'a channel opened ahead')
    through.coolDown()
    expect(through.stats().warmChannels).toBe(0)
    await waitUntil(() => server.open === 0 && through.stats().openChannels === 0, 'the warm channel closed at the server')
    await sleep(300)
    expect(server.accepted).toBe(2)
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'b')).toBe('#3\nb')
    await waitUntil(() => through.stats().warmChannels === 1, 'warm again after a pooled dial')
  })

  it('opens none for a target whose dial failed, and none for other targets', async () => {
    const server = await numberedServer()
    const gone = await startServer(() => {})
    await gone.close() // nothing listens there any more
    const through = dialer({ maxIdleMs: 60_000 })
    await expect(through.dial({ name: '127.0.0.1', port: gone.port }, pooled)).rejects.toMatchObject({ code: 'UPSTREAM_REFUSED' })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'x')).toBe('#1\nx')
    await waitUntil(() => through.stats().warmChannels === 1, 'a channel opened ahead for the target that worked')
    await sleep(300)
    expect(server.accepted).toBe(2)
    expect(through.stats().warmChannels).toBe(1)
  })

  it('closes a channel nobody took after maxIdleMs, replaces it while the target is hot, and keeps none once it is cold', async () => {
    const server = await numberedServer()
    const through = dialer({ maxIdleMs: 200, coldAfterMs: 900 })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'hi')).toBe('#1\nhi')
    // Replaced at least once (900 ms hot, 200 ms each), then cold: nothing open at the server, nothing warm.
    await waitUntil(() => server.accepted >= 3, 'an idle warm channel replaced')
    await waitUntil(() => through.stats().warmChannels === 0 && server.open === 0, 'the target gone cold', 15_000)
    const settled = server.accepted
    await sleep(600) // three maxIdleMs: a cold target gets no new channel
    expect(server.accepted).toBe(settled)
    expect(through.stats()).toMatchObject({ connected: true, openChannels: 0, warmChannels: 0 })
    // The next dial opens a fresh channel and warms the target again.
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'again')).toBe(`#${settled + 1}\nagain`)
    await waitUntil(() => through.stats().warmChannels === 1, 'warm again after a dial')
  })

  it('never hands out a channel the target closed while it waited', async () => {
    const server = await numberedServer([2]) // the channel opened ahead (#2) is closed by the target at once
    const through = dialer({ maxIdleMs: 60_000 })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'a')).toBe('#1\na')
    await waitUntil(() => server.accepted === 2 && server.open === 0, 'the target to close the channel opened ahead')
    await sleep(500) // sshd passes the target's FIN on as CHANNEL_EOF
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'b')).toBe('#3\nb')
  })

  it('drops a channel opened ahead that received bytes nobody asked for, and never hands it out', async () => {
    let count = 0
    const chatty = await startServer((socket) => {
      socket.write(`#${++count}\n`) // speaks first, unlike the registry and OSS
      socket.pipe(socket)
    })
    servers.push(chatty)
    const through = dialer({ maxIdleMs: 60_000 })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: chatty.port }, pooled), 'a')).toBe('#1\na')
    await waitUntil(() => chatty.accepted === 2 && chatty.open === 0, 'the channel opened ahead dropped after its greeting')
    expect(through.stats()).toMatchObject({ openChannels: 0, warmChannels: 0 })
    expect(through.poolStats()).toMatchObject({ failures: 1 })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: chatty.port }, pooled), 'b')).toBe('#3\nb')
  })

  it('leaves no channel open at the target after close()', async () => {
    const server = await numberedServer()
    const through = dialer({ maxIdleMs: 60_000 })
    expect(await exchange(await through.dial({ name: '127.0.0.1', port: server.port }, pooled), 'z')).toBe('#1\nz')
    await waitUntil(() => through.stats().warmChannels === 1 && server.open === 1, 'a channel opened ahead')
    await through.close()
    expect(through.stats()).toMatchObject({ connected: false, openChannels: 0, warmChannels: 0 })
    await waitUntil(() => server.open === 0, 'the server to see the warm channel closed')
  })
})
