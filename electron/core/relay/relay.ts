import { lookup as dnsLookup } from 'node:dns/promises'
import { BlockList, createServer, isIP, type AddressInfo, type Server, type Socket } from 'node:net'
import { BridgeError, errnoCode, isBridgeError } from '../errors.js'
import { nullLogger, type Logger } from '../logger.js'
import { maxClientHelloBytes, parseClientHello, type ClientHelloResult } from '../tunnel/client-hello.js'
import { maxHttpHeadBytes, parseHttpHead, type HttpHeadResult } from '../tunnel/http-head.js'
import { createRequestChecker, inspectRequests, type RequestChecker } from '../tunnel/http-requests.js'
import { connectWithLargeReads, forwardHighWaterMark } from '../tunnel/large-reads.js'
import { peekUntil } from '../tunnel/peek.js'
import { splice, type SpliceHandle } from '../tunnel/splice.js'
import { classifyAddress } from './address-class.js'
import { compileAllowList, defaultAllowPatterns, type AllowList } from './allow-list.js'
import { cachingLookup } from './lookup-cache.js'
import { checkProxyAuthorization, connectPorts, judgeAddresses, judgeName } from './policy.js'
import type {
  ListenAddress,
  Relay,
  RelayAddresses,
  RelayLookup,
  RelayOptions,
  RelayStats,
  RefusalReason,
  ResolvedAddress,
} from './types.js'

// `acr-bridge relay`: the safe replacement for goproxy's open `proxy http -t tcp` on the proxy ECS.
// Three listeners share one policy (allow-list, address checks), one connection cap and one set of counters.
// A connection is forwarded only after: its head arrived in time and within bounds, the name it asks for is
// allowed and not an address, the name resolved ONCE and every answer is an ordinary address; then one of
// exactly those addresses is dialed (never the name again), so DNS rebinding cannot redirect it.

type ListenerKind = 'sni' | 'http' | 'connect'

interface Settings {
  readonly allow: AllowList
  readonly lookup: RelayLookup
  readonly deadlineMs: number
  readonly helloBound: number
  readonly idleTimeoutMs: number
  readonly maxConnections: number
  readonly connectTimeoutMs: number
  readonly isAllowedLoopback: (address: string) => boolean
  readonly token: string | undefined
  readonly logger: Logger
}

interface Conn {
  readonly kind: ListenerKind
  readonly client: Socket
  readonly peer: string
  upstream?: Socket
  spliced?: SpliceHandle
}

/** After a refusal reply, how long the client may take to close before it is cut off. */
const lingerMs = 2000
const tlsAlertUnrecognizedName = 112
const tlsAlertInternalError = 80

const defaults = {
  clientHelloDeadlineMs: 5000,
  maxHelloBytes: 64 * 1024,
  idleTimeoutMs: 5 * 60 * 1000,
  maxConnections: 1024,
  connectTimeoutMs: 10_000,
  lookupCacheMs: 5_000,
}

/** The default resolver: the OS's, every address, in the order it gives them. */
export const systemLookup: RelayLookup = async (name) => dnsLookup(name, { all: true, verbatim: true })

