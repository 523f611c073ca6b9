// One direct-tcpip channel of the ssh upstream mode as a plain Node Duplex (ForwardedStream), and the receive
// window the dialer may take over from ssh2 for links with a real round trip (windowControl). The SSH connection
// itself, its channel opens and its pools are ssh-dialer.ts's.

import { Duplex } from 'node:stream'
import type ssh2 from 'ssh2'
import type { ClientChannel } from 'ssh2'
import { forwardHighWaterMark } from './large-reads.js'

const streamHighWaterMark = forwardHighWaterMark
/** The receive window ssh2 announces when it opens a channel (its MAX_WINDOW), and refills to at half. */
export const ssh2OpenWindow = 2 * 1024 * 1024
/**
 * Our receive window per channel on a link with a real round trip (PERF-NOTES.md trap 5): ssh2's fixed 2 MiB caps
 * a download at 2 MiB per round trip (~20 MiB/s at 100 ms). With 8 MiB, refilled when half is left, a channel gets
 * four times that (side bench, 20 ms round trip: 44 → 159 MiB/s). What sshd may send beyond what the client has
 * taken is bounded by the window (the refill waits while the channel is paused).
 */
export const wideWindow = 8 * 1024 * 1024
/** Outgoing writes larger than this become several SSH packets (ssh2 splits at the server's packet size). */
const multiPacketBytes = 32 * 1024

/** What ssh2 keeps of a channel's windows (ssh2 1.x internals; checked before use). */
interface ChannelWindows {
  readonly incoming?: { window?: unknown; state?: unknown }
  readonly outgoing?: { id?: unknown }
}

/**
 * Takes the receive window of a freshly opened channel over from ssh2, so a channel can grow beyond ssh2's fixed
 * 2 MiB (wideWindow): ssh2's own count is set out of reach (it then never refills, and never drops data for want
 * of window), and the returned function sends CHANNEL_WINDOW_ADJUST itself. Undefined when this ssh2 does not look
 * as expected: the channel then keeps ssh2's own window handling.
 */
export function windowControl(client: ssh2.Client, channel: ClientChannel): ((amount: number) => void) | undefined {
  const windows = channel as unknown as ChannelWindows
  const protocol = (client as unknown as { _protocol?: { channelWindowAdjust?: unknown } })._protocol
  const incoming = windows.incoming
  const id = windows.outgoing?.id
  if (
    protocol === undefined ||
    typeof protocol.channelWindowAdjust !== 'function' ||
    incoming === undefined ||
    incoming.window !== ssh2OpenWindow ||
    incoming.state !== 'open' ||
    typeof id !== 'number'
  ) {
    return undefined
  }
  incoming.window = Number.MAX_SAFE_INTEGER
  const adjust = protocol.channelWindowAdjust as (this: unknown, id: number, amount: number) => void
  return (amount) => {
    if (incoming.state === 'open') adjust.call(protocol, id, amount)
  }
}

/**
 * A forwarded channel as a plain Node Duplex (allowHalfOpen): ssh2's Channel never sets `destroyed`, emits 'close'
 * only after its readable side was consumed, and ignores destroy(err). Here end() sends EOF, the server's EOF ends
 * the readable side, destroy() sends CHANNEL_CLOSE and drains what is still in flight, and 'close' comes once.
 * Backpressure both ways: a full readable buffer pauses the channel and holds the window refill back, so sshd can
 * send at most the window that is left.
 */
export class ForwardedStream extends Duplex {
  private pendingWrite: ((error?: Error | null) => void) | undefined
  private pendingFinal: ((error?: Error | null) => void) | undefined
  private remoteClosed = false
  /** What sshd may still send (its view of our receive window), when we keep the window (windowControl). */
  private window = ssh2OpenWindow
  /** The window was grown to wideWindow once. */
  private grown = false

  constructor(
    private readonly channel: ClientChannel,
    private readonly adjustWindow: ((amount: number) => void) | undefined,
    private readonly batchWrites: () => void,
  ) {
    super({ allowHalfOpen: true, highWaterMark: streamHighWaterMark })
    channel.on('data', this.onData)
    channel.on('end', this.onEnd)
    channel.on('drain', this.onDrain)
    channel.on('close', this.onRemoteClose)
    channel.on('error', this.onError)
    channel.stderr.resume()
  }

  private readonly onData = (chunk: Buffer): void => {
    this.window -= chunk.length
    if (!this.push(chunk)) {
      this.channel.pause()
      return
    }
    this.refillWindow()
  }

  /**
   * Tops sshd's window up to wideWindow once it fell to half of it; the first time when ssh2 would have (half of
   * its 2 MiB left), so short transfers send no adjust at all. Called only while the reader keeps up.
   */
  private refillWindow(): void {
    if (this.adjustWindow === undefined) return
    if (this.window > (this.grown ? wideWindow : ssh2OpenWindow) / 2) return
    this.grown = true
    const amount = wideWindow - this.window
    this.window = wideWindow
    this.adjustWindow(amount)
  }

  private readonly onEnd = (): void => {
    this.push(null)
  }

  private readonly onDrain = (): void => {
    const callback = this.pendingWrite
    this.pendingWrite = undefined
    callback?.()
  }

  private readonly onRemoteClose = (): void => {
    this.remoteClosed = true
    const write = this.pendingWrite
    const final = this.pendingFinal
    this.pendingWrite = undefined
    this.pendingFinal = undefined
    write?.(remoteClosedError())
    final?.()
  }

  private readonly onError = (error: Error): void => {
    this.destroy(error)
  }

  override _read(): void {
    this.channel.resume()
    this.refillWindow()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.remoteClosed || this.channel.writableEnded) {
      callback(remoteClosedError())
      return
    }
    if (chunk.length > multiPacketBytes) this.batchWrites()
    if (this.channel.write(chunk)) callback()
    else this.pendingWrite = callback
  }
  override _final(callback: (error?: Error | null) => void): void {
    if (this.remoteClosed || this.channel.writableEnded) {
      callback()
      return
    }
    this.pendingFinal = callback
    this.channel.end(() => {
      const final = this.pendingFinal
      this.pendingFinal = undefined
      final?.()
    })
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const channel = this.channel
    channel.off('data', this.onData)
    channel.off('end', this.onEnd)
    channel.off('drain', this.onDrain)
    channel.off('close', this.onRemoteClose)
    // The 'error' listener stays: a late error on the abandoned channel must not become an uncaught exception.
    channel.resume() // discard what sshd still sends before its CLOSE, so ssh2 can finish the channel
    channel.close()
    const write = this.pendingWrite
    const final = this.pendingFinal
    this.pendingWrite = undefined
    this.pendingFinal = undefined
    write?.(error ?? remoteClosedError())
    final?.(error ?? remoteClosedError())
    callback(error)
  }
}

function remoteClosedError(): Error {
  const error = new Error('the SSH channel was closed') as Error & { code?: string }
  error.code = 'EPIPE'
  return error
}
