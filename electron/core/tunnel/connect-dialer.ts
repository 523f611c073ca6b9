// Mode `connect`: one `CONNECT name:port` through an HTTP proxy on the ECS (goproxy, squid, tinyproxy) per
// client connection, optionally with Basic auth and optionally over TLS to the proxy. For the tunnel's client dials
// (DialOptions.pooled) two warm pools (upstream-pool.ts) save round trips to the ECS:
// - per name:port the tunnel just served, one connection whose CONNECT was already answered 2xx (the counterpart
//   of ssh mode's warm channel): the next client connection to that target starts with its own bytes, no round
//   trip to the proxy at all. Made only after a dial to the target succeeded, so a name the proxy refuses gets
//   nothing made ahead;
// - under those, two TCP (and TLS) connections to the proxy, the CONNECT sent once the name is known: what a dial
//   to a target with no warm connection, and the making of the warm ones, start from. A pooled connection the proxy
//   dropped just before the request is replaced by one fresh dial.

import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { BridgeError, isBridgeError } from '../errors.js'
import type { Logger } from '../logger.js'
import { formatHostPort } from './listen.js'
import { peekUntil } from './peek.js'
import { connectTcp } from './tcp-connect.js'
import type { DialOptions, Dialer, UpstreamTarget } from './types.js'
import { createUpstreamPool, resumeOnFirstDataListener, sumPoolStats, type UpstreamPool, type UpstreamPoolSettings } from './upstream-pool.js'

export interface ConnectDialerOptions {
  /** The proxy (tunnel.host, tunnel.port). */
  readonly host: string
  readonly port: number
  readonly username?: string
  /** Never logged, never put into an error message. */
  readonly password?: string
  /** Speak TLS to the proxy itself. */
  readonly tls?: boolean
  /** PEM of a CA to trust for the proxy's certificate (the content of tunnel.connect.caFile). */
  readonly ca?: string | Buffer
  /** Default time limit for connect + CONNECT answer (15 s); a dial's own timeoutMs wins. */
  readonly connectTimeoutMs?: number
  /**
   * The warm pools' rules (defaults: 2 connections to the proxy and 1 answered CONNECT per recent target, 3 s idle,
   * cold after 30 s; `size` is the proxy pool's); false: dial every time.
   */
  readonly pool?: UpstreamPoolSettings | false
  readonly logger?: Logger
}

export type ProxyResponseHead =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'status'; readonly status: number; readonly reason: string; readonly headLength: number }
  | { readonly kind: 'invalid'; readonly reason: string }

/** Bytes a proxy's answer head may take. */
export const maxProxyResponseBytes = 16 * 1024

/** Reads an HTTP/1.x response head strictly (status line, header lines, empty line); never throws. */
export function parseProxyResponseHead(buf: Buffer): ProxyResponseHead {
  const end = buf.indexOf('\r\n\r\n')
  if (end === -1 || end + 4 > maxProxyResponseBytes) {
    if (buf.length >= 8 && !buf.subarray(0, 8).equals(Buffer.from('HTTP/1.1')) && !buf.subarray(0, 8).equals(Buffer.from('HTTP/1.0'))) {
      return { kind: 'invalid', reason: 'not an HTTP/1.x response' }
    }
    return buf.length >= maxProxyResponseBytes ? { kind: 'invalid', reason: 'response head larger than 16 KiB' } : { kind: 'need-more' }
  }
  const lines = buf.toString('latin1', 0, end).split('\r\n')
  const match = /^HTTP\/1\.[01] ([1-5][0-9][0-9])(?: ([\t\x20-\x7e]*))?$/.exec(lines[0]!)
  if (match === null) return { kind: 'invalid', reason: 'malformed status line' }
  for (const line of lines.slice(1)) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/.test(line)) return { kind: 'invalid', reason: 'malformed header line' }
  }
  return { kind: 'status', status: Number(match[1]), reason: match[2] ?? '', headLength: end + 4 }
}