/**
 * Starts the relay's listeners. Rejects with INVALID_CONFIG (bad options), PORT_IN_USE or PORT_NEEDS_PRIVILEGE;
 * a listener that could not bind leaves none of the others open.
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const settings = validate(options)
  const { logger } = settings

  const counters = {
    accepted: 0,
    forwarded: 0,
    refusedTotal: 0,
    upstreamFailures: 0,
    idleTimeouts: 0,
    abandoned: 0,
    bytesUp: 0,
    bytesDown: 0,
  }
  const refused: Partial<Record<RefusalReason, number>> = {}
  const conns = new Set<Conn>()
  const sockets = new Map<Socket, Promise<void>>()
  let drainWaiters: (() => void)[] = []
  let closing = false
  let closePromise: Promise<void> | undefined

  const track = (socket: Socket): void => {
    sockets.set(
      socket,
      new Promise<void>((resolve) => {
        socket.once('close', () => {
          sockets.delete(socket)
          resolve()
        })
      }),
    )
  }

  const onConnection = (kind: ListenerKind, client: Socket): void => {
    client.on('error', () => {
      // Reported through peek/splice where it matters; a late error must not become an uncaught exception.
    })
    counters.accepted += 1
    track(client)
    const peer = formatPeer(client)
    if (closing) {
      client.destroy()
      return
    }
    if (conns.size >= settings.maxConnections) {
      countRefusal(peer, undefined, 'connection-cap')
      client.destroy()
      return
    }
    const conn: Conn = { kind, client, peer }
    conns.add(conn)
    client.once('close', () => {
      conn.upstream?.destroy()
      conns.delete(conn)
      if (conns.size === 0) {
        const waiters = drainWaiters
        drainWaiters = []
        for (const wake of waiters) wake()
      }
    })
    client.setNoDelay(true)
    handle(conn).catch((error: unknown) => {
      logger.error(`[relay] internal error on ${peer}`, error)
      conn.upstream?.destroy()
      client.destroy()
    })
  }

  const countRefusal = (peer: string, name: string | undefined, reason: RefusalReason, detail?: string): void => {
    counters.refusedTotal += 1
    refused[reason] = (refused[reason] ?? 0) + 1
    logger.warn(`[relay] refused ${peer} ${name ?? '-'} ${reason}`)
    if (detail !== undefined) logger.debug(`[relay] ${peer}: ${detail}`)
  }

  /** Counts and logs the refusal, answers in the listener's language where that helps, and closes. */
  const refuse = (conn: Conn, name: string | undefined, reason: RefusalReason, detail?: string): void => {
    countRefusal(conn.peer, name, reason, detail)
    finish(conn, refusalReply(conn.kind, reason))
  }

  const handle = async (conn: Conn): Promise<void> => {
    if (conn.kind === 'sni') return handleSni(conn)
    return handleHttp(conn)
  }

  const handleSni = async (conn: Conn): Promise<void> => {
    const peeked = await peek<ClientHelloResult>(conn, parseClientHello, settings.helloBound)
    if (peeked === undefined) return
    const { result, buffered } = peeked
    if (result.kind === 'need-more') throw new Error('peekUntil resolved with need-more')
    // The bound holds even when a whole oversized hello arrived in one read.
    if (buffered.length > settings.helloBound) return refuse(conn, undefined, 'too-large', `${buffered.length} bytes`)
    if (result.kind === 'invalid') return refuse(conn, undefined, 'invalid', result.reason)
    if (result.kind === 'no-sni') return refuse(conn, undefined, 'no-sni')
    return forward(conn, result.name, 443, buffered)
  }

  const handleHttp = async (conn: Conn): Promise<void> => {
    const peeked = await peek<HttpHeadResult>(conn, parseHttpHead, maxHttpHeadBytes)
    if (peeked === undefined) return
    const { result, buffered } = peeked
    if (result.kind === 'need-more') throw new Error('peekUntil resolved with need-more')
    if (result.kind === 'invalid') {
      return refuse(conn, undefined, buffered.length >= maxHttpHeadBytes ? 'too-large' : 'invalid', result.reason)
    }
    if (result.kind === 'no-host') return refuse(conn, undefined, 'no-host')

    if (conn.kind === 'http') {
      if (result.method === 'CONNECT') return refuse(conn, result.name, 'wrong-method')
      if (result.port !== undefined && result.port !== 80) return refuse(conn, result.name, 'port-not-allowed')
      // Every request of a kept-alive connection goes to the origin dialed for the first: each must name it.
      const requests = createRequestChecker({ name: result.name, port: 80 })
      const first = requests.feed(buffered)
      if (!first.ok) return refuse(conn, result.name, first.reason, first.detail)
      return forward(conn, result.name, 80, buffered, requests)
    }

    // The CONNECT listener: authenticate first, so that nobody learns anything about the policy without the token.
    if (result.method !== 'CONNECT') return refuse(conn, undefined, 'wrong-method')
    const authorization = result.headers.find(([field]) => field === 'proxy-authorization')?.[1]
    const auth = checkProxyAuthorization(authorization, settings.token ?? '')
    if (auth !== 'ok') return refuse(conn, undefined, auth)
    const port = result.port ?? 0
    if (!connectPorts.has(port)) return refuse(conn, result.name, 'port-not-allowed')
    return forward(conn, result.name, port, buffered.subarray(result.headLength))
  }

  /** Reads the head; undefined when the connection was refused or abandoned meanwhile (already handled). */
  const peek = async <T extends { kind: string }>(
    conn: Conn,
    parse: (buf: Buffer) => T,
    maxBytes: number,
  ): Promise<{ result: T; buffered: Buffer } | undefined> => {
    try {
      return await peekUntil(
        conn.client,
        (buf) => {
          const result = parse(buf)
          return result.kind === 'need-more' ? 'need-more' : result
        },
        { deadlineMs: settings.deadlineMs, maxBytes },
      )
    } catch (error) {
      if (isBridgeError(error, 'CLIENT_HELLO_TIMEOUT')) refuse(conn, undefined, 'timeout')
      else if (isBridgeError(error, 'CLIENT_HELLO_TOO_LARGE')) refuse(conn, undefined, 'too-large')
      else if (isBridgeError(error, 'CLIENT_CLOSED')) {
        counters.abandoned += 1
        logger.debug(`[relay] ${conn.peer} went away before its first request was complete`)
        conn.client.destroy()
      } else throw error
      return undefined
    }
  }

  const forward = async (conn: Conn, rawName: string, port: number, initial: Buffer, requests?: RequestChecker): Promise<void> => {
    const nameVerdict = judgeName(rawName, settings.allow)
    if (!nameVerdict.ok) return refuse(conn, rawName, nameVerdict.reason)
    const name = nameVerdict.value

    const started = Date.now()
    let answers: readonly ResolvedAddress[]
    try {
      answers = await withTimeout(settings.lookup(name), settings.connectTimeoutMs)
    } catch (error) {
      return refuse(conn, name, 'resolve-failed', `lookup failed: ${errnoCode(error) ?? String(error)}`)
    }
    if (closing || conn.client.destroyed) return void conn.client.destroy()
    const addressVerdict = judgeAddresses(answers, settings.isAllowedLoopback)
    if (!addressVerdict.ok) {
      const bad = answers.find((a) => classifyAddress(a.address) !== 'ordinary')?.address ?? '-'
      return refuse(conn, name, addressVerdict.reason, `${name} resolved to ${bad}`)
    }

    const upstream = await dialFirst(conn, addressVerdict.value, port, settings.connectTimeoutMs - (Date.now() - started))
    if (upstream === undefined) {
      if (closing || conn.client.destroyed) return void conn.client.destroy()
      counters.upstreamFailures += 1
      logger.warn(`[relay] upstream ${conn.peer} ${name} unreachable on port ${port}`)
      return finish(conn, failureReply(conn.kind))
    }
    if (closing || conn.client.destroyed) {
      upstream.destroy()
      conn.client.destroy()
      return
    }

    counters.forwarded += 1
    logger.debug(`[relay] forward ${conn.peer} ${name} ${upstream.remoteAddress ?? '?'}:${port}`)
    if (conn.kind === 'connect') conn.client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    const { client } = conn
    client.setTimeout(settings.idleTimeoutMs)
    client.on('timeout', () => {
      counters.idleTimeouts += 1
      logger.info(`[relay] idle ${conn.peer} ${name} closed after ${settings.idleTimeoutMs} ms without traffic`)
      conn.spliced?.close()
    })
    conn.spliced = splice(client, upstream, {
      initial,
      onBytes: (up, down) => {
        counters.bytesUp += up
        counters.bytesDown += down
      },
      onClose: (err) => {
        client.setTimeout(0)
        logger.debug(`[relay] closed ${conn.peer} ${name}${err === undefined ? '' : ` (${err.message})`}`)
      },
      ...(requests === undefined ? {} : { inspectClientChunk: inspectRequests(requests, (r) => countRefusal(conn.peer, name, r.reason, r.detail)) }),
    })
  }

  /** Tries the checked addresses in order; never resolves the name again. */
  const dialFirst = async (conn: Conn, addresses: readonly string[], port: number, budgetMs: number): Promise<Socket | undefined> => {
    const deadline = Date.now() + Math.max(budgetMs, 0)
    for (const address of addresses) {
      const remaining = deadline - Date.now()
      if (remaining <= 0 || closing || conn.client.destroyed) return undefined
      const socket = await dialOne(conn, address, port, remaining)
      if (socket !== undefined) return socket
    }
    return undefined
  }

  const dialOne = (conn: Conn, address: string, port: number, timeoutMs: number): Promise<Socket | undefined> =>
    new Promise((resolve) => {
      // `host` is an IP address, so net.connect dials it as is: no second lookup. Reads are large, as the
      // tunnel's (large-reads.ts): splice hands the recycled chunks back once written.
      const socket = connectWithLargeReads({ host: address, port, allowHalfOpen: true, noDelay: true })
      track(socket)
      conn.upstream = socket
      let settled = false
      const done = (error?: unknown): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        socket.off('connect', onconnect)
        socket.off('close', onclose)
        if (error === undefined) return resolve(socket)
        logger.debug(`[relay] ${conn.peer} dial ${address}:${port} failed: ${errnoCode(error) ?? String(error)}`)
        socket.destroy()
        if (conn.upstream === socket) conn.upstream = undefined
        resolve(undefined)
      }
      const onconnect = (): void => done()
      const onclose = (): void => done(new Error('closed while connecting'))
      // Stays attached: after the connect, splice reports errors; a late one must not be uncaught.
      socket.on('error', (error) => done(error))
      socket.once('connect', onconnect)
      socket.once('close', onclose)
      const timer = setTimeout(() => done(new Error('connect timeout')), timeoutMs)
    })

  /** Sends `reply` (if any) and closes: the client's remaining bytes are read and dropped so no RST eats the reply. */
  const finish = (conn: Conn, reply: Buffer | undefined): void => {
    const { client } = conn
    if (client.destroyed) return
    if (reply === undefined || closing) {
      client.destroy()
      return
    }
    const timer = setTimeout(() => client.destroy(), lingerMs)
    client.once('close', () => clearTimeout(timer))
    client.on('data', () => {})
    client.once('end', () => client.destroy())
    client.resume()
    client.end(reply)
  }

  // Listeners: bind all of them or none.
  const servers: Server[] = []
  const addresses: { listen?: ListenAddress; httpListen?: ListenAddress; connectListen?: ListenAddress } = {}
  const plan: [ListenerKind, keyof RelayAddresses, ListenAddress | undefined][] = [
    ['sni', 'listen', options.listen],
    ['http', 'httpListen', options.httpListen],
    ['connect', 'connectListen', options.connectListen],
  ]
  try {
    for (const [kind, field, where] of plan) {
      if (where === undefined) continue
      // The same stream thresholds as the tunnel's listeners (large-reads.ts).
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, highWaterMark: forwardHighWaterMark }, (socket) => onConnection(kind, socket))
      servers.push(server)
      addresses[field] = await listen(server, where, field)
      server.on('error', (error) => logger.error(`[relay] ${field} listener failed`, error))
      logger.info(`[relay] ${kind} listening on ${formatAddress(addresses[field]!)}`)
    }
  } catch (error) {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
    throw error
  }
  logger.info(`[relay] allow ${settings.allow.patterns.join(' ')}`)

  const close = (closeOptions: { readonly drainMs?: number } = {}): Promise<void> => {
    if (closePromise !== undefined) return closePromise
    closing = true
    closePromise = (async () => {
      const serversClosed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
      const drainMs = closeOptions.drainMs ?? 0
      if (drainMs > 0 && conns.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainMs)
          drainWaiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
      for (const socket of sockets.keys()) socket.destroy()
      await Promise.all([...serversClosed, ...sockets.values()])
      logger.info('[relay] closed')
    })()
    return closePromise
  }

  const stats = (): RelayStats => ({
    open: conns.size,
    accepted: counters.accepted,
    forwarded: counters.forwarded,
    refused: { ...refused },
    refusedTotal: counters.refusedTotal,
    upstreamFailures: counters.upstreamFailures,
    idleTimeouts: counters.idleTimeouts,
    abandoned: counters.abandoned,
    bytesUp: counters.bytesUp,
    bytesDown: counters.bytesDown,
  })

  return { addresses: addresses as RelayAddresses, stats, close }
}

