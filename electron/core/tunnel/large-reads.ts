// Socket reads for bulk forwarding (PERF-NOTES.md trap 4: the read size, not highWaterMark, sets throughput).
//
// A Node socket reads at most 64 KiB at a time, each read into freshly allocated memory: the kernel then faults
// in and zeroes new pages for every read, which costs more CPU than the copy itself. An outgoing socket made by
// connectWithLargeReads reads up to 1 MiB at a time and pushes what it read into its own readable side, so it
// still behaves as a plain stream ('data', pause/resume, 'end', peekUntil, splice):
// - while data comes in bulk (the last read was 64 KiB or more) it reads straight into a recycled 1 MiB block
//   and pushes a view of it, without a copy;
// - otherwise it reads into ONE buffer shared by every such socket of the process (JavaScript runs one read
//   callback at a time and the callback copies before it returns) and copies the bytes out, so idle and chatty
//   connections hold no large block.
// Chunks of 64 KiB and more live in recycled blocks (power-of-two sizes, 64 KiB to 1 MiB): a consumer that is
// done with such a chunk hands it back with releaseChunk() (splice does, once the chunk is written), so busy
// connections reuse warm memory. A chunk that is never handed back is simply garbage collected.
//
// connectWithDedicatedReads is the variant for the one SSH transport socket: bulk reads go into a fresh buffer
// each, without a copy, because ssh2 decrypts in place and hands out views of the read as channel data.

import { connect as netConnect, type Socket, type TcpNetConnectOpts } from 'node:net'

/** The most one read takes from the kernel. */
export const largeReadBytes = 1024 * 1024

/**
 * Stream thresholds of forwarded sockets: how much may wait in a socket's buffer before the other side is paused.
 * Above one large read's share so a 1 MiB chunk is not paused for at every write; it is a threshold, not an
 * allocation: idle connections cost nothing more.
 */
export const forwardHighWaterMark = 256 * 1024

const smallestBlock = 64 * 1024
/** Recycled blocks kept per size (the rest of what is handed back is left to the garbage collector). */
const keptPerSize = 8

let sharedReadBuffer: Buffer | undefined
/** Free blocks by size; a block is in a list only while no chunk of it is in use. */
const freeBlocks = new Map<number, ArrayBuffer[]>()
/** Blocks lent out as a chunk, so releaseChunk() accepts only chunks that came from here, once. */
const lentBlocks = new WeakSet<ArrayBuffer>()

/** A chunk of `bytes` (≥ smallestBlock) backed by a recycled or new block of the next power-of-two size. */
function takeChunk(bytes: number): Buffer {
  let size = smallestBlock
  while (size < bytes) size *= 2
  const block = freeBlocks.get(size)?.pop() ?? new ArrayBuffer(size)
  lentBlocks.add(block)
  return Buffer.from(block, 0, bytes)
}

/**
 * Hands a chunk read by a connectWithLargeReads socket back for reuse once nothing refers to its bytes any more
 * (for a socket write: in the write's callback). Chunks from anywhere else are ignored; so is a second release.
 */
export function releaseChunk(chunk: Buffer): void {
  const block = chunk.buffer as ArrayBuffer
  if (chunk.byteOffset !== 0 || !lentBlocks.has(block)) return
  lentBlocks.delete(block)
  const size = block.byteLength
  let list = freeBlocks.get(size)
  if (list === undefined) {
    list = []
    freeBlocks.set(size, list)
  }
  if (list.length < keptPerSize) list.push(block)
}

/** True for a chunk that releaseChunk() would take back (so a consumer knows a write callback is worth it). */
export function isReleasableChunk(chunk: Buffer): boolean {
  return chunk.byteOffset === 0 && lentBlocks.has(chunk.buffer as ArrayBuffer)
}

/**
 * Read size of connectWithDedicatedReads for bulk data. Measured with the SSH transport: as fast as 1 MiB, and a
 * consumer that holds one small view (one channel's packet while its client is slow) pins at most this much.
 */
export const dedicatedReadBytes = 256 * 1024

/**
 * net.connect for ONE long-lived socket that carries many streams (the SSH transport). While data comes in bulk
 * (the last read was 64 KiB or more), each read goes straight into a new dedicatedReadBytes buffer and a view of
 * the bytes read is pushed, without a copy; otherwise the next read goes into the shared buffer and is copied out
 * at its own size, so small reads (keepalives, channel opens, short requests) allocate no large buffer. Views keep
 * their buffer alive until consumed, so this is not for many connections.
 */
export function connectWithDedicatedReads(options: TcpNetConnectOpts): Socket {
  const shared = (sharedReadBuffer ??= Buffer.allocUnsafe(largeReadBytes))
  let bulk = false
  const connectOptions: TcpNetConnectOpts & { highWaterMark: number } = {
    highWaterMark: forwardHighWaterMark,
    ...options,
    onread: {
      buffer: () => (bulk ? Buffer.allocUnsafe(dedicatedReadBytes) : shared),
      callback: (bytes: number, buffer: Uint8Array): boolean => {
        let chunk: Buffer
        if (buffer === shared) {
          chunk = Buffer.allocUnsafe(bytes)
          chunk.set(shared.subarray(0, bytes))
        } else {
          chunk = Buffer.from(buffer.buffer, buffer.byteOffset, bytes)
        }
        bulk = bytes >= smallestBlock
        return socket.push(chunk)
      },
    },
  }
  const socket: Socket = netConnect(connectOptions)
  return socket
}

/** At most this many connectWithLargeReads sockets read straight into a recycled block at a time (bulk mode). */
const maxArmedBlocks = 64
let armedBlocks = 0

/**
 * net.connect with large reads (see above) and forwardHighWaterMark. Everything else is as with net.connect:
 * pass allowHalfOpen, noDelay and the address in `options`.
 *
 * While data comes in bulk (the last read was 64 KiB or more) the socket reads straight into a recycled 1 MiB
 * block and pushes a view of it, without a copy (at most maxArmedBlocks sockets at a time; the others copy).
 */
export function connectWithLargeReads(options: TcpNetConnectOpts): Socket {
  const shared = (sharedReadBuffer ??= Buffer.allocUnsafe(largeReadBytes))
  let bulk = false
  let armed: Buffer | undefined
  const disarm = (): void => {
    if (armed === undefined) return
    armed = undefined
    armedBlocks--
  }
  // highWaterMark on a client socket works since Node 18.17 / 20.1 (both sides); @types/node does not list it yet.
  const connectOptions: TcpNetConnectOpts & { highWaterMark: number } = {
    highWaterMark: forwardHighWaterMark,
    ...options,
    onread: {
      buffer: (): Buffer => {
        if (!bulk || armedBlocks >= maxArmedBlocks) return shared
        armedBlocks++
        armed = takeChunk(largeReadBytes)
        return armed
      },
      callback: (bytes: number, buffer: Uint8Array): boolean => {
        let chunk: Buffer
        if (buffer === armed) {
          disarm()
          chunk = Buffer.from(buffer.buffer, 0, bytes) // releasable: offset 0 of a lent block
        } else {
          chunk = bytes >= smallestBlock ? takeChunk(bytes) : Buffer.allocUnsafe(bytes)
          chunk.set(buffer.subarray(0, bytes))
        }
        bulk = bytes >= smallestBlock
        // false stops reading until the stream is read from again (its _read starts the handle reading).
        return socket.push(chunk)
      },
    },
  }
  const socket: Socket = netConnect(connectOptions)
  // A block still armed when the socket closes is left to the garbage collector.
  socket.once('close', disarm)
  return socket
}
