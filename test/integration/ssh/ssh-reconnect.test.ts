// Losing the SSH connection for real: sshd killed (its whole process group, as when the ECS dies) or frozen
// (SIGSTOP: only keepalive notices), then back on the same port. The dialer must reconnect by itself, and stop
// for good on close().

import { createServer } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isBridgeError, type BridgeError } from '../../../electron/core/errors.js'
import type { SshConnectionState, SshDialer, SshDialerOptions } from '../../../electron/core/tunnel/ssh-dialer.js'
import type { Sshd } from '../../helpers/sshd.js'
import { readAll, startEchoServer, waitUntil, type TestServer } from './servers.js'
import { startSshdFixture, type SshdFixture } from './sshd-fixture.js'

let fixture: SshdFixture
let sshd: Sshd
let echo: TestServer

beforeAll(async () => {
  fixture = await startSshdFixture('ssh-reconnect')
  sshd = fixture.sshd
  echo = await startEchoServer()
})

afterEach(async () => {
  await fixture.closeDialers()
  if (!sshd.running) await sshd.restart()
})

afterAll(async () => {
  await Promise.allSettled([fixture?.dispose(), echo?.close()])
})

function dialer(options: Partial<SshDialerOptions> = {}): { dialer: SshDialer; states: SshConnectionState[] } {
  const created = fixture.dialer({ readyTimeoutMs: 5_000, backoff: { initialMs: 100, maxMs: 400 }, ...options })
  const states: SshConnectionState[] = []
  created.onDidChangeState((state) => states.push(state))
  return { dialer: created, states }
}