function validate(options: RelayOptions): Settings {
  const checkListen = (where: ListenAddress | undefined, field: string, required: boolean): void => {
    if (where === undefined) {
      if (required) throw invalidOption(field, 'is missing', 'Give the address to listen on, for example 0.0.0.0:443.')
      return
    }
    if (typeof where.host !== 'string' || where.host.length === 0 || /[\s]/.test(where.host)) {
      throw invalidOption(`${field}.host`, 'is not an address', 'Use an IP address such as 0.0.0.0 or ::.')
    }
    if (!Number.isInteger(where.port) || where.port < 0 || where.port > 65535) {
      throw invalidOption(`${field}.port`, 'is not a port', 'Use a port from 1 to 65535.')
    }
  }
  checkListen(options.listen, 'listen', true)
  checkListen(options.httpListen, 'httpListen', false)
  checkListen(options.connectListen, 'connectListen', false)

  let token: string | undefined
  if (options.connectListen !== undefined) {
    token = options.connectListen.token
    if (typeof token !== 'string' || !/^[\x21-\x7e]{16,}$/.test(token)) {
      throw invalidOption(
        'connectListen.token',
        'must be at least 16 printable characters without spaces',
        'Generate one with `openssl rand -hex 32` and keep it in a file only the relay can read.',
      )
    }
  }

  const positive = (value: number | undefined, fallback: number, field: string): number => {
    if (value === undefined) return fallback
    if (!Number.isInteger(value) || value < 1) throw invalidOption(field, 'must be a positive whole number', `Leave ${field} out to use ${fallback}.`)
    return value
  }
  const lookupCacheMs = options.lookupCacheMs ?? defaults.lookupCacheMs
  if (!Number.isInteger(lookupCacheMs) || lookupCacheMs < 0) {
    throw invalidOption('lookupCacheMs', 'must be a whole number of milliseconds, 0 or more', `Leave lookupCacheMs out to use ${defaults.lookupCacheMs}; 0 resolves for every connection.`)
  }
  const lookup = options.lookup ?? systemLookup

  const allowLoopback = new BlockList()
  for (const [index, address] of (options.allowLoopbackAddresses ?? []).entries()) {
    if (classifyAddress(address) !== 'loopback' || address.includes('%')) {
      throw invalidOption(`allowLoopbackAddresses[${index}]`, 'is not a loopback address', 'List only addresses in 127.0.0.0/8 or ::1.')
    }
    allowLoopback.addAddress(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')
  }

  return {
    allow: compileAllowList(options.allow ?? defaultAllowPatterns),
    lookup: lookupCacheMs > 0 ? cachingLookup(lookup, { ttlMs: lookupCacheMs }) : lookup,
    deadlineMs: positive(options.clientHelloDeadlineMs, defaults.clientHelloDeadlineMs, 'clientHelloDeadlineMs'),
    helloBound: Math.min(positive(options.maxHelloBytes, defaults.maxHelloBytes, 'maxHelloBytes'), maxClientHelloBytes),
    idleTimeoutMs: positive(options.idleTimeoutMs, defaults.idleTimeoutMs, 'idleTimeoutMs'),
    maxConnections: positive(options.maxConnections, defaults.maxConnections, 'maxConnections'),
    connectTimeoutMs: positive(options.connectTimeoutMs, defaults.connectTimeoutMs, 'connectTimeoutMs'),
    isAllowedLoopback: (address) => {
      const family = isIP(address)
      return family !== 0 && allowLoopback.check(address, family === 6 ? 'ipv6' : 'ipv4')
    },
    token,
    logger: options.logger ?? nullLogger,
  }
}

function invalidOption(field: string, problem: string, hint: string): BridgeError {
  return new BridgeError('INVALID_CONFIG', `The relay option ${field} ${problem}.`, { field, hint })
}

function listen(server: Server, where: ListenAddress, field: string): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onerror = (error: Error): void => {
      const code = errnoCode(error)
      const at = formatAddress(where)
      if (code === 'EADDRINUSE') {
        reject(new BridgeError('PORT_IN_USE', `Another program is already listening on ${at}.`, {
          field, cause: error, hint: 'Stop that program (ss -ltnp shows which) or choose another port.',
        }))
      } else if (code === 'EACCES') {
        reject(new BridgeError('PORT_NEEDS_PRIVILEGE', `Listening on ${at} needs a privilege this process lacks.`, {
          field, cause: error, hint: 'Run the relay with CAP_NET_BIND_SERVICE (see docs/relay.md) or use a port above 1023.',
        }))
      } else if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        reject(new BridgeError('INVALID_CONFIG', `${where.host} is not an address of this machine.`, {
          field: `${field}.host`, cause: error, hint: 'Use 0.0.0.0, :: or one of this machine\'s addresses.',
        }))
      } else {
        reject(new BridgeError('PORT_IN_USE', `Could not listen on ${at} (${code ?? error.message}).`, {
          field, cause: error, hint: 'Check the address and port, then start the relay again.',
        }))
      }
    }
    server.once('error', onerror)
    server.listen({ host: where.host, port: where.port }, () => {
      server.off('error', onerror)
      const bound = server.address() as AddressInfo
      resolve({ host: bound.address, port: bound.port })
    })
  })
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