export function createConnectDialer(options: ConnectDialerOptions): Dialer {
  if (options.username !== undefined && options.username.includes(':')) {
    throw new BridgeError('INVALID_CONFIG', 'The proxy user name must not contain a colon.', {
      hint: 'Fix tunnel.connect.username.',
      field: 'tunnel.connect.username',
    })
  }
  const proxy = formatHostPort(options.host, options.port)
  const authorization =
    options.username === undefined && options.password === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`, 'utf8').toString('base64')}`

  const connect = (dial: { readonly signal?: AbortSignal; readonly timeoutMs: number }): Promise<Socket> =>
    connectTcp({
      host: options.host,
      port: options.port,
      timeoutMs: dial.timeoutMs,
      ...(dial.signal === undefined ? {} : { signal: dial.signal }),
      ...(options.tls === true ? { tls: options.ca === undefined ? {} : { ca: options.ca } } : {}),
      role: 'HTTP proxy',
      field: 'tunnel.host and tunnel.port',
    })
  const defaultTimeoutMs = options.connectTimeoutMs ?? 15_000
  const pool = options.pool === false
    ? undefined
    : createUpstreamPool<Socket>({
        connectTimeoutMs: defaultTimeoutMs,
        ...options.pool,
        label: `HTTP proxy ${proxy}`,
        connect,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      })

  /** Sends CONNECT on `socket` and reads the answer; resolves with the stream, or destroys the socket and rejects. */
  const request = async (socket: Socket, target: UpstreamTarget, signal: AbortSignal | undefined, timeoutMs: number, started: number): Promise<Socket> => {
    const authority = formatHostPort(target.name, target.port)
    const onabort = (): void => {
      socket.destroy()
    }
    signal?.addEventListener('abort', onabort, { once: true })
    try {
      socket.write(
        `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n` +
          (authorization === undefined ? '' : `Proxy-Authorization: ${authorization}\r\n`) +
          '\r\n',
      )
      let peeked
      try {
        peeked = await peekUntil(
          socket,
          (buf) => {
            const head = parseProxyResponseHead(buf)
            return head.kind === 'need-more' ? 'need-more' : head
          },
          { deadlineMs: Math.max(1, timeoutMs - (Date.now() - started)), maxBytes: maxProxyResponseBytes },
        )
      } catch (error) {
        throw mapPeekError(error, proxy, authority, timeoutMs, signal)
      }
      const head = peeked.result
      if (head.kind === 'invalid') {
        throw new BridgeError('UPSTREAM_REFUSED', `The proxy ${proxy} answered CONNECT ${authority} with something that is not HTTP (${head.reason}).`, {
          hint: 'Check that tunnel.host and tunnel.port point at an HTTP CONNECT proxy (mode connect).',
        })
      }
      // 407 is the rule; tinyproxy answers 401 when the credentials it got are wrong.
      if (head.status === 407 || head.status === 401) {
        throw new BridgeError(
          'UPSTREAM_AUTH_REQUIRED',
          authorization === undefined
            ? `The proxy ${proxy} requires authentication.`
            : `The proxy ${proxy} rejected the user name or password.`,
          { hint: 'Set tunnel.connect.username and tunnel.connect.password (or ACR_BRIDGE_PROXY_PASSWORD).' },
        )
      }
      if (head.status < 200 || head.status > 299) {
        throw new BridgeError('UPSTREAM_REFUSED', `The proxy ${proxy} answered ${head.status}${head.reason === '' ? '' : ` ${head.reason}`} to CONNECT ${authority}.`, {
          hint: `Allow CONNECT to ${authority} on the proxy (tinyproxy: ConnectPort ${target.port}; squid: http_access and SSL_ports).`,
          // The proxy itself works: it answered. Probes tell this from a dead proxy by this field, not by the text.
          details: { proxyStatus: head.status },
        })
      }
      // Bytes the proxy (or the target through it) sent right after its answer belong to the stream.
      const rest = peeked.buffered.subarray(head.headLength)
      if (rest.length > 0) socket.unshift(rest)
      resumeOnFirstDataListener(socket)
      return socket
    } catch (error) {
      socket.destroy()
      throw error
    } finally {
      signal?.removeEventListener('abort', onabort)
    }
  }

  /** CONNECT target on a connection from the proxy pool (fresh when it has none idle). */
  const requestOnPooled = async (proxyPool: UpstreamPool<Socket>, target: UpstreamTarget, dial: { readonly signal?: AbortSignal; readonly timeoutMs: number }): Promise<Socket> => {
    const started = Date.now()
    const { socket, pooled } = await proxyPool.acquire(dial)
    try {
      return await request(socket, target, dial.signal, dial.timeoutMs, started)
    } catch (error) {
      // The proxy closed a pooled connection as the request went out (its idle timeout, a restart): dial once more.
      if (!pooled || dial.signal?.aborted === true || !closedBeforeAnswer(error)) throw error
      const remaining = dial.timeoutMs - (Date.now() - started)
      if (remaining <= 0) throw error
      const fresh = await connect({ ...dial, timeoutMs: remaining })
      return request(fresh, target, dial.signal, dial.timeoutMs, started)
    }
  }

  /** Per name:port, connections whose CONNECT was answered, made ahead (see the top of this file). */
  const answered = new Map<string, UpstreamPool<Socket>>()
  let closed = false
  const answeredPoolFor = (proxyPool: UpstreamPool<Socket>, target: UpstreamTarget): UpstreamPool<Socket> => {
    const key = formatHostPort(target.name, target.port)
    let targetPool = answered.get(key)
    if (targetPool === undefined) {
      const to = { name: target.name, port: target.port }
      targetPool = createUpstreamPool<Socket>({
        connectTimeoutMs: defaultTimeoutMs,
        ...options.pool,
        size: 1,
        label: `CONNECT ${key} through ${proxy}`,
        connect: async (dial) => {
          const socket = await requestOnPooled(proxyPool, to, dial)
          socket.on('error', () => {}) // the pool's contract: a late error never goes uncaught between owners
          return socket
        },
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      })
      answered.set(key, targetPool)
    }
    return targetPool
  }

  return {
    mode: 'connect',
    async dial(target: UpstreamTarget, dialOptions: DialOptions = {}): Promise<Duplex> {
      const timeoutMs = dialOptions.timeoutMs ?? defaultTimeoutMs
      const signal = dialOptions.signal
      const dial = { timeoutMs, ...(signal === undefined ? {} : { signal }) }
      if (pool === undefined || dialOptions.pooled !== true || closed) return request(await connect(dial), target, signal, timeoutMs, Date.now())
      const { socket, pooled } = await answeredPoolFor(pool, target).acquire(dial)
      if (pooled) resumeOnFirstDataListener(socket)
      return socket
    },
    coolDown(): void {
      for (const targetPool of answered.values()) targetPool.coolDown()
      pool?.coolDown()
    },
    // Hits and misses are the client dials' (the answered pools'); idle, dialed and failures count both layers.
    ...(pool === undefined
      ? {}
      : {
          poolStats: () => {
            const targets = sumPoolStats([...answered.values()].map((targetPool) => targetPool.stats()))
            const proxyPool = pool.stats()
            return { ...targets, idle: targets.idle + proxyPool.idle, dialed: targets.dialed + proxyPool.dialed, failures: targets.failures + proxyPool.failures }
          },
        }),
    async close(): Promise<void> {
      closed = true
      for (const targetPool of answered.values()) targetPool.close()
      pool?.close()
    },
  }
}

