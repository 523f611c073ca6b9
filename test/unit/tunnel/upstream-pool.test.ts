// The warm pool's rules with fakes: a fake clock and in-memory streams standing in for upstream connections.

import { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createUpstreamPool, resumeOnFirstDataListener, type PoolClock, type UpstreamPoolSettings } from '../../../electron/core/tunnel/upstream-pool.js'

class FakeClock implements PoolClock {
  private t = 0
  private nextId = 1
  private readonly timers = new Map<number, { at: number; callback: () => void }>()
  now = (): number => this.t
  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++
    this.timers.set(id, { at: this.t + ms, callback })
    return id
  }
  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number)
  }
  get pendingTimers(): number {
    return this.timers.size
  }
  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined
      for (const entry of this.timers) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry
      if (next === undefined) break
      this.timers.delete(next[0])
      this.t = next[1].at
      next[1].callback()
      await settle()
    }
    this.t = end
    await settle()
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** An upstream connection stand-in: writable, readable on demand (push data or null as the peer would). */
function fakeSocket(): Duplex {
  const socket = new Duplex({ allowHalfOpen: true, read() {}, write(_chunk, _encoding, callback) { callback() } })
  socket.on('error', () => {}) // as connectTcp's permanent listener
  return socket
}

function setup(settings: UpstreamPoolSettings = {}) {
  const clock = new FakeClock()
  const made: Duplex[] = []
  const state = { attempts: 0, fail: false, aborted: 0 }
  const pool = createUpstreamPool<Duplex>({
    label: 'test ECS',
    clock,
    ...settings,
    connect: async ({ signal }) => {
      state.attempts += 1
      await settle()
      if (signal?.aborted === true) {
        state.aborted += 1
        throw new Error('aborted')
      }
      if (state.fail) throw new Error('connect ECONNREFUSED')
      const socket = fakeSocket()
      made.push(socket)
      return socket
    },
  })
  const live = (): number => made.filter((s) => !s.destroyed).length
  return { clock, made, state, pool, live }
}

const dial = { timeoutMs: 1000 }

