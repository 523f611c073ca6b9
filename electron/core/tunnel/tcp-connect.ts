// One outgoing TCP (or TLS) connection to the proxy ECS, with a time limit, an abort signal, and errors that
// say which address failed and what to do.

import { connect as netConnect, isIP, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { BridgeError, errnoCode } from '../errors.js'
import { connectWithLargeReads } from './large-reads.js'
import { formatHostPort } from './listen.js'

export interface TcpConnectOptions {
  readonly host: string
  readonly port: number
  readonly timeoutMs: number
  readonly signal?: AbortSignal
  /** Speak TLS to host:port (certificate checked against the system CAs, or `ca`). */
  readonly tls?: { readonly ca?: string | Buffer }
  /** What the peer is, for messages: "proxy ECS", "HTTP proxy". */
  readonly role: string
  /** Config field to fix when the address is wrong, for hints. */
  readonly field: string
}

/** Resolves with a connected socket (allowHalfOpen, noDelay, an 'error' listener already attached). */
export function connectTcp(options: TcpConnectOptions): Promise<Socket | TLSSocket> {
  const where = formatHostPort(options.host, options.port)
  return new Promise<Socket | TLSSocket>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(abortError())
      return
    }
    const socketOptions = { host: options.host, port: options.port, allowHalfOpen: true, noDelay: true }
    // Plain TCP reads in large chunks (large-reads.ts); under TLS the TLS layer reads the socket itself.
    const raw = options.tls === undefined ? connectWithLargeReads(socketOptions) : netConnect(socketOptions)
    raw.on('error', () => {}) // the permanent listener; failures while connecting are handled below
    let socket: Socket | TLSSocket = raw

    const cleanup = (): void => {
      clearTimeout(timer)
      raw.off('connect', onconnect)
      socket.off('secureConnect', onready)
      socket.off('error', onerror)
      socket.off('close', onclose)
      options.signal?.removeEventListener('abort', onabort)
    }
    const fail = (error: Error): void => {
      cleanup()
      socket.destroy()
      raw.destroy()
      reject(error)
    }
    const onready = (): void => {
      cleanup()
      socket.setNoDelay(true)
      resolve(socket)
    }
    const onconnect = (): void => {
      if (options.tls === undefined) {
        onready()
        return
      }
      // TLS to the proxy itself, on the connected socket (which keeps its allowHalfOpen).
      socket.off('error', onerror)
      socket.off('close', onclose)
      const secure = tlsConnect({
        socket: raw,
        host: options.host, // the name (or address) the certificate is checked against
        ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
        ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }),
        ALPNProtocols: ['http/1.1'],
      })
      secure.on('error', () => {})
      socket = secure
      secure.once('secureConnect', onready)
      secure.on('error', onerror)
      secure.once('close', onclose)
    }
    const onerror = (error: Error): void => fail(mapConnectError(error, options.host, where, options.role, options.field, socket !== raw))
    const onclose = (): void =>
      fail(new BridgeError('UPSTREAM_UNREACHABLE', `The ${options.role} ${where} closed the connection while it was being set up.`, {
        hint: `Check that the ${options.role} at ${where} is running and accepts connections from this machine.`,
      }))
    const onabort = (): void => fail(abortError())
    const timer = setTimeout(() => {
      fail(new BridgeError('UPSTREAM_UNREACHABLE', `The ${options.role} ${where} did not answer within ${options.timeoutMs} ms.`, {
        hint: `Check ${options.field}, the ECS security group and this machine's network.`,
        details: { timedOut: true },
      }))
    }, options.timeoutMs)

    raw.once('connect', onconnect)
    raw.on('error', onerror)
    raw.once('close', onclose)
    options.signal?.addEventListener('abort', onabort, { once: true })
  })
}

export function abortError(): Error {
  const error = new Error('The dial was aborted.')
  error.name = 'AbortError'
  return error
}

/**
 * The hint for a connect error that says the way out of this machine is missing, not the peer: no route or no network
 * (a laptop offline, a VPN down), no answer on the local network, or a name that does not resolve. Undefined for
 * other errors, whose hint is about the peer.
 */
export function noWayOutHint(code: string | undefined, host: string): string | undefined {
  switch (code) {
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return `This computer has no route to ${host}: check that it is online (Wi-Fi, cable, VPN).`
    case 'EHOSTUNREACH':
      return `Nothing on the way answers for ${host}: check that this computer is online (Wi-Fi, cable, VPN) and that the ECS is running.`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${host} does not resolve: check the name in tunnel.host, and that this computer is online.`
    default:
      return undefined
  }
}

function mapConnectError(error: Error, host: string, where: string, role: string, field: string, isTls: boolean): BridgeError {
  const code = errnoCode(error) ?? ''
  if (code === 'ECONNREFUSED') {
    return new BridgeError('UPSTREAM_REFUSED', `The ${role} ${where} refused the connection.`, {
      hint: `Check that the ${role} runs on ${where}, or fix ${field}.`,
      cause: error,
    })
  }
  if (isTls && !['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) {
    return new BridgeError('UPSTREAM_TLS_FAILED', `TLS to the ${role} ${where} failed: ${error.message}.`, {
      hint: `Give the CA that signed the ${role}'s certificate (tunnel.connect.caFile), or turn off tunnel.connect.tls.`,
      cause: error,
    })
  }
  return new BridgeError('UPSTREAM_UNREACHABLE', `The ${role} ${where} is unreachable (${code || error.message}).`, {
    hint: noWayOutHint(code, host) ?? `Check ${field}, the ECS security group and this machine's network.`,
    cause: error,
  })
}
