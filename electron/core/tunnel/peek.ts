// Read the first bytes of a connection (a ClientHello, a request head) without losing any of them.

import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { BridgeError } from '../errors.js'

export interface PeekOptions {
  /** The whole head must have arrived within this many milliseconds of the call. */
  readonly deadlineMs: number
  /** More buffered bytes than this without a result rejects with CLIENT_HELLO_TOO_LARGE. */
  readonly maxBytes: number
}

export interface PeekResult<T> {
  readonly result: T
  /** Every byte read so far, in order: write these upstream before splicing the rest. */
  readonly buffered: Buffer
}

/**
 * Reads from `socket` until `parse(everything so far)` returns something other than 'need-more'.
 * The socket is left paused with every byte it delivered in `buffered`; every listener this function added is
 * removed on every exit path. Rejects with BridgeError CLIENT_HELLO_TIMEOUT (deadline), CLIENT_HELLO_TOO_LARGE
 * (maxBytes), CLIENT_CLOSED (end, close or error before a result), or the error `parse` threw (a bug).
 */
export function peekUntil<T>(
  socket: Duplex | Socket,
  parse: (buf: Buffer) => T | 'need-more',
  options: PeekOptions,
): Promise<PeekResult<T>> {
  return new Promise<PeekResult<T>>((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    let settled = false

    const cleanup = (): void => {
      settled = true
      clearTimeout(timer)
      socket.pause()
      socket.off('data', ondata)
      socket.off('end', onend)
      socket.off('close', onclose)
      socket.off('error', onerror)
    }
    const fail = (error: Error): void => {
      if (settled) return
      cleanup()
      reject(error)
    }

    const ondata = (chunk: Buffer | string): void => {
      if (settled) return
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk
      chunks.push(bytes)
      total += bytes.length
      const buffered = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
      if (chunks.length > 1) {
        chunks.length = 0
        chunks.push(buffered)
      }
      let result: T | 'need-more'
      try {
        result = parse(buffered)
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)))
        return
      }
      if (result !== 'need-more') {
        cleanup()
        resolve({ result, buffered })
        return
      }
      if (total > options.maxBytes) {
        fail(
          new BridgeError('CLIENT_HELLO_TOO_LARGE', `The client sent more than ${options.maxBytes} bytes without a complete head.`, {
            hint: 'Point only TLS or HTTP clients of the allowed names at the tunnel.',
          }),
        )
      }
    }
    const onend = (): void => {
      fail(
        new BridgeError('CLIENT_CLOSED', 'The client closed the connection before its first request was complete.', {
          hint: 'Nothing to do unless this repeats; then check which program connects to the tunnel.',
        }),
      )
    }
    const onclose = onend
    const onerror = (error: Error): void => {
      fail(
        new BridgeError('CLIENT_CLOSED', 'The client connection failed before its first request was complete.', {
          hint: 'Nothing to do unless this repeats; then check which program connects to the tunnel.',
          cause: error,
        }),
      )
    }
    const timer = setTimeout(() => {
      fail(
        new BridgeError('CLIENT_HELLO_TIMEOUT', `The client sent no complete head within ${options.deadlineMs} ms.`, {
          hint: 'Point only TLS or HTTP clients of the allowed names at the tunnel.',
        }),
      )
    }, options.deadlineMs)

    socket.on('error', onerror)
    if (socket.destroyed || socket.readableEnded) {
      onend()
      return
    }
    socket.on('data', ondata)
    socket.on('end', onend)
    socket.on('close', onclose)
    socket.resume()
  })
}