describe('upstream pool', () => {
  it('is cold until the first dial: creating it contacts nobody', async () => {
    const { pool, state, clock } = setup()
    await clock.advance(60_000)
    expect(state.attempts).toBe(0)
    expect(pool.stats()).toEqual({ hits: 0, misses: 0, idle: 0, dialed: 0, failures: 0 })
  })

  it('the first dial is a fresh one (a miss) and warms the pool to its size; the next ones are hits', async () => {
    const { pool, state, made, clock } = setup()
    const first = await pool.acquire(dial)
    expect(first.pooled).toBe(false)
    await settle()
    expect(state.attempts).toBe(3) // the fresh dial and two ahead
    expect(pool.stats()).toMatchObject({ hits: 0, misses: 1, idle: 2, dialed: 2 })

    const second = await pool.acquire(dial)
    expect(second.pooled).toBe(true)
    expect(second.socket).toBe(made[1])
    // Handed out paused, with none of the pool's listeners left on it.
    expect(second.socket.isPaused()).toBe(true)
    expect(second.socket.listenerCount('data')).toBe(0)
    expect(second.socket.listenerCount('end')).toBe(0)
    expect(second.socket.listenerCount('close')).toBe(0)
    // The replacement is not started before the caller has used what it took (its first write goes out first)...
    await settle()
    expect(state.attempts).toBe(3)
    // ...but on the next timer turn.
    await clock.advance(0)
    expect(state.attempts).toBe(4)
    expect(pool.stats()).toMatchObject({ hits: 1, misses: 1, idle: 2, dialed: 3 }) // a replacement was dialed
  })

  it('never hands out an idle connection that got end, data, an error or a close', async () => {
    const { pool, made, clock } = setup({ size: 4 })
    await pool.acquire(dial)
    await clock.advance(0)
    expect(pool.stats().idle).toBe(4)
    const [, a, b, c, d] = made as [Duplex, Duplex, Duplex, Duplex, Duplex]
    a.push(null) // the peer's FIN
    b.push(Buffer.from('unexpected'))
    c.destroy(new Error('ECONNRESET'))
    d.destroy()
    await settle()
    expect([a, b, c, d].every((s) => s.destroyed)).toBe(true)
    expect(pool.stats()).toMatchObject({ idle: 0, failures: 4 })
    const next = await pool.acquire(dial)
    expect(next.pooled).toBe(false)
    expect([a, b, c, d]).not.toContain(next.socket)
  })

  it('skips a connection that ended without an event yet (checked again when taken)', async () => {
    const { pool, made, clock } = setup({ size: 1 })
    await pool.acquire(dial)
    await clock.advance(0)
    const idle = made[1]!
    idle.end() // our side can no longer write: not usable
    const next = await pool.acquire(dial)
    expect(next.socket).not.toBe(idle)
    expect(next.pooled).toBe(false)
    expect(idle.destroyed).toBe(true)
  })

  it('recycles idle connections at maxIdleMs and replaces them while warm', async () => {
    const { pool, made, clock } = setup({ maxIdleMs: 3000 })
    await pool.acquire(dial)
    await clock.advance(0)
    const firstIdle = made.slice(1)
    await clock.advance(2999)
    expect(firstIdle.every((s) => !s.destroyed)).toBe(true)
    await clock.advance(1)
    expect(firstIdle.every((s) => s.destroyed)).toBe(true)
    expect(pool.stats()).toMatchObject({ idle: 2, dialed: 4, failures: 0 })
    // Age is counted from when each connection was made.
    await clock.advance(3000)
    expect(pool.stats()).toMatchObject({ idle: 2, dialed: 6 })
  })

  it('goes cold after coldAfterMs without a dial (holds nothing, dials nothing) and warms on the next dial', async () => {
    const { pool, state, live, clock } = setup({ maxIdleMs: 3000, coldAfterMs: 30_000 })
    await pool.acquire(dial)
    await clock.advance(10_000)
    await pool.acquire(dial) // a hit at 10 s: cold at 40 s
    await clock.advance(29_999)
    expect(pool.stats().idle).toBe(2)
    await clock.advance(1)
    expect(pool.stats().idle).toBe(0)
    expect(live()).toBe(2) // the two handed out (at 0 s and 10 s); the pool holds nothing
    const attempts = state.attempts
    await clock.advance(120_000)
    expect(state.attempts).toBe(attempts)
    expect(clock.pendingTimers).toBe(0)

    const again = await pool.acquire(dial)
    expect(again.pooled).toBe(false)
    await settle()
    expect(pool.stats().idle).toBe(2)
  })

  it('backs off when background dials fail: 1 s, 2 s, 4 s … never a tight loop', async () => {
    const { pool, state, made, clock } = setup({ size: 1, backoff: { initialMs: 1000, maxMs: 8000 } })
    await pool.acquire(dial)
    await clock.advance(0)
    expect(pool.stats().idle).toBe(1)
    state.fail = true
    const before = state.attempts
    const attempts = (): number => state.attempts - before
    made[1]!.destroy() // the ECS goes away: the idle connection closes, the next background dial waits 1 s
    await settle()
    expect(attempts()).toBe(0)
    await clock.advance(999)
    expect(attempts()).toBe(0)
    await clock.advance(1)
    expect(attempts()).toBe(1)
    await clock.advance(2000)
    expect(attempts()).toBe(2)
    await clock.advance(4000)
    expect(attempts()).toBe(3)
    await clock.advance(8000)
    expect(attempts()).toBe(4)
    await clock.advance(8000)
    expect(attempts()).toBe(5) // capped at maxMs
    expect(pool.stats().failures).toBe(6)
  })

  it('backs off when the peer accepts and closes idle connections at once', async () => {
    const { pool, state, made, clock } = setup({ size: 1, backoff: { initialMs: 1000, maxMs: 30_000 }, coldAfterMs: 60_000 })
    await pool.acquire(dial)
    for (let i = 0; i < 20; i++) {
      await clock.advance(0)
      for (const s of made) if (!s.destroyed) s.push(null)
      await clock.advance(100)
    }
    // Two seconds of a peer that drops everything: the fresh dial, one ahead, one retry after 1 s (the next is due
    // 2 s after that). Without the backoff this would be a dial every turn.
    expect(state.attempts).toBe(3)
  })

  it('a dial that fails while the pool is empty fails with the dial error; a fresh success ends the backoff', async () => {
    const { pool, state, clock } = setup({ size: 1 })
    state.fail = true
    await expect(pool.acquire(dial)).rejects.toThrow('ECONNREFUSED')
    await clock.advance(5000)
    expect(state.attempts).toBe(1) // a target that refused gets nothing dialed ahead
    state.fail = false
    const before = state.attempts
    const ok = await pool.acquire(dial)
    expect(ok.pooled).toBe(false)
    await settle()
    // Not after the remaining backoff: at once, because the peer answers again.
    expect(state.attempts - before).toBe(2)
    expect(pool.stats().idle).toBe(1)
  })

  it('coolDown closes idle connections and aborts background dials; close turns pooling off', async () => {
    const { pool, state, live, clock } = setup()
    const first = await pool.acquire(dial)
    pool.coolDown() // the two background dials are still under way
    await clock.advance(0)
    expect(state.aborted).toBe(2)
    expect(pool.stats().idle).toBe(0)
    expect(live()).toBe(1)
    expect(first.socket.destroyed).toBe(false)

    await pool.acquire(dial)
    await clock.advance(0)
    expect(pool.stats().idle).toBe(2)
    pool.close()
    expect(pool.stats().idle).toBe(0)
    expect(clock.pendingTimers).toBe(0)
    const before = state.attempts
    const after = await pool.acquire(dial)
    await clock.advance(10_000)
    expect(after.pooled).toBe(false)
    expect(state.attempts - before).toBe(1)
  })

  it('an aborted signal fails at once without taking a connection', async () => {
    const { pool, clock } = setup()
    await pool.acquire(dial)
    await clock.advance(0)
    const abort = new AbortController()
    abort.abort()
    await expect(pool.acquire({ ...dial, signal: abort.signal })).rejects.toMatchObject({ name: 'AbortError' })
    expect(pool.stats().idle).toBe(2)
  })
})

describe('resumeOnFirstDataListener', () => {
  it('a paused stream starts flowing for a consumer that only listens', async () => {
    const socket = fakeSocket()
    socket.pause()
    resumeOnFirstDataListener(socket)
    socket.push(Buffer.from('hello'))
    const got = await new Promise<string>((resolve) => socket.on('data', (chunk: Buffer) => resolve(chunk.toString())))
    expect(got).toBe('hello')
  })
})
