// Join two byte streams both ways: backpressure, half-close, one teardown.
//
// Explicit 'data'/'drain'/'end' handling instead of stream.pipeline: pipeline costs ~17 KiB more per connection
// (PERF-NOTES.md, trap 3) and with allowHalfOpen a direction that completes must not tear down the other one.

import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { isReleasableChunk, releaseChunk } from './large-reads.js'

export interface SpliceOptions {
  /** Bytes already read from `client` (the peeked head): written to `upstream` first. */
  readonly initial?: Buffer
  /** Called for every chunk moved: `up` bytes client → upstream, `down` bytes upstream → client (one is 0). */
  readonly onBytes?: (up: number, down: number) => void
  /** Called exactly once, after both sides were destroyed; `err` is set when a side failed or closed early. */
  readonly onClose?: (err?: Error) => void
  /**
   * Sees every chunk read from `client` (not `initial`) before it is written to `upstream`; false tears both sides
   * down at once, without writing it (onClose gets no error: the caller decided, and says why itself).
   */
  readonly inspectClientChunk?: (chunk: Buffer) => boolean
}

export interface SpliceHandle {
  /** Destroys both sides now (idempotent); `err` is passed on to onClose. */
  close(err?: Error): void
}

/**
 * Moves bytes both ways between `client` and `upstream` until both directions have finished (each side's FIN
 * was passed on with end() and flushed) or either side failed; then destroys both, once.
 * Both streams should have been created with allowHalfOpen: true (for net sockets it is switched on here);
 * TCP sockets get setNoDelay(true). Paused streams are resumed.
 */
export function splice(client: Duplex, upstream: Duplex, options: SpliceOptions = {}): SpliceHandle {
  let done = false
  const onBytes = options.onBytes

  const teardown = (err?: Error): void => {
    if (done) return
    done = true
    up.detach()
    down.detach()
    client.destroy()
    upstream.destroy()
    options.onClose?.(err)
  }

  const finishedDirection = (): void => {
    if (up.finished && down.finished) teardown()
  }

  for (const side of [client, upstream]) {
    if (side instanceof Socket) {
      side.allowHalfOpen = true
      if (!side.connecting && !side.destroyed) side.setNoDelay(true)
    }
  }

  const up = pump(client, upstream, onBytes === undefined ? undefined : (n) => onBytes(n, 0), finishedDirection, teardown, options.inspectClientChunk)
  const down = pump(upstream, client, onBytes === undefined ? undefined : (n) => onBytes(0, n), finishedDirection, teardown)

  if (options.initial !== undefined && options.initial.length > 0) {
    upstream.write(options.initial)
    onBytes?.(options.initial.length, 0)
  }
  if (!done) {
    up.start()
    down.start()
  }
  return { close: (err) => teardown(err) }
}

interface Pump {
  /** The source ended and its end was flushed to the destination. */
  readonly finished: boolean
  start(): void
  detach(): void
}

function pump(
  src: Duplex,
  dst: Duplex,
  count: ((n: number) => void) | undefined,
  onFinished: () => void,
  fail: (err?: Error) => void,
  inspect?: (chunk: Buffer) => boolean,
): Pump {
  let ended = false
  let flushed = false
  let corked = false

  // Writes made in one turn of the event loop leave in one writev: an SSH channel delivers a transport read as
  // many 32 KiB packets, which would otherwise cost one write call each.
  const uncork = (): void => {
    corked = false
    dst.uncork()
  }
  const ondata = (chunk: Buffer | string): void => {
    if (inspect !== undefined && !inspect(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) {
      fail()
      return
    }
    if (typeof chunk !== 'string' && isReleasableChunk(chunk)) {
      writeRecycled(chunk)
      return
    }
    if (!corked) {
      corked = true
      dst.cork()
      process.nextTick(uncork)
    }
    count?.(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length)
    if (!dst.write(chunk)) src.pause()
  }
  // A large-read chunk (large-reads.ts) is one read of up to 1 MiB: no corking. It goes back to its pool as soon
  // as the kernel has all of it: at once when the write completed synchronously (nothing left in the stream's
  // buffer), so the next read lands in the same, still cached block; otherwise when the write's callback runs.
  const writeRecycled = (chunk: Buffer): void => {
    count?.(chunk.length)
    let released = false
    const written = dst.write(chunk, () => {
      if (!released) releaseChunk(chunk)
    })
    if (dst.writableLength === 0) {
      released = true
      releaseChunk(chunk)
      return // all written: no reason to pause the source (the 'drain' that follows finds it flowing)
    }
    if (!written) src.pause()
  }
  const ondrain = (): void => {
    if (!ended) src.resume()
  }
  const onend = (): void => {
    if (ended) return
    ended = true
    dst.end()
  }
  const onfinish = (): void => {
    flushed = true
    if (ended) onFinished()
  }
  const onerror = (err: Error): void => fail(err)
  // A side that closes before its part of this direction completed was destroyed or reset: tear down the other.
  // (A socket closes by itself once it has read its peer's FIN and flushed ours; that is not premature.)
  const onsrcclose = (): void => {
    if (!ended) fail(prematureClose())
  }
  const ondstclose = (): void => {
    if (!flushed) fail(prematureClose())
  }

  return {
    get finished() {
      return ended && flushed
    },
    start() {
      src.on('data', ondata)
      src.on('end', onend)
      src.on('error', onerror)
      src.on('close', onsrcclose)
      dst.on('drain', ondrain)
      dst.on('finish', onfinish)
      dst.on('error', onerror)
      dst.on('close', ondstclose)
      if (src.readableEnded) onend()
      if (dst.writableFinished) onfinish()
      if (src.destroyed) onsrcclose()
      else if (dst.destroyed) ondstclose()
      else if (!dst.writableNeedDrain) src.resume()
    },
    detach() {
      src.off('data', ondata)
      src.off('end', onend)
      src.off('close', onsrcclose)
      dst.off('drain', ondrain)
      dst.off('finish', onfinish)
      dst.off('close', ondstclose)
      // The 'error' listeners stay: a late error on a destroyed stream must not become an uncaught exception.
    },
  }
}

function prematureClose(): Error {
  const error = new Error('stream closed before the splice completed') as Error & { code?: string }
  error.code = 'ERR_STREAM_PREMATURE_CLOSE'
  return error
}
