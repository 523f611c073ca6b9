// Large reads with recycled chunks (large-reads.ts) on real loopback sockets: the bytes arrive intact and in order
// through splice even when the consumer is slow (writes go asynchronous, so recycled blocks are in flight while
// the next reads come in), chunks go back to the pool only once, and the socket still behaves as a stream.

import { createHash, randomBytes } from 'node:crypto'
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { connectWithDedicatedReads, connectWithLargeReads, isReleasableChunk, releaseChunk } from '../../../electron/core/tunnel/large-reads.js'
import { peekUntil } from '../../../electron/core/tunnel/peek.js'
import { splice } from '../../../electron/core/tunnel/splice.js'
import { randomLoopback } from './peers.js'

/**
 * Random bytes with a prime period (1,000,003): no block size or read size lines up with it, so a reordered,
 * dropped or recycled-too-early block changes the digest.
 */
function pattern(total: number): Buffer {
  const period = randomBytes(1_000_003)
  const out = Buffer.allocUnsafe(total)
  for (let offset = 0; offset < total; ) offset += period.copy(out, offset)
  return out
}

const servers: Server[] = []
const sockets: Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
})

function listen(server: Server, host: string): Promise<number> {
  servers.push(server)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : 0)
    })
  })
}

/** An origin that sends `data` in uneven writes once a client connects, then ends. */
async function startOrigin(host: string, data: Buffer): Promise<number> {
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    socket.resume()
    let offset = 0
    let step = 0
    const more = (): void => {
      while (offset < data.length) {
        const size = [7, 70_000, 1_000_000, 3, 262_144, 65_536, 2_000_000][step++ % 7]!
        const chunk = data.subarray(offset, offset + size)
        offset += chunk.length
        if (!socket.write(chunk)) {
          socket.once('drain', more)
          return
        }
      }
      socket.end()
    }
    more()
  })
  return listen(server, host)
}

describe('connectWithLargeReads', () => {
  it('carries 32 MiB intact through splice to a slow, pausing reader', async () => {
    const host = randomLoopback()
    const data = pattern(32 * 1024 * 1024)
    const originPort = await startOrigin(host, data)

    // The tunnel side: accept the client, dial the origin with large reads, splice.
    let spliceError: Error | undefined
    let finish: (value: { received: number; digest: string }) => void = () => {}
    const result = new Promise<{ received: number; digest: string }>((resolve) => (finish = resolve))
    const closed = new Promise<void>((resolve) => {
      const front = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
        sockets.push(client)
        client.on('error', () => {})
        const upstream = connectWithLargeReads({ host, port: originPort, allowHalfOpen: true, noDelay: true })
        sockets.push(upstream)
        upstream.on('error', () => {})
        upstream.once('connect', () => {
          splice(client, upstream, {
            onClose: (error) => {
              spliceError = error
              resolve()
            },
          })
        })
      })
      void listen(front, host).then((port) => {
        const reader = netConnect({ host, port, allowHalfOpen: true })
        sockets.push(reader)
        const hash = createHash('sha256')
        let received = 0
        let nextPause = 0
        reader.on('data', (chunk: Buffer) => {
          hash.update(chunk)
          received += chunk.length
          // Pause every 512 KiB so the tunnel's writes to us back up and go asynchronous.
          if (received >= nextPause) {
            nextPause = received + 512 * 1024
            reader.pause()
            setTimeout(() => reader.resume(), 3)
          }
        })
        reader.once('end', () => {
          reader.end()
          finish({ received, digest: hash.digest('hex') })
        })
      })
    })
    const { received, digest } = await result
    await closed
    expect(received).toBe(data.length)
    expect(digest).toBe(createHash('sha256').update(data).digest('hex'))
    expect(spliceError).toBeUndefined()
  })

  it('is a plain stream: peekUntil sees the first bytes, pause holds data back, end arrives; large chunks are released once', async () => {
    const host = randomLoopback()
    const data = pattern(4 * 1024 * 1024)
    const originPort = await startOrigin(host, data)
    const socket = connectWithLargeReads({ host, port: originPort, allowHalfOpen: true })
    sockets.push(socket)
    socket.on('error', () => {})
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))

    const peeked = await peekUntil(socket, (buf) => (buf.length >= 5 ? buf.subarray(0, 5) : 'need-more'), { deadlineMs: 5000, maxBytes: 1 << 22 })
    expect(peeked.result.equals(data.subarray(0, 5))).toBe(true)

    // peekUntil leaves the socket paused: nothing may flow until it is resumed.
    let flowedWhilePaused = 0
    const probe = (chunk: Buffer): void => {
      flowedWhilePaused += chunk.length
    }
    socket.on('data', probe)
    socket.pause()
    await new Promise((resolve) => setTimeout(resolve, 50))
    socket.off('data', probe)
    expect(flowedWhilePaused).toBe(0)

    const chunks: Buffer[] = [peeked.buffered]
    let releasable = 0
    socket.on('data', (chunk: Buffer) => {
      if (isReleasableChunk(chunk)) {
        releasable += 1
        // A copy for the check below, then back to the pool: the pool may hand the block out again at once.
        chunks.push(Buffer.from(chunk))
        releaseChunk(chunk)
        expect(isReleasableChunk(chunk)).toBe(false)
        releaseChunk(chunk) // a second release is ignored
      } else {
        chunks.push(chunk)
      }
    })
    socket.resume()
    await new Promise<void>((resolve) => socket.once('end', () => resolve()))
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
    expect(releasable).toBeGreaterThan(0)
  })

  it('connectWithDedicatedReads delivers every byte in order to a pausing reader', async () => {
    const host = randomLoopback()
    const data = pattern(8 * 1024 * 1024)
    const originPort = await startOrigin(host, data)
    const socket = connectWithDedicatedReads({ host, port: originPort, allowHalfOpen: true })
    sockets.push(socket)
    socket.on('error', () => {})
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      socket.pause()
      setTimeout(() => socket.resume(), 1)
    })
    await new Promise<void>((resolve) => socket.once('end', () => resolve()))
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
  })

  it('ignores chunks it did not hand out', () => {
    const foreign = Buffer.alloc(128 * 1024)
    expect(isReleasableChunk(foreign)).toBe(false)
    releaseChunk(foreign)
    expect(isReleasableChunk(foreign)).toBe(false)
  })
})
