// The local tunnel: a TLS listener routed by SNI, an HTTP listener routed by Host, and an optional local HTTP
// CONNECT proxy, all forwarding through one Dialer. TLS is never terminated: bytes pass through unchanged.

import { createServer, Socket, type Server } from 'node:net'
import type { Duplex } from 'node:stream'
import type { NameTraffic } from '../../common/status.js'
import type { HostEntry } from '../catalog/types.js'
import { Emitter, type Disposable } from '../disposable.js'
import { BridgeError, isBridgeError } from '../errors.js'
import { nullLogger, type Logger } from '../logger.js'
import { maxClientHelloBytes, parseClientHello, type ClientHelloResult } from './client-hello.js'
import { maxHttpHeadBytes, parseHttpHead, type HttpHeadResult } from './http-head.js'
import { createRequestChecker, inspectRequests, type RequestChecker } from './http-requests.js'
import { forwardHighWaterMark } from './large-reads.js'
import { formatHostPort, listenOn } from './listen.js'
import { peekUntil } from './peek.js'
import { splice, type SpliceHandle } from './splice.js'
import type { Dialer, DialerPoolStats, UpstreamTarget } from './types.js'

export interface TunnelListenOptions {
  readonly address: string
  /** TLS (SNI) listener; 0 picks a free port (tests). */
  readonly port: number
  /** HTTP (Host) listener for port-80 names; null or undefined: none. */
  readonly httpPort?: number | null
  /** Local HTTP proxy (CONNECT, and absolute-form GET for port-80 names); undefined: none. */
  readonly proxyPort?: number
}

export interface StartTunnelOptions {
  readonly listen: TunnelListenOptions
  /** The active set: which names may pass, on which ports (443 → TLS listener, 80 → HTTP listener). */
  readonly names: readonly HostEntry[]
  readonly dialer: Dialer
  readonly logger?: Logger
  /** A client's ClientHello / request head must be complete within this time (default 10 s). */
  readonly clientHelloDeadlineMs?: number
  /** Time limit for one upstream dial (default 15 s). */
  readonly dialTimeoutMs?: number
  /** Cap on concurrent client connections per listener (default: none). */
  readonly maxConnections?: number
  /** onDidChangeStats fires at most this often while bytes flow (default 1000 ms). */
  readonly statsIntervalMs?: number
}

/** Why a client connection was not forwarded. */
export type RefusalReason =
  | 'name-not-allowed' // SNI / Host / CONNECT target not in the active set
  | 'port-not-allowed' // the name is allowed, but not on this port (e.g. plain HTTP to a 443-only name)
  | 'no-sni' // a ClientHello without server_name
  | 'no-host' // an HTTP request without a host
  | 'invalid' // not a ClientHello / request head, or a malformed one
  | 'timeout' // nothing complete within clientHelloDeadlineMs
  | 'too-large' // head larger than the bound
  | 'client-closed' // the client went away before its head was complete
  | 'not-a-proxy-request' // the proxy port got something other than CONNECT or an absolute-form request
  | 'other-host' // a later request on a plain-HTTP connection names another host or port than the first

export const refusalReasons: readonly RefusalReason[] = [
  'name-not-allowed',
  'port-not-allowed',
  'no-sni',
  'no-host',
  'invalid',
  'timeout',
  'too-large',
  'client-closed',
  'not-a-proxy-request',
  'other-host',
]

export interface TunnelStats {
  /** Connections currently open on all listeners, including those not yet routed. */
  readonly open: number
  /** One row per name of the active set (in its order), then names that had traffic and left the set. */
  readonly names: readonly NameTraffic[]
  readonly refused: Readonly<Record<RefusalReason, number>>
  /** Client connections whose upstream dial failed (the ECS, the proxy or the SSH connection did not get them through). */
  readonly dialFailures: number
  /** The dialer's warm pool (sni, connect modes): hits, misses, connections held ready. */
  readonly pool?: DialerPoolStats
}

export interface TunnelAddresses {
  readonly address: string
  readonly port: number
  readonly httpPort?: number
  readonly proxyPort?: number
}