async function roundTrip(through: SshDialer, text: string): Promise<void> {
  const stream = await through.dial({ name: '127.0.0.1', port: echo.port })
  stream.end(text)
  expect((await readAll(stream)).toString()).toBe(text)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('ssh dialer: reconnecting to a real sshd', () => {
  it('notices sshd being killed, retries with backoff (saying when the next attempt is), and reconnects by itself when it is back on the same port', async () => {
    const warned: string[] = []
    const { dialer: through, states } = dialer({ logger: { error() {}, warn: (message: string) => void warned.push(message), info() {}, debug() {} } })
    await roundTrip(through, 'before')
    const open = await through.dial({ name: '127.0.0.1', port: echo.port })
    const lost = new Promise<unknown>((resolve) => open.once('error', resolve))

    await sshd.kill()
    const error = await lost
    expect(isBridgeError(error, 'UPSTREAM_UNREACHABLE')).toBe(true)
    expect((error as Error).message).toMatch(/was lost/)
    await waitUntil(() => through.state.kind === 'reconnecting' && through.state.attempt >= 3, 'three failed reconnect attempts')
    expect(through.stats()).toEqual({ connected: false, openChannels: 0, reconnects: 0, warmChannels: 0 })
    const retry = through.state
    expect(retry.kind === 'reconnecting' && retry.error.message).toMatch(/ECONNREFUSED/)
    // One warning per failure, saying when the next attempt is: the delay the state carries.
    const retries = states.filter((state) => state.kind === 'reconnecting')
    expect(warned.slice(0, 3)).toEqual(
      retries.slice(0, 3).map((state, index) =>
        expect.stringMatching(
          new RegExp(
            `^\\[tunnel\\] ssh: ${index === 0 ? 'The SSH connection to .* was lost' : 'Could not connect to the SSH server'}.* ` +
              `Trying again in ${(state.retryInMs / 1000).toFixed(1).replace('.', '\\.')} s \\(attempt ${index + 1}\\)\\.$`,
          ),
        ),
      ),
    )

    await sshd.restart()
    await waitUntil(() => through.state.kind === 'connected', 'the dialer to reconnect by itself')
    expect(through.stats()).toEqual({ connected: true, openChannels: 0, reconnects: 1, warmChannels: 0 })
    await roundTrip(through, 'after')
    const kinds = states.map((state) => state.kind)
    expect(kinds.slice(0, 3)).toEqual(['connecting', 'connected', 'reconnecting'])
    expect(kinds.at(-1)).toBe('connected')
    expect(kinds.filter((kind) => kind === 'connected')).toHaveLength(2)
  })

  it('lets a dial made during the outage wait and succeed once sshd is back', async () => {
    const { dialer: through } = dialer()
    await through.connect()
    await sshd.kill()
    await waitUntil(() => through.state.kind === 'reconnecting', 'reconnecting')
    const pending = through.dial({ name: '127.0.0.1', port: echo.port })
    await sleep(500)
    await sshd.restart()
    const stream = await pending
    stream.end('waited')
    expect((await readAll(stream)).toString()).toBe('waited')
  })

  it('fails a dial with UPSTREAM_UNREACHABLE when the outage outlasts its timeout, naming the last error', async () => {
    const { dialer: through } = dialer()
    await through.connect()
    await sshd.kill()
    await waitUntil(() => through.state.kind === 'reconnecting', 'reconnecting')
    const error = await through.dial({ name: '127.0.0.1', port: echo.port }, { timeoutMs: 700 }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'UPSTREAM_UNREACHABLE')).toBe(true)
    expect((error as Error).message).toMatch(/^No SSH connection to 127\.0\.0\.1:\d+ within 0\.7 s: /)
    expect(isBridgeError(error) && error.hint).toMatch(/sshd listens on port/)
    expect((error as BridgeError).details?.['timedOut']).toBe(true)
  })

  it('grows the backoff ×2 up to its cap and resets it only after a stable connection', async () => {
    const retryDelays = (states: SshConnectionState[]): number[] => states.flatMap((state) => (state.kind === 'reconnecting' ? [state.retryInMs] : []))
    for (const [stableMs, expectedAfterSecondLoss] of [
      [60_000, 400], // not stable: the schedule goes on (100, 200, 400 → capped at 400)
      [0, 100], // stable at once: back to the first delay
    ] as const) {
      const { dialer: through, states } = dialer({ backoff: { initialMs: 100, maxMs: 400, stableMs }, random: () => 0.5 })
      await through.connect()
      await sshd.kill()
      await waitUntil(() => retryDelays(states).length >= 4, 'four scheduled retries')
      expect(retryDelays(states).slice(0, 4)).toEqual([100, 200, 400, 400])
      await sshd.restart()
      await waitUntil(() => through.state.kind === 'connected', 'reconnected')
      const before = retryDelays(states).length
      await sshd.kill()
      await waitUntil(() => retryDelays(states).length > before, 'a retry after the second loss')
      expect(retryDelays(states)[before]).toBe(expectedAfterSecondLoss)
      await through.close()
      await sshd.restart()
    }
  })

  it('notices a frozen sshd through keepalive, and recovers when it answers again', async () => {
    const { dialer: through, states } = dialer({ keepaliveIntervalMs: 200, keepaliveCountMax: 2, readyTimeoutMs: 1_000 })
    await through.connect()
    sshd.freeze()
    try {
      await waitUntil(() => through.state.kind === 'reconnecting', 'keepalive to declare the connection lost')
      const lost = states.find((state) => state.kind === 'reconnecting')
      expect(lost?.kind === 'reconnecting' && lost.error.message).toMatch(/Keepalive timeout/)
      // While frozen the kernel still accepts TCP, so attempts fail on the handshake timeout instead.
      await waitUntil(() => through.state.kind === 'reconnecting' && /handshake timed out/.test(through.state.error.message), 'a handshake timeout')
    } finally {
      sshd.thaw()
    }
    await waitUntil(() => through.state.kind === 'connected', 'reconnected after thaw', 15_000)
    await roundTrip(through, 'thawed')
  })

  it('reconnectNow (after a sleep) drops the connection at once and connects again, without waiting for keepalives', async () => {
    const { dialer: through, states } = dialer({ keepaliveIntervalMs: 15_000, keepaliveCountMax: 3 })
    expect(through.localAddress()).toBeUndefined()
    await through.connect()
    // where the connection leaves from: what the session compares with the addresses a network change took away
    expect(through.localAddress()).toBe('127.0.0.1')
    const open = await through.dial({ name: '127.0.0.1', port: echo.port })
    const lost = new Promise<unknown>((resolve) => open.once('error', resolve))
    const started = Date.now()
    through.reconnectNow('the machine slept for 60 s')
    expect(through.localAddress()).toBeUndefined()
    const error = await lost
    expect(isBridgeError(error, 'UPSTREAM_UNREACHABLE')).toBe(true)
    expect((error as Error).message).toMatch(/was lost \(the machine slept for 60 s\)/)
    await waitUntil(() => through.state.kind === 'connected' && through.stats().reconnects === 1, 'the new connection')
    // The first backoff step (100 ms here), not the 45 s the keepalives would have taken.
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(states.map((state) => state.kind).slice(-2)).toEqual(['reconnecting', 'connected'])
    await roundTrip(through, 'after the sleep')
  })

  it('reconnectNow runs a pending retry at once (the network came back with the machine)', async () => {
    const { dialer: through } = dialer({ backoff: { initialMs: 20_000, maxMs: 20_000 } })
    await through.connect()
    await sshd.kill()
    await waitUntil(() => through.state.kind === 'reconnecting', 'the loss to be noticed')
    await sshd.restart()
    const started = Date.now()
    through.reconnectNow('the machine woke up')
    await waitUntil(() => through.state.kind === 'connected', 'the retry to run at once')
    expect(Date.now() - started).toBeLessThan(5_000)
    await roundTrip(through, 'woken')
  })

  it('stops the loop on close() during reconnect: no more connection attempts, waiting dials rejected', async () => {
    const { dialer: through } = dialer()
    await through.connect()
    await sshd.kill()
    await waitUntil(() => through.state.kind === 'reconnecting', 'reconnecting')
    const pending = through.dial({ name: '127.0.0.1', port: echo.port }).catch((e: unknown) => e)
    await through.close()
    expect(through.state.kind).toBe('closed')
    const error = await pending
    expect(isBridgeError(error, 'UPSTREAM_UNREACHABLE')).toBe(true)
    expect((error as Error).message).toMatch(/was closed/)
    // Something listens on the port again: a loop still running would connect to it within a few backoff periods.
    const listener = await startServerOn(sshd.port)
    try {
      await sleep(1_500)
      expect(listener.accepted).toBe(0)
      await expect(through.dial({ name: '127.0.0.1', port: echo.port })).rejects.toMatchObject({ code: 'UPSTREAM_UNREACHABLE' })
      expect(listener.accepted).toBe(0)
    } finally {
      await listener.close()
    }
  })
})

/** A TCP listener on 127.0.0.1:`port` that counts and drops connections. */
async function startServerOn(port: number): Promise<TestServer> {
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    socket.destroy()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return {
    port,
    get accepted() {
      return accepted
    },
    open: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
