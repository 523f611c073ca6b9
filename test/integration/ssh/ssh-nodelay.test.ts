// PERF-NOTES.md trap 1, on a real sshd: sshd turns Nagle off on a connection only when a session asks it to run
// something. The dialer sends one exec('true') after login for that. Two things must hold:
// - a login shell that is slow to run the command (conda, nvm or pyenv set up in the ECS account's .bashrc, which
//   bash reads when sshd starts it) must not hold up the connection: sshd sets TCP_NODELAY when it takes the request,
//   not when the command is done;
// - without it, sshd holds each small reply back for its delayed ACK (~40 ms per request and answer).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SshDialer } from '../../../electron/core/tunnel/ssh-dialer.js'
import { startServer, type TestServer } from './servers.js'
import { startSshdFixture, type SshdFixture } from './sshd-fixture.js'

/** Answers each request in two writes a moment apart, as a TLS server's first flight often goes out. */
let twoPart: TestServer
/** Every session command runs for 30 s: a login shell as slow as it gets. */
let slowShell: SshdFixture
/** No session may run anything (the exec is refused): Nagle stays on at sshd. */
let noSessions: SshdFixture

beforeAll(async () => {
  twoPart = await startServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      const half = Math.ceil(chunk.length / 2)
      socket.write(chunk.subarray(0, half))
      setTimeout(() => socket.write(chunk.subarray(half)), 2)
    })
    socket.on('end', () => socket.end())
  })
  slowShell = await startSshdFixture('ssh-nodelay-slow', { extraConfig: ['ForceCommand sleep 30'] })
  noSessions = await startSshdFixture('ssh-nodelay-none', { extraConfig: ['MaxSessions 0'] })
})

afterAll(async () => {
  await Promise.allSettled([slowShell?.dispose(), noSessions?.dispose(), twoPart?.close()])
})

/** The median time of `count` small request/answer exchanges (the answer in two parts), each on a channel of its own, in ms. */
async function medianExchangeMs(through: SshDialer, count: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const request = Buffer.alloc(200, i % 256)
    const started = performance.now()
    const stream = await through.dial({ name: '127.0.0.1', port: twoPart.port })
    try {
      const answered = new Promise<void>((resolve, reject) => {
        let got = 0
        const ondata = (chunk: Buffer): void => {
          got += chunk.length
          if (got < request.length) return
          stream.off('data', ondata)
          resolve()
        }
        stream.on('data', ondata)
        stream.once('error', reject)
      })
      stream.write(request)
      await answered
      times.push(performance.now() - started)
    } finally {
      stream.destroy()
    }
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

/**
 * A connected dialer to `fixture`'s sshd, and the median exchange time through it. Connecting must not take the
 * exec's 5 s limit (what waiting for the command to end would cost with a slow login shell).
 */
async function connectAndMeasure(fixture: SshdFixture): Promise<number> {
  const through = fixture.dialer()
  const started = performance.now()
  await through.connect()
  expect(performance.now() - started).toBeLessThan(2_500)
  return medianExchangeMs(through, 21)
}

describe('ssh dialer: the exec that turns Nagle off at sshd', () => {
  it('does not wait for a slow login shell to run its command: connected at once, and replies are not held back', async () => {
    expect(await connectAndMeasure(slowShell)).toBeLessThan(20)
    await slowShell.sshd.waitForLog(/Starting session: forced-command .*'sleep 30'|Starting session: command/)
  })

  it('carries on quietly when sshd refuses sessions; replies then wait for the delayed ACK, which is what the exec is for', async () => {
    // the control that shows the measurement above can fail: Nagle at sshd, ~40 ms per exchange
    expect(await connectAndMeasure(noSessions)).toBeGreaterThan(30)
  })
})