export interface Tunnel {
  /** The bound ports (the real ones when 0 was asked for). */
  readonly addresses: TunnelAddresses
  stats(): TunnelStats
  /** Replaces the active set; connections already forwarded are left alone. */
  setNames(entries: readonly HostEntry[]): void
  /**
   * Closes the forwarded connections whose upstream TCP connection leaves from one of `addresses` (addresses this
   * machine no longer has: they are dead, and a client would wait on them until TCP gives up, minutes later; cut,
   * the client retries at once). Counts them as errors; returns how many there were. SSH channels are not TCP
   * connections of their own: the SSH dialer's reconnect ends them.
   */
  dropConnectionsFrom(addresses: readonly string[]): number
  onDidChangeStats(listener: (stats: TunnelStats) => void): Disposable
  /**
   * Stops accepting, drops connections that were not routed yet, waits up to drainMs for forwarded ones to
   * finish, then destroys the rest. The dialer is not closed (its owner closes it), but its warm pool is cooled
   * down: a closed tunnel leaves no upstream connection open.
   */
  close(options?: { readonly drainMs?: number }): Promise<void>
}

type ListenerKind = 'tls' | 'http' | 'proxy'

interface Counters {
  open: number
  total: number
  bytesUp: number
  bytesDown: number
  errors: number
}

interface Connection {
  readonly socket: Socket
  routed: boolean
  abort?: AbortController
  pipe?: SpliceHandle
  /** The upstream it is spliced to, once there is one. */
  upstream?: Duplex
}

/** TLS alert unrecognized_name (fatal): tells a refused TLS client why, in its own protocol. */
const unrecognizedNameAlert = Buffer.from([21, 3, 3, 0, 2, 2, 112])

