// Client side helpers for the tunnel tests: real TLS / HTTP / raw TCP clients on loopback.

import { request as httpRequest } from 'node:http'
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import type { HostEntry } from '../../../electron/core/catalog/types.js'
import type { Logger } from '../../../electron/core/logger.js'

export function entry(name: string, ports: readonly number[] = [443]): HostEntry {
  return { address: '127.0.0.1', name, ports, origins: [{ kind: 'extra' }] }
}

export interface CollectingLogger extends Logger {
  readonly lines: string[]
}

export function collectingLogger(): CollectingLogger {
  const lines: string[] = []
  const push = (level: string) => (message: string, error?: unknown): void => {
    lines.push(`${level} ${message}${error instanceof Error ? ` ${error.message}` : ''}`)
  }
  return { lines, error: push('error'), warn: push('warn'), info: push('info'), debug: push('debug') }
}

export interface TlsExchange {
  readonly data: Buffer
  readonly fingerprint256: string | undefined
  /** The socket emitted 'error' (after a successful handshake, or instead of it). */
  readonly error: Error | undefined
}

/**
 * TLS to host:port with SNI `servername`, verifying the chain against `ca`; writes `payload`; reads until the
 * server ends (or `until` bytes arrived, then ends itself).
 */
export function tlsExchange(options: {
  port: number
  host?: string
  servername: string
  ca: string
  payload: string | Buffer
  until?: number
  socket?: Socket
  onData?: (received: number, socket: TLSSocket) => void
}): Promise<TlsExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let received = 0
    let fingerprint256: string | undefined
    let error: Error | undefined
    const socket = tlsConnect({
      ...(options.socket === undefined ? { host: options.host ?? '127.0.0.1', port: options.port } : { socket: options.socket }),
      servername: options.servername,
      ca: options.ca,
    })
    socket.on('secureConnect', () => {
      fingerprint256 = socket.getPeerCertificate().fingerprint256
      socket.write(options.payload)
    })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      received += chunk.length
      options.onData?.(received, socket)
      if (options.until !== undefined && received >= options.until) socket.end()
    })
    socket.on('error', (e) => (error = e))
    socket.on('close', () => resolve({ data: Buffer.concat(chunks), fingerprint256, error }))
  })
}

export interface RawExchange {
  readonly data: Buffer
  readonly error: Error | undefined
}

/** Raw TCP: connect, write `payload`, optionally end, collect until close. */
export function rawExchange(options: {
  port: number
  host?: string
  payload: Buffer | string
  end?: boolean
  /** Destroy once this many bytes arrived. */
  destroyAfter?: number
}): Promise<RawExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let received = 0
    let error: Error | undefined
    const socket = netConnect({ host: options.host ?? '127.0.0.1', port: options.port, allowHalfOpen: true })
    socket.on('connect', () => {
      if (options.end === true) socket.end(options.payload)
      else socket.write(options.payload)
    })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      received += chunk.length
      if (options.destroyAfter !== undefined && received >= options.destroyAfter) socket.destroy()
    })
    socket.on('end', () => socket.end())
    socket.on('error', (e) => (error = e))
    socket.on('close', () => resolve({ data: Buffer.concat(chunks), error }))
  })
}

export interface HttpAnswer {
  readonly status: number
  readonly body: string
}

/** One plain HTTP request (Connection: close) to 127.0.0.1:port. */
export function httpGet(options: { port: number; path: string; host?: string; method?: string }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: options.method ?? 'GET',
        headers: { ...(options.host === undefined ? {} : { host: options.host }), connection: 'close' },
        agent: false,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** Sends `CONNECT authority` to a local proxy port; resolves with the status line and the open socket. */
export function proxyConnect(port: number, authority: string): Promise<{ statusLine: string; head: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    let buf = Buffer.alloc(0)
    const ondata = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', ondata)
      socket.pause()
      const rest = buf.subarray(end + 4)
      if (rest.length > 0) socket.unshift(rest)
      const head = buf.toString('latin1', 0, end)
      resolve({ statusLine: head.split('\r\n')[0]!, head, socket })
    }
    socket.on('data', ondata)
    socket.on('error', reject)
    socket.on('connect', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`))
    socket.on('close', () => reject(new Error(`proxy closed before answering; got ${JSON.stringify(buf.toString())}`)))
  })
}

export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
}

/**
 * One raw TCP connection to 127.0.0.1:port for several HTTP/1.1 requests in a row (keep-alive). request() writes
 * the bytes given and resolves with the next complete response (Content-Length framed, as the test origins send),
 * or with 'closed' when the connection ends first.
 */
export async function keepAliveConnection(port: number): Promise<{ request(text: string): Promise<HttpAnswer | 'closed'>; close(): void }> {
  const socket = netConnect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.on('error', () => {})
  let buffered = Buffer.alloc(0)
  let closed = false
  let waiter: (() => void) | undefined
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    waiter?.()
  })
  socket.on('close', () => {
    closed = true
    waiter?.()
  })
  const nextResponse = (): HttpAnswer | undefined => {
    const headEnd = buffered.indexOf('\r\n\r\n')
    if (headEnd === -1) return undefined
    const head = buffered.toString('latin1', 0, headEnd)
    const length = Number(/\r\ncontent-length: *([0-9]+)/i.exec(head)?.[1] ?? '0')
    if (buffered.length < headEnd + 4 + length) return undefined
    const body = buffered.toString('utf8', headEnd + 4, headEnd + 4 + length)
    buffered = buffered.subarray(headEnd + 4 + length)
    return { status: Number(head.split(' ')[1]), body }
  }
  return {
    request: (text) =>
      new Promise((resolve) => {
        const check = (): void => {
          const answer = nextResponse()
          if (answer !== undefined || closed) {
            waiter = undefined
            resolve(answer ?? 'closed')
          }
        }
        waiter = check
        socket.write(text)
        check()
      }),
    close: () => socket.destroy(),
  }
}
