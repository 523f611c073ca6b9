import { describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import { peekUntil } from '../../../electron/core/tunnel/peek.js'
import { duplexPair } from './duplex-pair.js'

/** Done when the buffer holds a line feed: returns the text up to it. */
const untilNewline = (buf: Buffer): string | 'need-more' => {
  const at = buf.indexOf(0x0a)
  return at === -1 ? 'need-more' : buf.toString('latin1', 0, at)
}

const listenerCounts = (stream: NodeJS.EventEmitter): number[] =>
  ['data', 'end', 'close', 'error', 'readable'].map((event) => stream.listenerCount(event))

describe('peekUntil', () => {
  it('collects a head written byte by byte, keeps the bytes after it, and leaves the stream paused and clean', async () => {
    const [local, remote] = duplexPair()
    remote.on('error', () => {})
    const before = listenerCounts(local)
    const peek = peekUntil(local, untilNewline, { deadlineMs: 5000, maxBytes: 1024 })
    for (const byte of Buffer.from('hello\nrest')) remote.write(Buffer.from([byte]))
    const { result, buffered } = await peek
    expect(result).toBe('hello')
    expect(listenerCounts(local)).toEqual(before)
    expect(local.isPaused()).toBe(true)

    // Nothing delivered while paused is lost: buffered + what is read next is everything that was written.
    remote.end(' and more')
    const after: Buffer[] = []
    local.on('data', (chunk: Buffer) => after.push(chunk))
    local.resume()
    await new Promise((resolve) => local.once('end', resolve))
    expect(Buffer.concat([buffered, ...after]).toString()).toBe('hello\nrest and more')
    local.destroy()
  })

  it('rejects with CLIENT_HELLO_TIMEOUT after the deadline and removes its listeners', async () => {
    const [local, remote] = duplexPair()
    const before = listenerCounts(local)
    remote.write('no newline yet')
    const error = await peekUntil(local, untilNewline, { deadlineMs: 50, maxBytes: 1024 }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'CLIENT_HELLO_TIMEOUT')).toBe(true)
    expect(listenerCounts(local)).toEqual(before)
    local.destroy()
  })

  it('rejects with CLIENT_HELLO_TOO_LARGE past maxBytes', async () => {
    const [local, remote] = duplexPair()
    const peek = peekUntil(local, untilNewline, { deadlineMs: 5000, maxBytes: 100 })
    remote.write(Buffer.alloc(60, 0x61))
    remote.write(Buffer.alloc(60, 0x61))
    const error = await peek.catch((e: unknown) => e)
    expect(isBridgeError(error, 'CLIENT_HELLO_TOO_LARGE')).toBe(true)
    local.destroy()
  })

  it('rejects with CLIENT_CLOSED when the peer ends, or the stream is destroyed, before the head is complete', async () => {
    const [a, b] = duplexPair()
    const peek = peekUntil(a, untilNewline, { deadlineMs: 5000, maxBytes: 100 })
    b.end('partial')
    expect(isBridgeError(await peek.catch((e: unknown) => e), 'CLIENT_CLOSED')).toBe(true)
    a.destroy()

    const [c] = duplexPair()
    const peek2 = peekUntil(c, untilNewline, { deadlineMs: 5000, maxBytes: 100 })
    c.destroy(new Error('ECONNRESET'))
    expect(isBridgeError(await peek2.catch((e: unknown) => e), 'CLIENT_CLOSED')).toBe(true)

    const [d] = duplexPair()
    d.destroy()
    const error = await peekUntil(d, untilNewline, { deadlineMs: 5000, maxBytes: 100 }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'CLIENT_CLOSED')).toBe(true)
  })

  it('passes on an exception from the parser (a bug) and cleans up', async () => {
    const [local, remote] = duplexPair()
    const before = listenerCounts(local)
    const peek = peekUntil(local, () => { throw new Error('parser bug') }, { deadlineMs: 5000, maxBytes: 100 })
    remote.write('x')
    await expect(peek).rejects.toThrow('parser bug')
    expect(listenerCounts(local)).toEqual(before)
    local.destroy()
  })
})