export async function startTunnel(options: StartTunnelOptions): Promise<Tunnel> {
  const logger = options.logger ?? nullLogger
  const deadlineMs = options.clientHelloDeadlineMs ?? 10_000
  const dialTimeoutMs = options.dialTimeoutMs ?? 15_000
  const statsIntervalMs = options.statsIntervalMs ?? 1000
  const dialer = options.dialer

  let allowed = indexNames(options.names)
  let order = options.names.map((entry) => entry.name.toLowerCase())
  const counters = new Map<string, Counters>()
  const refused = Object.fromEntries(refusalReasons.map((reason) => [reason, 0])) as Record<RefusalReason, number>
  let dialFailures = 0
  const connections = new Set<Connection>()
  const statsEmitter = new Emitter<TunnelStats>()
  let closing = false
  let statsTimer: NodeJS.Timeout | undefined
  let drained: (() => void) | undefined

  const countersFor = (name: string): Counters => {
    let entry = counters.get(name)
    if (entry === undefined) {
      entry = { open: 0, total: 0, bytesUp: 0, bytesDown: 0, errors: 0 }
      counters.set(name, entry)
    }
    return entry
  }

  const stats = (): TunnelStats => {
    const names: NameTraffic[] = []
    const listed = new Set<string>()
    for (const name of [...order, ...counters.keys()]) {
      if (listed.has(name)) continue
      listed.add(name)
      const c = counters.get(name) ?? { open: 0, total: 0, bytesUp: 0, bytesDown: 0, errors: 0 }
      names.push({ name, open: c.open, total: c.total, bytesUp: c.bytesUp, bytesDown: c.bytesDown, errors: c.errors })
    }
    const pool = dialer.poolStats?.()
    return { open: connections.size, names, refused: { ...refused }, dialFailures, ...(pool === undefined ? {} : { pool }) }
  }

  const changed = (): void => {
    if (statsTimer !== undefined) return
    statsTimer = setTimeout(() => {
      statsTimer = undefined
      statsEmitter.fire(stats())
    }, statsIntervalMs)
    statsTimer.unref()
  }

  /** Counts and logs a refusal; the caller closes the connection. */
  const noteRefusal = (conn: Connection, reason: RefusalReason, detail: string): void => {
    refused[reason] += 1
    changed()
    const from = formatHostPort(conn.socket.remoteAddress ?? '?', conn.socket.remotePort ?? 0)
    const line = `[tunnel] refused ${from}: ${reason}${detail === '' ? '' : ` (${detail})`}`
    if (reason === 'client-closed') logger.debug(line)
    else logger.info(line)
  }

  const refuse = (conn: Connection, reason: RefusalReason, detail: string, reply?: Buffer | string): void => {
    noteRefusal(conn, reason, detail)
    const socket = conn.socket
    if (reply === undefined || socket.destroyed || !socket.writable) {
      socket.destroy()
      return
    }
    socket.end(reply, () => socket.destroy())
    // A client that never reads must not keep the socket: give the reply a short time, then drop it.
    setTimeout(() => socket.destroy(), 2000).unref()
  }

  /**
   * Dials target and splices the client to it, `initial` first. `established`: the proxy reply to send once the
   * upstream is there; `requests`: the checker every later byte from the client goes through (plain HTTP).
   */
  const forward = async (
    conn: Connection,
    target: UpstreamTarget,
    initial: Buffer,
    { established, requests }: { established?: string; requests?: RequestChecker } = {},
  ): Promise<void> => {
    const c = countersFor(target.name)
    c.open += 1
    c.total += 1
    changed()
    let finished = false
    const done = (error?: Error): void => {
      if (finished) return
      finished = true
      c.open -= 1
      if (error !== undefined && !closing) c.errors += 1
      changed()
    }

    if (closing) {
      conn.socket.destroy()
      done()
      return
    }
    const abort = new AbortController()
    conn.abort = abort
    const onEarlyClose = (): void => abort.abort()
    conn.socket.once('close', onEarlyClose)
    let upstream: Duplex
    try {
      upstream = await dialer.dial(target, { signal: abort.signal, timeoutMs: dialTimeoutMs, pooled: true })
    } catch (error) {
      conn.socket.off('close', onEarlyClose)
      // (before done(): the stats it announces count this failure)
      if (!abort.signal.aborted && !closing) dialFailures += 1
      done(error instanceof Error ? error : new Error(String(error)))
      if (!abort.signal.aborted && !closing) {
        const message = error instanceof Error ? error.message : String(error)
        logger.warn(`[tunnel] ${target.name}:${target.port}: ${message}`)
      }
      if (established !== undefined && !conn.socket.destroyed) {
        // The proxy client is told in its own protocol.
        const reason = isBridgeError(error) ? error.message : 'the upstream connection failed'
        conn.socket.end(httpReply(502, 'Bad Gateway', reason), () => conn.socket.destroy())
        setTimeout(() => conn.socket.destroy(), 2000).unref()
      } else {
        conn.socket.destroy()
      }
      return
    }
    conn.socket.off('close', onEarlyClose)
    upstream.on('error', () => {}) // splice reports errors; this only keeps a late one from being uncaught
    if (conn.socket.destroyed || closing) {
      upstream.destroy()
      conn.socket.destroy()
      done()
      return
    }
    if (established !== undefined) conn.socket.write(established)
    conn.upstream = upstream
    conn.pipe = splice(conn.socket, upstream, {
      initial,
      onBytes: (up, down) => {
        c.bytesUp += up
        c.bytesDown += down
        changed()
      },
      onClose: (error) => {
        if (error !== undefined && !closing) logger.debug(`[tunnel] ${target.name}:${target.port} closed: ${error.message}`)
        done(error)
      },
      ...(requests === undefined ? {} : { inspectClientChunk: inspectRequests(requests, (r) => noteRefusal(conn, r.reason, r.detail)) }),
    })
  }

  // ---- the three listeners -------------------------------------------------------------------------------

  const onTls = async (conn: Connection): Promise<void> => {
    const peeked = await peekHead(conn, (buf) => {
      const result = parseClientHello(buf)
      return result.kind === 'need-more' ? 'need-more' : result
    }, maxClientHelloBytes + 1)
    if (peeked === undefined) return
    const result: ClientHelloResult = peeked.result
    if (result.kind === 'no-sni') return refuse(conn, 'no-sni', '', unrecognizedNameAlert)
    if (result.kind !== 'sni') return refuse(conn, 'invalid', result.kind === 'invalid' ? result.reason : '')
    const ports = allowed.get(result.name)
    if (ports === undefined) return refuse(conn, 'name-not-allowed', result.name, unrecognizedNameAlert)
    if (!ports.has(443)) return refuse(conn, 'port-not-allowed', `${result.name}:443`, unrecognizedNameAlert)
    conn.routed = true
    await forward(conn, { name: result.name, port: 443 }, peeked.buffered)
  }

  const onHttp = async (conn: Connection): Promise<void> => {
    const peeked = await peekHead(conn, httpParse, maxHttpHeadBytes + 1)
    if (peeked === undefined) return
    const result: HttpHeadResult = peeked.result
    if (result.kind === 'no-host') return refuse(conn, 'no-host', '', httpReply(400, 'Bad Request', 'the request names no host'))
    if (result.kind !== 'host') return refuse(conn, 'invalid', result.kind === 'invalid' ? result.reason : '', httpReply(400, 'Bad Request', 'malformed request'))
    const ports = allowed.get(result.name)
    if (ports === undefined) return refuse(conn, 'name-not-allowed', result.name, httpReply(403, 'Forbidden', `${result.name} is not in the tunnel's name set`))
    if (!ports.has(80)) return refuse(conn, 'port-not-allowed', `${result.name}:80`, httpReply(403, 'Forbidden', `${result.name} is not served over plain HTTP`))
    const requests = createRequestChecker({ name: result.name, port: result.port ?? 80 })
    const first = requests.feed(peeked.buffered)
    if (!first.ok) return refuse(conn, first.reason, first.detail, httpReply(400, 'Bad Request', first.detail))
    conn.routed = true
    await forward(conn, { name: result.name, port: 80 }, peeked.buffered, { requests })
  }

  const onProxy = async (conn: Connection): Promise<void> => {
    const peeked = await peekHead(conn, httpParse, maxHttpHeadBytes + 1)
    if (peeked === undefined) return
    const result: HttpHeadResult = peeked.result
    if (result.kind === 'invalid') return refuse(conn, 'invalid', result.reason, httpReply(400, 'Bad Request', 'malformed request'))
    if (result.kind !== 'host' || (result.form !== 'authority' && result.form !== 'absolute')) {
      return refuse(conn, 'not-a-proxy-request', '', httpReply(400, 'Bad Request', 'this port is an HTTP proxy: send CONNECT name:443 or an absolute-form http:// request'))
    }
    const port = result.form === 'authority' ? (result.port ?? 443) : (result.port ?? 80)
    const ports = allowed.get(result.name)
    if (ports === undefined) return refuse(conn, 'name-not-allowed', result.name, httpReply(403, 'Forbidden', `${result.name} is not in the tunnel's name set`))
    if (!ports.has(port) || (result.form === 'absolute' && port !== 80)) {
      return refuse(conn, 'port-not-allowed', `${result.name}:${port}`, httpReply(403, 'Forbidden', `${result.name}:${port} is not served by the tunnel`))
    }
    // CONNECT name:80 carries plain HTTP to the name, as the port-80 listener does: each request is checked.
    const requests = result.form === 'authority' && port === 80 ? createRequestChecker({ name: result.name, port: 80 }) : undefined
    const first = requests?.feed(peeked.buffered.subarray(result.headLength))
    if (first !== undefined && !first.ok) return refuse(conn, first.reason, first.detail, httpReply(400, 'Bad Request', first.detail))
    conn.routed = true
    if (result.form === 'authority') {
      const rest = peeked.buffered.subarray(result.headLength)
      await forward(conn, { name: result.name, port }, rest, { established: 'HTTP/1.1 200 Connection Established\r\n\r\n', ...(requests === undefined ? {} : { requests }) })
    } else {
      // One request per connection: the head is rewritten with Connection: close, so the origin ends the connection
      // after its answer and a later request, for whatever host, is never served on it.
      const head = originFormHead(peeked.buffered.subarray(0, result.headLength), result.name, result.port)
      await forward(conn, { name: result.name, port: 80 }, Buffer.concat([head, peeked.buffered.subarray(result.headLength)]))
    }
  }

  const peekHead = async <T>(conn: Connection, parse: (buf: Buffer) => T | 'need-more', maxBytes: number) => {
    try {
      return await peekUntil(conn.socket, parse, { deadlineMs, maxBytes })
    } catch (error) {
      if (isBridgeError(error, 'CLIENT_HELLO_TIMEOUT')) refuse(conn, 'timeout', `${deadlineMs} ms`)
      else if (isBridgeError(error, 'CLIENT_HELLO_TOO_LARGE')) refuse(conn, 'too-large', '')
      else if (isBridgeError(error, 'CLIENT_CLOSED')) refuse(conn, 'client-closed', '')
      else throw error
      return undefined
    }
  }

  const handlers: Record<ListenerKind, (conn: Connection) => Promise<void>> = { tls: onTls, http: onHttp, proxy: onProxy }

  const makeServer = (kind: ListenerKind): Server => {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true, highWaterMark: forwardHighWaterMark }, (socket) => {
      socket.on('error', () => {}) // every failure is handled where the socket is used: peek, splice, refuse
      if (closing) {
        socket.destroy()
        return
      }
      socket.setNoDelay(true)
      const conn: Connection = { socket, routed: false }
      connections.add(conn)
      changed()
      socket.once('close', () => {
        connections.delete(conn)
        changed()
        if (closing && connections.size === 0) drained?.()
      })
      handlers[kind](conn).catch((error: unknown) => {
        logger.error(`[tunnel] internal error on the ${kind} listener`, error)
        socket.destroy()
      })
    })
    if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections
    server.on('error', (error) => logger.error(`[tunnel] ${kind} listener failed`, error))
    return server
  }

  // ---- start ---------------------------------------------------------------------------------------------

  const listen = options.listen
  const servers: Server[] = []
  const closeServers = (): Promise<void> =>
    Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined)

  let addresses: TunnelAddresses
  try {
    const tlsServer = makeServer('tls')
    servers.push(tlsServer)
    const port = await listenOn(tlsServer, listen.address, listen.port, 'listen.port')
    let httpPort: number | undefined
    if (listen.httpPort !== undefined && listen.httpPort !== null) {
      const httpServer = makeServer('http')
      servers.push(httpServer)
      httpPort = await listenOn(httpServer, listen.address, listen.httpPort, 'listen.httpPort')
    }
    let proxyPort: number | undefined
    if (listen.proxyPort !== undefined) {
      const proxyServer = makeServer('proxy')
      servers.push(proxyServer)
      proxyPort = await listenOn(proxyServer, listen.address, listen.proxyPort, 'listen.proxyPort')
    }
    addresses = {
      address: listen.address,
      port,
      ...(httpPort === undefined ? {} : { httpPort }),
      ...(proxyPort === undefined ? {} : { proxyPort }),
    }
  } catch (error) {
    closing = true
    await closeServers()
    throw error
  }
  logger.info(
    `[tunnel] listening on ${formatHostPort(addresses.address, addresses.port)} (TLS)` +
      (addresses.httpPort === undefined ? '' : `, ${formatHostPort(addresses.address, addresses.httpPort)} (HTTP)`) +
      (addresses.proxyPort === undefined ? '' : `, ${formatHostPort(addresses.address, addresses.proxyPort)} (proxy)`) +
      `, mode ${dialer.mode}, ${order.length} names`,
  )

  let closed: Promise<void> | undefined
  return {
    addresses,
    stats,
    setNames(entries) {
      allowed = indexNames(entries)
      order = entries.map((entry) => entry.name.toLowerCase())
      changed()
    },
    onDidChangeStats: statsEmitter.event,
    dropConnectionsFrom(gone) {
      const addresses = new Set(gone)
      let dropped = 0
      for (const conn of connections) {
        const from = conn.upstream instanceof Socket ? conn.upstream.localAddress : undefined
        if (from === undefined || !addresses.has(from) || conn.pipe === undefined) continue
        conn.pipe.close(new Error(`this machine no longer has the address ${from} the upstream connection left from`))
        dropped += 1
      }
      if (dropped > 0) logger.info(`[tunnel] closed ${dropped} forwarded connection${dropped === 1 ? '' : 's'} that left from ${[...addresses].join(', ')}, gone from this machine`)
      return dropped
    },
    close({ drainMs = 0 } = {}) {
      closed ??= (async () => {
        closing = true
        dialer.coolDown?.()
        const serversClosed = closeServers()
        for (const conn of connections) {
          if (!conn.routed) conn.socket.destroy()
          else if (conn.pipe === undefined) conn.abort?.abort()
        }
        const allClosed = new Promise<void>((resolve) => {
          drained = resolve
          if (connections.size === 0) resolve()
        })
        if (drainMs > 0) {
          let timer: NodeJS.Timeout | undefined
          await Promise.race([allClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))])
          clearTimeout(timer)
        }
        for (const conn of connections) {
          if (conn.pipe !== undefined) conn.pipe.close()
          conn.socket.destroy()
        }
        await allClosed
        await serversClosed
        dialer.coolDown?.() // again: a dial that was under way when close() began may have warmed it
        if (statsTimer !== undefined) clearTimeout(statsTimer)
        statsTimer = undefined
        statsEmitter.fire(stats())
        statsEmitter.dispose()
        logger.info('[tunnel] stopped')
      })()
      return closed
    },
  }
}