/** The proxy closed or reset the connection before any answer: what a connection dropped while idle looks like. */
function closedBeforeAnswer(error: unknown): boolean {
  return error instanceof BridgeError && closedBeforeAnswerErrors.has(error)
}

const closedBeforeAnswerErrors = new WeakSet<BridgeError>()

function mapPeekError(error: unknown, proxy: string, authority: string, timeoutMs: number, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted === true) {
    const aborted = new Error('The dial was aborted.')
    aborted.name = 'AbortError'
    return aborted
  }
  if (isBridgeError(error, 'CLIENT_HELLO_TIMEOUT')) {
    return new BridgeError('UPSTREAM_UNREACHABLE', `The proxy ${proxy} did not answer CONNECT ${authority} within ${timeoutMs} ms.`, {
      hint: 'Check that tunnel.port is the proxy port and that the proxy can reach the target.',
      details: { timedOut: true },
    })
  }
  if (isBridgeError(error, 'CLIENT_HELLO_TOO_LARGE')) {
    return new BridgeError('UPSTREAM_REFUSED', `The proxy ${proxy} answered CONNECT ${authority} with an oversized head.`, {
      hint: 'Check that tunnel.host and tunnel.port point at an HTTP CONNECT proxy (mode connect).',
    })
  }
  if (isBridgeError(error, 'CLIENT_CLOSED')) {
    const closed = new BridgeError('UPSTREAM_REFUSED', `The proxy ${proxy} closed the connection instead of answering CONNECT ${authority}.`, {
      hint: 'Check the proxy log; with TLS to the proxy, check tunnel.connect.tls.',
    })
    closedBeforeAnswerErrors.add(closed)
    return closed
  }
  return error
}
