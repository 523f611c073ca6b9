// Loopback TCP peers for the forwarded channels: what the ECS would reach inside the VPC.

import { createHash } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'

export interface TestServer {
  readonly port: number
  /** Connections accepted so far. */
  readonly accepted: number
  /** Connections currently open on the server side. */
  readonly open: number
  close(): Promise<void>
}

/**
 * Starts a TCP server on 127.0.0.1:0 with allowHalfOpen. `handle` gets each connection; the helper tracks them and
 * close() destroys whatever is left.
 */
export function startServer(handle: (socket: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted++
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
    handle(socket)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') return reject(new Error('no port'))
      resolve({
        port: address.port,
        get accepted() {
          return accepted
        },
        get open() {
          return sockets.size
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}

/** Echoes every byte; ends its side when the client ended its side (half-close passed on). */
export function startEchoServer(): Promise<TestServer> {
  return startServer((socket) => socket.pipe(socket))
}

/**
 * Reads everything the client sends; only after the client's FIN it answers `sha256 <hex> <bytes>\n` of what it
 * received, then waits `delayMs` and sends `tail`, then ends. Tests the half-closed direction.
 */
export function startDigestServer(options: { readonly delayMs?: number; readonly tail?: Buffer } = {}): Promise<TestServer> {
  return startServer((socket) => {
    const hash = createHash('sha256')
    let bytes = 0
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      bytes += chunk.length
    })
    socket.on('end', () => {
      socket.write(`sha256 ${hash.digest('hex')} ${bytes}\n`)
      setTimeout(() => {
        if (options.tail !== undefined) socket.write(options.tail)
        socket.end()
      }, options.delayMs ?? 0)
    })
  })
}

/** Sends `size` pseudo-random bytes (seeded by the size) then ends; ignores input. */
export function startBulkServer(size: number): Promise<TestServer> {
  return startServer((socket) => {
    socket.resume()
    let sent = 0
    const chunk = patternChunk()
    const pump = (): void => {
      while (sent < size) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent))
        sent += piece.length
        if (!socket.write(piece)) {
          socket.once('drain', pump)
          return
        }
      }
      socket.end()
    }
    pump()
  })
}

/** The bytes startBulkServer sends, for comparison: sha256 hex of `size` bytes of the pattern. */
export function bulkDigest(size: number): string {
  const hash = createHash('sha256')
  const chunk = patternChunk()
  for (let sent = 0; sent < size; sent += chunk.length) hash.update(chunk.subarray(0, Math.min(chunk.length, size - sent)))
  return hash.digest('hex')
}

function patternChunk(): Buffer {
  const chunk = Buffer.alloc(256 * 1024)
  let x = 0x12345678
  for (let i = 0; i < chunk.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    chunk[i] = x >>> 24
  }
  return chunk
}

/** Reads a stream to its end; rejects on error or on 'close' before 'end'. */
export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let ended = false
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.once('end', () => {
      ended = true
      resolve(Buffer.concat(chunks))
    })
    stream.once('error', reject)
    stream.once('close', () => {
      if (!ended) reject(new Error('stream closed before its end'))
    })
  })
}

/** sha256 hex and length of everything read from `stream`. */
export function digestAll(stream: Duplex): Promise<{ digest: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    let bytes = 0
    let ended = false
    stream.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      bytes += chunk.length
    })
    stream.once('end', () => {
      ended = true
      resolve({ digest: hash.digest('hex'), bytes })
    })
    stream.once('error', reject)
    stream.once('close', () => {
      if (!ended) reject(new Error('stream closed before its end'))
    })
  })
}

/** Polls `condition` every 20 ms until it holds; throws `message` after timeoutMs. */
export async function waitUntil(condition: () => boolean, message: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting: ${message}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
