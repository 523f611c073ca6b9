// The measuring client of the tunnel benchmark: bulk downloads, sequential connection latency, many concurrent
// connections, against the protocol of server.mjs. Every connection goes to 127.0.0.1:<port> with TLS SNI
// `name` (the tunnel routes by it) or an HTTP head with `Host: name`.

import { connect as netConnect } from 'node:net'
import { connect as tlsConnect, createSecureContext } from 'node:tls'

const readBuffer = Buffer.allocUnsafe(1024 * 1024)
const echoPayload = Buffer.concat([Buffer.from('echo\n'), Buffer.alloc(1024 - 5, 0x62)])

/**
 * One TLS context per trust store for the whole run, as a real client keeps one (docker, skopeo and curl build
 * theirs once per process). `tls.connect({ca})` builds a new context for every connection: about 2 ms of CPU here,
 * on the same two cores the forwarder under test needs, which inflated every latency figure and its spread.
 */
const contexts = new Map()
function trusting(ca) {
  let context = contexts.get(ca)
  if (context === undefined) {
    context = createSecureContext({ ca })
    contexts.set(ca, context)
  }
  return context
}

/** Time limit for one bulk transfer or one latency sample: a stuck path fails the bench, it does not hang it. */
const transferTimeoutMs = 120_000

function withTimeout(socket, ms, reject, what) {
  const timer = setTimeout(() => {
    socket.destroy()
    reject(new Error(`${what}: no result within ${ms} ms`))
  }, ms)
  return () => clearTimeout(timer)
}

/**
 * Downloads `bytes` over TLS: "send <bytes>\n", then reads to the end. Resolves with {bytes, ms}, ms measured
 * from the request to the last byte (the handshake is not part of it).
 */
export function tlsDownload({ port, name, ca, bytes }) {
  return new Promise((resolve, reject) => {
    let received = 0
    let t0 = 0n
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: name, secureContext: trusting(ca), noDelay: true, allowHalfOpen: true })
    const clear = withTimeout(socket, transferTimeoutMs, reject, `TLS download via port ${port}`)
    socket.on('error', (error) => {
      clear()
      reject(error)
    })
    socket.once('secureConnect', () => {
      t0 = process.hrtime.bigint()
      socket.write(`send ${bytes}\n`)
    })
    socket.on('data', (chunk) => {
      received += chunk.length
    })
    socket.once('end', () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      clear()
      socket.destroy()
      if (received !== bytes) reject(new Error(`TLS download via port ${port}: got ${received} of ${bytes} bytes`))
      else resolve({ bytes, ms })
    })
  })
}

/** Downloads `bytes` over plain TCP with an HTTP-like head naming `name`; the client reads with onread. */
export function rawDownload({ port, name, bytes }) {
  return new Promise((resolve, reject) => {
    let received = 0
    let t0 = 0n
    const socket = netConnect({
      host: '127.0.0.1',
      port,
      noDelay: true,
      allowHalfOpen: true,
      onread: {
        buffer: readBuffer,
        callback: (n) => {
          received += n
          return true
        },
      },
    })
    const clear = withTimeout(socket, transferTimeoutMs, reject, `raw download via port ${port}`)
    socket.on('error', (error) => {
      clear()
      reject(error)
    })
    socket.once('connect', () => {
      t0 = process.hrtime.bigint()
      socket.write(`GET /send/${bytes} HTTP/1.1\r\nHost: ${name}\r\n\r\n`)
    })
    socket.once('end', () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      clear()
      socket.destroy()
      if (received !== bytes) reject(new Error(`raw download via port ${port}: got ${received} of ${bytes} bytes`))
      else resolve({ bytes, ms })
    })
  })
}

/**
 * One connection: TCP connect + TLS handshake + 1 KiB sent and echoed back. Resolves with the milliseconds
 * from the connect call to the last echoed byte, after the socket has closed (closing is not timed).
 * With `keepOpen`, resolves {ms, socket} and leaves the socket open.
 */
export function echoOnce({ port, name, ca, keepOpen = false, timeoutMs = 30_000 }) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    let received = 0
    let ms = 0
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: name, secureContext: trusting(ca), noDelay: true })
    const clear = withTimeout(socket, timeoutMs, reject, `echo via port ${port}`)
    const fail = (error) => {
      clear()
      socket.destroy()
      reject(error)
    }
    socket.on('error', fail)
    socket.once('close', () => {
      if (received < echoPayload.length) fail(new Error(`echo via port ${port}: closed after ${received} of ${echoPayload.length} bytes`))
    })
    socket.once('secureConnect', () => socket.write(echoPayload))
    const ondata = (chunk) => {
      received += chunk.length
      if (received < echoPayload.length) return
      ms = Number(process.hrtime.bigint() - t0) / 1e6
      socket.off('data', ondata)
      clear()
      if (keepOpen) {
        socket.off('error', fail)
        socket.on('error', () => {})
        resolve({ ms, socket })
        return
      }
      socket.once('close', () => resolve(ms))
      socket.end()
      socket.resume()
    }
    socket.on('data', ondata)
  })
}

/** `count` sequential echoOnce samples; resolves with the array of milliseconds. */
export async function latencySeries({ port, name, ca, count }) {
  const samples = []
  for (let i = 0; i < count; i++) samples.push(await echoOnce({ port, name, ca }))
  return samples
}

/**
 * Opens `count` TLS connections at once, each completing one 1 KiB echo, and keeps them all open; then calls
 * `whileOpen()` (sample memory there) and closes them. Resolves with {opened, failures, firstError}.
 */
export async function concurrentEchoes({ port, name, ca, count, whileOpen, timeoutMs = 60_000 }) {
  const settled = await Promise.allSettled(Array.from({ length: count }, () => echoOnce({ port, name, ca, keepOpen: true, timeoutMs })))
  const sockets = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value.socket)
  const failed = settled.filter((s) => s.status === 'rejected')
  // Connections that die while the others are held open count as failures too.
  let diedWhileOpen = 0
  let closing = false
  for (const socket of sockets) socket.once('close', () => (diedWhileOpen += closing ? 0 : 1))
  await whileOpen?.()
  closing = true
  const held = sockets.length - diedWhileOpen
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise((resolve) => {
          if (socket.destroyed) return resolve()
          socket.once('close', resolve)
          socket.end()
          socket.resume()
          setTimeout(() => socket.destroy(), 5000).unref()
        }),
    ),
  )
  return {
    opened: held,
    failures: failed.length + diedWhileOpen,
    firstError: failed[0]?.reason?.message,
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects after timeoutMs. */
export async function waitForPort(port, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port })
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
