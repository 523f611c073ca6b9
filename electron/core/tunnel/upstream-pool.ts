// A small warm pool of upstream connections to ONE address of the proxy ECS (PERF-NOTES.md trap 6: the SNI peek
// delays the upstream connect until the ClientHello has arrived; on a real network that is one extra round trip
// to the ECS per client connection). Used by the sni dialer (one pool per ECS port) and the connect dialer (the
// proxy; the CONNECT request goes out on the pooled connection once the name is known).
//
// Rules:
// - Cold until the first dial: creating a pool contacts nobody. Only a client connection of the tunnel warms it
//   (DialOptions.pooled; probes and discovery dial fresh), and the tunnel dials only for names it allows, so a
//   refused name never causes upstream contact.
// - A dial takes the oldest idle connection (a hit) or, when none is idle, dials fresh exactly as without a pool
//   (a miss). The pool is then topped up to `size` in the background: after a hit, and after a miss whose fresh
//   dial succeeded (a target that refused or failed gets nothing dialed ahead). After a hit the top-up waits for the
//   next timer turn, so the client's first bytes leave on the connection just handed out before the replacement's
//   socket and connect are made.
// - An idle connection is watched: one that got data, 'end', 'error' or 'close' is dropped at once and never handed
//   out. It is recycled (closed quietly, replaced while warm) after maxIdleMs, well before the peers' own
//   deadlines (our relay cuts a silent client after 5 s).
// - coldAfterMs after the last dial the pool goes cold: it closes what it holds and dials nothing until the next
//   dial warms it again.
// - A background dial that fails, or an idle connection the peer closes, backs off (1 s doubling to 30 s) before
//   the next background dial: never a tight loop when the ECS is down or drops idle connections. A connection
//   handed out, one that reached its recycle age alive, or a fresh dial that succeeded ends the backoff. Background
//   failures are only logged at debug level: a client's own (fresh) dial still fails the way it always did.
// - coolDown() drops everything now (the tunnel calls it when it closes); close() does too and turns pooling off
//   for good (later dials are plain fresh dials).

import type { Duplex } from 'node:stream'
import { nullLogger, type Logger } from '../logger.js'
import { abortError } from './tcp-connect.js'
import type { DialerPoolStats } from './types.js'

/** Time as the pool sees it; unit tests pass their own. */
export interface PoolClock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The tunable rules; every field has a default, and the product uses the defaults. */
export interface UpstreamPoolSettings {
  /** Idle connections kept ready (default 2). */
  readonly size?: number
  /** An idle connection is closed and replaced after this long (default 3000 ms). */
  readonly maxIdleMs?: number
  /** Without a dial for this long the pool closes what it holds and stops dialing (default 30000 ms). */
  readonly coldAfterMs?: number
  /** First delay after a background failure (default 1000 ms), doubling up to maxMs (default 30000 ms). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number }
  /** Time limit of one background dial (default 15000 ms). */
  readonly connectTimeoutMs?: number
  readonly clock?: PoolClock
}

export interface UpstreamPoolOptions<S extends Duplex> extends UpstreamPoolSettings {
  /**
   * Opens one connection, exactly as a fresh dial does (same function, same socket options). Resolves with a
   * connected stream that has a permanent 'error' listener; rejects with the dial's error.
   */
  readonly connect: (options: { readonly signal?: AbortSignal; readonly timeoutMs: number }) => Promise<S>
  /** What the connections go to, for log lines: "proxy ECS 203.0.113.10:443". */
  readonly label: string
  readonly logger?: Logger
}

export interface Acquired<S> {
  readonly socket: S
  /** True when it came from the pool (made ahead of time, left paused); false for a fresh dial. */
  readonly pooled: boolean
}

export interface UpstreamPool<S extends Duplex> {
  /**
   * A live idle connection, or a fresh one when none is idle (the fresh dial's error is this call's error).
   * A pooled connection comes back paused, with none of the pool's listeners left on it.
   */
  acquire(options: { readonly signal?: AbortSignal; readonly timeoutMs: number }): Promise<Acquired<S>>
  /** Closes the idle connections, aborts background dials and stops dialing until the next acquire(). */
  coolDown(): void
  /** coolDown(), and pooling stays off: later acquire() calls dial fresh. */
  close(): void
  stats(): DialerPoolStats
}