function indexNames(entries: readonly HostEntry[]): Map<string, ReadonlySet<number>> {
  const map = new Map<string, Set<number>>()
  for (const entry of entries) {
    const name = entry.name.toLowerCase()
    const ports = map.get(name) ?? new Set<number>()
    for (const port of entry.ports) ports.add(port)
    map.set(name, ports)
  }
  return map
}

function httpParse(buf: Buffer): HttpHeadResult | 'need-more' {
  const result = parseHttpHead(buf)
  return result.kind === 'need-more' ? 'need-more' : result
}

/** A short plain-text reply that closes the connection. `reason` is ours, never raw client input. */
function httpReply(status: number, statusText: string, reason: string): string {
  const body = `acr-bridge: ${reason}\n`
  return (
    `HTTP/1.1 ${status} ${statusText}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  )
}

const hopByHop = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade'])

/**
 * Rewrites an absolute-form proxy request head to origin form for the server: path only, Host from the target,
 * hop-by-hop headers dropped, and `Connection: close`, so that one proxied connection carries one request and
 * a client reusing its proxy connection for another host cannot reach it through this one.
 */
function originFormHead(head: Buffer, name: string, port: number | undefined): Buffer {
  const text = head.toString('latin1')
  const lines = text.split(/\r?\n/)
  const [method, target, version] = lines[0]!.split(' ') as [string, string, string]
  const afterScheme = target.slice(target.indexOf('//') + 2)
  const slash = afterScheme.search(/[/?#]/)
  let path = slash === -1 ? '/' : afterScheme.slice(slash)
  if (path.startsWith('?')) path = `/${path}`
  const hashAt = path.indexOf('#')
  if (hashAt !== -1) path = path.slice(0, hashAt)
  // The Host header is set from the target that was checked (RFC 9112 §3.2.2), never passed on as sent.
  const out = [`${method} ${path} ${version}`, `Host: ${port === undefined ? name : `${name}:${port}`}`]
  for (const line of lines.slice(1)) {
    if (line === '') continue
    const field = line.slice(0, line.indexOf(':')).toLowerCase()
    if (hopByHop.has(field) || field === 'host') continue
    out.push(line)
  }
  out.push('Connection: close')
  return Buffer.from(`${out.join('\r\n')}\r\n\r\n`, 'latin1')
}
