// A delaying TCP relay for benchmarks, standing in for a real link (tc netem is not available everywhere): it
// listens on 127.0.0.1:listenPort and forwards every accepted connection to 127.0.0.1:targetPort, each chunk,
// EOF and close held back `oneWayMs` in its direction, in order. It runs in the benchmark's own process.
//
// connectRoundTrip (default false): also charge the TCP handshake of the link. Connecting to the relay itself is
// instant (loopback), so without this a fresh connection would cost nothing until its first byte, and a warm
// (pooled) connection would gain nothing over a fresh one. With it, as on a real link where the SYN/SYN-ACK takes
// one round trip and the server accepts on the final ACK: bytes the client sends reach the target no earlier than
// 1.5 round trips (3 × oneWayMs) after the client connected, and bytes the target sends reach the client no
// earlier than 2 round trips after it. A connection opened ahead of time has paid that already.

import { connect, createServer } from 'node:net'
import { performance } from 'node:perf_hooks'

/**
 * Starts the relay; resolves once it listens. `close()` stops listening (connections it holds end when their
 * peers close them); `destroy()` also destroys those at once.
 * @returns {Promise<{ port: number, close(): void, destroy(): void }>}
 */
export function startDelayRelay(listenPort, targetPort, oneWayMs, { connectRoundTrip = false } = {}) {
  const open = new Set()
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (a) => {
    const accepted = performance.now()
    const b = connect({ host: '127.0.0.1', port: targetPort, noDelay: true, allowHalfOpen: true })
    for (const socket of [a, b]) {
      open.add(socket)
      socket.on('close', () => open.delete(socket))
    }
    pass(a, b, connectRoundTrip ? accepted + 3 * oneWayMs : 0)
    pass(b, a, connectRoundTrip ? accepted + 4 * oneWayMs : 0)
  })
  /** Replays what `from` does on `to`, each event at max(now + oneWayMs, notBefore), in the order it happened. */
  const pass = (from, to, notBefore) => {
    const queue = []
    let timer
    const run = () => {
      timer = undefined
      const now = performance.now()
      while (queue.length > 0 && queue[0].due <= now + 0.5) queue.shift().action()
      if (queue.length > 0) timer = setTimeout(run, queue[0].due - now)
    }
    const later = (action) => {
      queue.push({ due: Math.max(performance.now() + oneWayMs, notBefore), action })
      if (timer === undefined) timer = setTimeout(run, queue[0].due - performance.now())
    }
    from.on('data', (chunk) => later(() => to.write(chunk)))
    from.on('end', () => later(() => to.end()))
    from.on('error', () => to.destroy())
    from.on('close', () => later(() => to.destroy()))
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(listenPort, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        close() {
          server.close()
        },
        destroy() {
          server.close()
          for (const socket of open) socket.destroy()
        },
      }),
    )
  })
}
