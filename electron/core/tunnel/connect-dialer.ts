// Mode `connect`: one `CONNECT name:port` through an HTTP proxy on the ECS (goproxy, squid, tinyproxy) per
// client connection, optionally with Basic auth and optionally over TLS to the proxy.

import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { BridgeError, isBridgeError } from '../errors.js'
import { formatHostPort } from './listen.js'
import { peekUntil } from './peek.js'
import { connectTcp } from './tcp-connect.js'
import type { DialOptions, Dialer, UpstreamTarget } from './types.js'

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

  return {
    mode: 'connect',
    async dial(target: UpstreamTarget, dialOptions: DialOptions = {}): Promise<Duplex> {
      const timeoutMs = dialOptions.timeoutMs ?? options.connectTimeoutMs ?? 15_000
      const started = Date.now()
      const socket: Socket = await connectTcp({
        host: options.host,
        port: options.port,
        timeoutMs,
        ...(dialOptions.signal === undefined ? {} : { signal: dialOptions.signal }),
        ...(options.tls === true ? { tls: options.ca === undefined ? {} : { ca: options.ca } } : {}),
        role: 'HTTP proxy',
        field: 'tunnel.host and tunnel.port',
      })
      const authority = formatHostPort(target.name, target.port)
      const onabort = (): void => {
        socket.destroy()
      }
      dialOptions.signal?.addEventListener('abort', onabort, { once: true })
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
          throw mapPeekError(error, proxy, authority, timeoutMs, dialOptions.signal)
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
        dialOptions.signal?.removeEventListener('abort', onabort)
      }
    },
    async close(): Promise<void> {},
  }
}

function mapPeekError(error: unknown, proxy: string, authority: string, timeoutMs: number, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted === true) {
    const aborted = new Error('The dial was aborted.')
    aborted.name = 'AbortError'
    return aborted
  }
  if (isBridgeError(error, 'CLIENT_HELLO_TIMEOUT')) {
    return new BridgeError('UPSTREAM_UNREACHABLE', `The proxy ${proxy} did not answer CONNECT ${authority} within ${timeoutMs} ms.`, {
      hint: 'Check that tunnel.port is the proxy port and that the proxy can reach the target.',
    })
  }
  if (isBridgeError(error, 'CLIENT_HELLO_TOO_LARGE')) {
    return new BridgeError('UPSTREAM_REFUSED', `The proxy ${proxy} answered CONNECT ${authority} with an oversized head.`, {
      hint: 'Check that tunnel.host and tunnel.port point at an HTTP CONNECT proxy (mode connect).',
    })
  }
  if (isBridgeError(error, 'CLIENT_CLOSED')) {
    return new BridgeError('UPSTREAM_REFUSED', `The proxy ${proxy} closed the connection instead of answering CONNECT ${authority}.`, {
      hint: 'Check the proxy log; with TLS to the proxy, check tunnel.connect.tls.',
    })
  }
  return error
}

/**
 * peekUntil leaves the socket explicitly paused, and an explicitly paused stream stays paused when a 'data' listener
 * is added: a consumer that only listens (http.request over createConnection, as the probes do) would never see a
 * byte. Give it the behaviour of a fresh socket: the first 'data' listener starts the flow (after it is attached, so
 * no byte, the unshifted ones included, is emitted to nobody). pipe()/pipeline resume by themselves.
 */
function resumeOnFirstDataListener(socket: Socket): void {
  const onNewListener = (event: string | symbol): void => {
    if (event !== 'data') return
    socket.off('newListener', onNewListener)
    process.nextTick(() => {
      if (socket.readableFlowing === false && socket.listenerCount('data') > 0) socket.resume()
    })
  }
  socket.on('newListener', onNewListener)
}
