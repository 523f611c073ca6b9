import type { Duplex } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import { splice } from '../../../electron/core/tunnel/splice.js'
import { duplexPair } from './duplex-pair.js'

/** client app ⇄ [clientSide | splice | upstreamSide] ⇄ server app */
function setup(options: Parameters<typeof splice>[2] = {}, highWaterMark?: number) {
  const [app, clientSide] = duplexPair(highWaterMark)
  const [upstreamSide, server] = duplexPair(highWaterMark)
  for (const s of [app, clientSide, upstreamSide, server]) s.on('error', () => {})
  const onClose = vi.fn<(err?: Error) => void>()
  const closed = new Promise<Error | undefined>((resolve) => {
    onClose.mockImplementation((err) => resolve(err))
  })
  const handle = splice(clientSide, upstreamSide, { ...options, onClose })
  return { app, clientSide, upstreamSide, server, onClose, closed, handle }
}

function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return new Promise((resolve) => stream.once('end', () => resolve(Buffer.concat(chunks))))
}

describe('splice', () => {
  it('moves bytes both ways, the initial bytes first, and counts them', async () => {
    const counts = { up: 0, down: 0 }
    const { app, server, onClose, closed, clientSide, upstreamSide } = setup({
      initial: Buffer.from('HEAD|'),
      onBytes: (up, down) => { counts.up += up; counts.down += down },
    })
    const atServer = readAll(server)
    const atApp = readAll(app)
    app.end('body')
    server.end('answer')
    expect((await atServer).toString()).toBe('HEAD|body')
    expect((await atApp).toString()).toBe('answer')
    expect(await closed).toBeUndefined()
    expect(onClose).toHaveBeenCalledTimes(1)
    expect(counts).toEqual({ up: 9, down: 6 })
    expect(clientSide.destroyed && upstreamSide.destroyed).toBe(true)
  })

  it('lets inspectClientChunk stop a client chunk: it is not written, both sides go, onClose gets no error', async () => {
    const seen: string[] = []
    const { app, server, closed, clientSide, upstreamSide } = setup({
      initial: Buffer.from('first|'),
      inspectClientChunk: (chunk) => {
        seen.push(chunk.toString())
        return !chunk.toString().includes('bad')
      },
    })
    const received: Buffer[] = []
    server.on('data', (chunk: Buffer) => received.push(chunk))
    app.write('good|')
    await new Promise((resolve) => setTimeout(resolve, 10))
    app.write('bad|')
    expect(await closed).toBeUndefined()
    expect(Buffer.concat(received).toString()).toBe('first|good|')
    expect(seen).toEqual(['good|', 'bad|']) // the initial bytes were the caller's to check
    expect(clientSide.destroyed && upstreamSide.destroyed).toBe(true)
  })

  it('keeps the other direction open after one side sends its FIN (half-close)', async () => {
    const { app, server, onClose, closed } = setup()
    const atServer = readAll(server)
    const atApp = readAll(app)
    app.end('request')
    expect((await atServer).toString()).toBe('request')
    // The server answers after the client's FIN; the answer must still arrive.
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(onClose).not.toHaveBeenCalled()
    server.write('late ')
    server.end('answer')
    expect((await atApp).toString()).toBe('late answer')
    expect(await closed).toBeUndefined()
  })

  it('destroys both sides once when one side fails', async () => {
    const { upstreamSide, clientSide, onClose, closed } = setup()
    upstreamSide.destroy(new Error('boom'))
    expect((await closed)?.message).toBe('boom')
    expect(clientSide.destroyed).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(onClose).toHaveBeenCalledTimes(1)
  })

  it('destroys both sides when one is destroyed without an error', async () => {
    const { clientSide, upstreamSide, closed } = setup()
    clientSide.destroy()
    expect(await closed).toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' })
    expect(upstreamSide.destroyed).toBe(true)
  })

  it('close() is idempotent and passes its error on once', async () => {
    const { handle, onClose, clientSide, upstreamSide } = setup()
    handle.close(new Error('stop'))
    handle.close()
    expect(onClose).toHaveBeenCalledTimes(1)
    expect(onClose.mock.calls[0]?.[0]?.message).toBe('stop')
    expect(clientSide.destroyed && upstreamSide.destroyed).toBe(true)
  })

  it('pauses the reading side while the writing side is full, and loses nothing', async () => {
    const { app, server, clientSide, upstreamSide, closed } = setup({}, 1024)
    const payload = Buffer.alloc(256 * 1024)
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff
    for (let at = 0; at < payload.length; at += 512) app.write(payload.subarray(at, at + 512))
    app.end()
    // Nobody reads at the server yet: the splice must stop reading from the client, so the bytes wait at the
    // client's end instead of piling up in the splice.
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(clientSide.isPaused()).toBe(true)
    expect(upstreamSide.writableLength).toBeLessThanOrEqual(4 * 1024)
    expect(app.writableLength).toBeGreaterThan(200 * 1024)
    const received = readAll(server)
    server.end()
    expect((await received).equals(payload)).toBe(true)
    expect(await closed).toBeUndefined()
  })
})