const defaults = { size: 2, maxIdleMs: 3000, coldAfterMs: 30_000, backoffInitialMs: 1000, backoffMaxMs: 30_000, connectTimeoutMs: 15_000 }

const realClock: PoolClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms)
    timer.unref() // a pool never keeps a process alive
    return timer
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

interface Idle<S> {
  readonly socket: S
  readonly born: number
  readonly onDead: () => void
}

export function createUpstreamPool<S extends Duplex>(options: UpstreamPoolOptions<S>): UpstreamPool<S> {
  const size = options.size ?? defaults.size
  const maxIdleMs = options.maxIdleMs ?? defaults.maxIdleMs
  const coldAfterMs = options.coldAfterMs ?? defaults.coldAfterMs
  const backoffInitialMs = options.backoff?.initialMs ?? defaults.backoffInitialMs
  const backoffMaxMs = options.backoff?.maxMs ?? defaults.backoffMaxMs
  const connectTimeoutMs = options.connectTimeoutMs ?? defaults.connectTimeoutMs
  const clock = options.clock ?? realClock
  const logger = options.logger ?? nullLogger

  /** Oldest first: the head is the next to hand out and the next to expire. */
  const idle: Idle<S>[] = []
  const pending = new Set<AbortController>()
  let warm = false
  let closed = false
  let lastUse = 0
  /** Consecutive background failures; the next background dial waits until retryAt. */
  let failureRun = 0
  let retryAt = 0
  let expiryTimer: unknown
  let coldTimer: unknown
  let retryTimer: unknown
  let refillTimer: unknown
  const counters = { hits: 0, misses: 0, dialed: 0, failures: 0 }

  const clear = (timer: unknown): undefined => {
    if (timer !== undefined) clock.clearTimeout(timer)
    return undefined
  }

  const watch = (socket: S): Idle<S> => {
    const entry: Idle<S> = {
      socket,
      born: clock.now(),
      onDead: () => {
        // Data nobody asked for, a FIN, an error or a close: this connection is of no use any more.
        const at = idle.indexOf(entry)
        if (at === -1) return
        idle.splice(at, 1)
        unwatch(entry)
        socket.destroy()
        counters.failures += 1
        logger.debug(`[tunnel] pool ${options.label}: an idle connection was closed by the peer`)
        failed()
      },
    }
    socket.on('data', entry.onDead)
    socket.on('end', entry.onDead)
    socket.on('error', entry.onDead)
    socket.on('close', entry.onDead)
    // Flowing, so that a FIN or a reset is seen at once rather than when the connection is handed out.
    socket.resume()
    return entry
  }

  const unwatch = (entry: Idle<S>): void => {
    const { socket } = entry
    socket.off('data', entry.onDead)
    socket.off('end', entry.onDead)
    socket.off('error', entry.onDead)
    socket.off('close', entry.onDead)
  }

  const usable = (socket: S): boolean => !socket.destroyed && !socket.readableEnded && socket.writable

  /** One background failure: the next background dial waits (1 s, 2 s, 4 s … 30 s). */
  const failed = (): void => {
    failureRun += 1
    retryAt = clock.now() + Math.min(backoffMaxMs, backoffInitialMs * 2 ** (failureRun - 1))
    fill()
  }

  const succeeded = (): void => {
    failureRun = 0
    retryAt = 0
    retryTimer = clear(retryTimer)
  }

  const fill = (): void => {
    if (closed || !warm) return
    const now = clock.now()
    if (now < retryAt) {
      retryTimer ??= clock.setTimeout(() => {
        retryTimer = undefined
        fill()
      }, retryAt - now)
      return
    }
    while (idle.length + pending.size < size) dialOne()
  }

  /** fill() on the next timer turn (once), after the caller has used what it just took. */
  const fillSoon = (): void => {
    refillTimer ??= clock.setTimeout(() => {
      refillTimer = undefined
      fill()
    }, 0)
  }

  const dialOne = (): void => {
    const abort = new AbortController()
    pending.add(abort)
    options.connect({ signal: abort.signal, timeoutMs: connectTimeoutMs }).then(
      (socket) => {
        pending.delete(abort)
        if (abort.signal.aborted || closed || !warm) {
          socket.destroy()
          return
        }
        counters.dialed += 1
        idle.push(watch(socket))
        armExpiry()
      },
      (error: unknown) => {
        pending.delete(abort)
        if (abort.signal.aborted) return
        counters.failures += 1
        logger.debug(`[tunnel] pool ${options.label}: ${error instanceof Error ? error.message : String(error)}`)
        failed()
      },
    )
  }

  /**
   * One timer for the oldest idle connection: recycle what reached maxIdleMs, then top up while warm. A timer
   * already set is never later than the head's expiry (heads only get younger); when it fires early it re-arms.
   */
  const armExpiry = (): void => {
    const head = idle[0]
    if (head === undefined || expiryTimer !== undefined) return
    expiryTimer = clock.setTimeout(() => {
      expiryTimer = undefined
      const now = clock.now()
      let recycled = false
      while (idle.length > 0 && now - idle[0]!.born >= maxIdleMs) {
        const entry = idle.shift()!
        unwatch(entry)
        entry.socket.destroy()
        recycled = true
      }
      // It lived to its age: the peer keeps idle connections, whatever failed before is over.
      if (recycled) succeeded()
      fill()
      armExpiry()
    }, Math.max(0, head.born + maxIdleMs - clock.now()))
  }

  const armCold = (): void => {
    if (coldTimer !== undefined) return
    coldTimer = clock.setTimeout(() => {
      coldTimer = undefined
      const quiet = clock.now() - lastUse
      if (quiet >= coldAfterMs) {
        logger.debug(`[tunnel] pool ${options.label}: cold after ${coldAfterMs} ms without a dial`)
        coolDown()
      } else {
        armCold()
      }
    }, Math.max(0, lastUse + coldAfterMs - clock.now()))
  }

  const take = (): S | undefined => {
    while (idle.length > 0) {
      const entry = idle.shift()!
      unwatch(entry)
      if (usable(entry.socket)) {
        entry.socket.pause()
        return entry.socket
      }
      entry.socket.destroy()
    }
    return undefined
  }

  const coolDown = (): void => {
    warm = false
    for (const abort of pending) abort.abort()
    pending.clear()
    for (const entry of idle.splice(0)) {
      unwatch(entry)
      entry.socket.destroy()
    }
    expiryTimer = clear(expiryTimer)
    coldTimer = clear(coldTimer)
    retryTimer = clear(retryTimer)
    refillTimer = clear(refillTimer)
  }

  return {
    async acquire(dial) {
      if (dial.signal?.aborted === true) throw abortError()
      if (closed) return { socket: await options.connect(dial), pooled: false }
      lastUse = clock.now()
      warm = true
      armCold()
      const socket = take()
      if (socket !== undefined) {
        counters.hits += 1
        succeeded()
        fillSoon()
        return { socket, pooled: true }
      }
      counters.misses += 1
      const connected = await options.connect(dial)
      // The peer answers (again): top up now, rather than when a backoff ends.
      if (failureRun > 0) succeeded()
      fill()
      return { socket: connected, pooled: false }
    },
    coolDown,
    close() {
      closed = true
      coolDown()
    },
    stats: () => ({ ...counters, idle: idle.length }),
  }
}

/**
 * A stream that was explicitly paused stays paused when a 'data' listener is added: a consumer that only listens
 * (http.request over createConnection, as the probes do) would never see a byte. Give it the behaviour of a fresh
 * socket: the first 'data' listener starts the flow (after it is attached, so no byte, unshifted ones included, is
 * emitted to nobody). pipe()/pipeline and splice resume by themselves.
 */
export function resumeOnFirstDataListener(socket: Duplex): void {
  const onNewListener = (event: string | symbol): void => {
    if (event !== 'data') return
    socket.off('newListener', onNewListener)
    process.nextTick(() => {
      if (socket.readableFlowing === false && socket.listenerCount('data') > 0) socket.resume()
    })
  }
  socket.on('newListener', onNewListener)
}

/** The counters of several pools (one per ECS port) as one. */
export function sumPoolStats(all: readonly DialerPoolStats[]): DialerPoolStats {
  const sum = { hits: 0, misses: 0, idle: 0, dialed: 0, failures: 0 }
  for (const s of all) {
    sum.hits += s.hits
    sum.misses += s.misses
    sum.idle += s.idle
    sum.dialed += s.dialed
    sum.failures += s.failures
  }
  return sum
}
