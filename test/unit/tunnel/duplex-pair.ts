import { Duplex } from 'node:stream'

/**
 * Two in-memory Duplex ends joined like a socket pair (allowHalfOpen): what one writes the other reads, end()
 * on one ends the other's readable side. A write is acknowledged only when the reader has room, so backpressure
 * travels across the pair as it would across TCP.
 */
export function duplexPair(highWaterMark = 16 * 1024): [Duplex, Duplex] {
  const ends: Duplex[] = []
  const pending: (((error?: Error | null) => void) | undefined)[] = [undefined, undefined]
  const make = (self: number): Duplex => {
    const peer = 1 - self
    return new Duplex({
      allowHalfOpen: true,
      highWaterMark,
      read() {
        const callback = pending[peer]
        pending[peer] = undefined
        callback?.()
      },
      write(chunk: Buffer, _encoding, callback) {
        if (ends[peer]!.push(chunk)) callback()
        else pending[self] = callback
      },
      final(callback) {
        ends[peer]!.push(null)
        callback()
      },
      destroy(error, callback) {
        const other = ends[peer]!
        if (!other.destroyed) process.nextTick(() => other.destroy())
        callback(error)
      },
    })
  }
  ends.push(make(0), make(1))
  return [ends[0]!, ends[1]!]
}