function formatPeer(socket: Socket): string {
  const address = socket.remoteAddress
  if (address === undefined) return '?'
  return address.includes(':') ? `[${address}]:${socket.remotePort ?? '?'}` : `${address}:${socket.remotePort ?? '?'}`
}

function formatAddress(where: ListenAddress): string {
  return where.host.includes(':') ? `[${where.host}]:${where.port}` : `${where.host}:${where.port}`
}

function tlsAlert(description: number): Buffer {
  // A fatal alert record: content type 21, version 3.3, length 2, level 2 (fatal), description.
  return Buffer.from([21, 3, 3, 0, 2, 2, description])
}

function httpReply(status: number, text: string, reason: string, extra: readonly string[] = []): Buffer {
  const body = `acr-bridge relay: ${reason}\n`
  return Buffer.from(
    [
      `HTTP/1.1 ${status} ${text}`,
      'Content-Type: text/plain; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      ...extra,
      '',
      body,
    ].join('\r\n'),
    'latin1',
  )
}

/** What a refused client is told: a TLS alert for named TLS refusals, an HTTP status on the HTTP listeners. */
function refusalReply(kind: ListenerKind, reason: RefusalReason): Buffer | undefined {
  if (reason === 'connection-cap') return undefined
  if (kind === 'sni') {
    // Garbage, oversized or late hellos get no answer; a readable refusal gets unrecognized_name.
    return reason === 'timeout' || reason === 'too-large' || reason === 'invalid' ? undefined : tlsAlert(tlsAlertUnrecognizedName)
  }
  switch (reason) {
    case 'timeout':
      return httpReply(408, 'Request Timeout', reason)
    case 'too-large':
      return httpReply(431, 'Request Header Fields Too Large', reason)
    case 'invalid':
    case 'no-host':
    case 'other-host':
      return httpReply(400, 'Bad Request', reason)
    case 'wrong-method':
      return httpReply(405, 'Method Not Allowed', reason, [`Allow: ${kind === 'connect' ? 'CONNECT' : 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'}`])
    case 'auth-missing':
    case 'auth-failed':
      return httpReply(407, 'Proxy Authentication Required', reason, ['Proxy-Authenticate: Basic realm="acr-bridge relay"'])
    case 'resolve-failed':
      return httpReply(502, 'Bad Gateway', reason)
    default:
      return httpReply(403, 'Forbidden', reason)
  }
}

function failureReply(kind: ListenerKind): Buffer {
  return kind === 'sni' ? tlsAlert(tlsAlertInternalError) : httpReply(502, 'Bad Gateway', 'upstream unreachable')
}
