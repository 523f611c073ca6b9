// Real peers for the relay's integration tests: a self-signed certificate made by openssl, a TLS (HTTPS)
// origin and a plain HTTP origin on loopback, and clients that report exactly what they saw.

import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { connect as netConnect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { promisify } from 'node:util'
import type { Logger } from '../../../electron/core/logger.js'

const run = promisify(execFile)

export interface TestCert {
  readonly key: Buffer
  readonly cert: Buffer
  cleanup(): Promise<void>
}

/** A self-signed P-256 certificate for `names` (also the trust anchor the clients use). Fails without openssl. */
export async function makeCert(names: readonly string[]): Promise<TestCert> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-cert-'))
  try {
    const keyPath = join(dir, 'key.pem')
    const certPath = join(dir, 'cert.pem')
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${names[0]}`,
      '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    ]).catch((error: unknown) => {
      throw new Error(`openssl could not make the test certificate (is the openssl package installed?): ${String(error)}`)
    })
    const [key, cert] = await Promise.all([readFile(keyPath), readFile(certPath)])
    return { key, cert, cleanup: () => rm(dir, { recursive: true, force: true }) }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** A random /24 inside 127.0.0.0/8 (not 127.0.0.x), so parallel suites binding ports 443/80 cannot collide. */
export function randomLoopbackPrefix(): string {
  const a = 100 + Math.floor(Math.random() * 150)
  const b = 1 + Math.floor(Math.random() * 250)
  return `127.${a}.${b}`
}

export function listenOn(server: HttpServer | HttpsServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onerror = (error: NodeJS.ErrnoException): void => {
      const why = error.code === 'EACCES' ? ' (binding ports below 1024 needs root: run the integration tier as root, as CI does)' : ''
      reject(new Error(`cannot listen on ${host}:${port}${why}: ${error.message}`))
    }
    server.once('error', onerror)
    server.listen({ host, port }, () => {
      server.off('error', onerror)
      resolve()
    })
  })
}

export function closeServer(server: HttpServer | HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

/** An HTTPS origin that answers every request with what it saw: the SNI it was reached by and the Host header. */
export function httpsOrigin(cert: TestCert): HttpsServer {
  const server = createHttpsServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const body = JSON.stringify({ origin: 'tls', servername: (req.socket as TLSSocket).servername, host: req.headers.host, url: req.url })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  server.on('error', () => {})
  return server
}

/** An HTTP origin that answers with the request line and headers it received (to check the head was replayed). */
export function httpOrigin(): HttpServer {
  const server = createHttpServer((req, res) => {
    const body = JSON.stringify({ origin: 'http', method: req.method, url: req.url, host: req.headers.host, rawHeaders: req.rawHeaders })
    // Paths under /keep/ keep the connection open (keep-alive); every other answer closes it.
    const keep = req.url?.startsWith('/keep/') === true
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(keep ? {} : { connection: 'close' }) })
    res.end(body)
  })
  server.on('error', () => {})
  return server
}

export interface Collected extends Logger {
  readonly lines: string[]
}

export function collectingLogger(): Collected {
  const lines: string[] = []
  return {
    lines,
    error: (m) => void lines.push(m),
    warn: (m) => void lines.push(m),
    info: (m) => void lines.push(m),
    debug: (m) => void lines.push(m),
  }
}

export interface TlsOutcome {
  readonly localPort: number
  readonly status?: number
  readonly body?: string
  /** sha256 fingerprint of the certificate the client was shown. */
  readonly fingerprint?: string
  readonly error?: Error & { code?: string }
}

const boundMs = 10_000

/**
 * TLS to 127.0.0.1:port with `servername` as SNI ('' sends none), trusting only `ca`; one GET, read to the end.
 * `socket` (optional) is an already-connected stream to run TLS over (a CONNECT tunnel).
 */
export function tlsGet(port: number, servername: string, ca: Buffer, socket?: Socket): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    let localPort = socket?.localPort ?? 0
    let fingerprint: string | undefined
    const chunks: Buffer[] = []
    let settled = false
    const tls = tlsConnect({
      ...(socket === undefined ? { host: '127.0.0.1', port } : { socket }),
      servername,
      ca,
      ALPNProtocols: ['http/1.1'],
    })
    const settle = (outcome: Omit<TlsOutcome, 'localPort'>): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      tls.destroy()
      socket?.destroy()
      resolve({ localPort, ...outcome })
    }
    const timer = setTimeout(() => settle({ error: new Error('no answer within the bound') }), boundMs)
    tls.on('connect', () => {
      localPort = tls.localPort ?? localPort
    })
    tls.on('secureConnect', () => {
      fingerprint = tls.getPeerCertificate().fingerprint256
      tls.write(`GET /v2/ HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`)
    })
    tls.on('data', (chunk: Buffer) => chunks.push(chunk))
    tls.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])
      const body = text.slice(text.indexOf('\r\n\r\n') + 4)
      settle({ status, body, ...(fingerprint === undefined ? {} : { fingerprint }) })
    })
    tls.on('error', (error) => settle({ error }))
    tls.on('close', () => settle({ error: new Error('closed before the end of the response') }))
  })
}

export interface RawOutcome {
  readonly localPort: number
  readonly data: Buffer
  /** The relay closed the connection within the bound. */
  readonly closed: boolean
}

/** Sends `payload` on a plain TCP connection and collects everything until the relay closes it (bounded). */
export function rawExchange(port: number, payload: Buffer | string, options: { readonly boundMs?: number } = {}): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    let localPort = 0
    let settled = false
    const settle = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ localPort, data: Buffer.concat(chunks), closed })
    }
    const timer = setTimeout(() => settle(false), options.boundMs ?? boundMs)
    socket.on('error', () => settle(true))
    socket.on('connect', () => {
      localPort = socket.localPort ?? 0
      if (payload.length > 0) socket.write(payload)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('close', () => settle(true))
  })
}

/** Opens a CONNECT tunnel: resolves with the status line's code, the socket (open only on 200) and the reply. */
export function connectVia(
  port: number,
  target: string,
  authorization: string | undefined,
): Promise<{ status: number; socket: Socket; head: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no CONNECT reply within the bound'))
    }, boundMs)
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('connect', () => {
      const auth = authorization === undefined ? '' : `Proxy-Authorization: ${authorization}\r\n`
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`)
    })
    const ondata = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', ondata)
      socket.pause()
      clearTimeout(timer)
      const head = buffered.subarray(0, end).toString('latin1')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1])
      resolve({ status, socket, head: buffered.toString('latin1'), localPort: socket.localPort ?? 0 })
    }
    socket.on('data', ondata)
  })
}

/**
 * A minimal, well-formed TLS 1.3-style ClientHello (one record) naming `sni`, or none without it. `padTo` grows it
 * with a padding extension to about that many bytes.
 */
export function buildClientHello(sni?: string, padTo = 0): Buffer {
  const extensions: Buffer[] = []
  if (sni !== undefined) {
    const name = Buffer.from(sni, 'latin1')
    const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name])
    const list = Buffer.concat([u16(entry.length), entry])
    extensions.push(Buffer.concat([u16(0), u16(list.length), list]))
  }
  if (padTo > 0) {
    const padding = Buffer.alloc(padTo)
    extensions.push(Buffer.concat([u16(21), u16(padding.length), padding]))
  }
  const extensionBlock = Buffer.concat(extensions)
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    Buffer.from([0]),
    u16(2),
    Buffer.from([0x13, 0x01]),
    Buffer.from([1, 0]),
    u16(extensionBlock.length),
    extensionBlock,
  ])
  const handshake = Buffer.concat([Buffer.from([1, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]), body])
  const records: Buffer[] = []
  for (let at = 0; at < handshake.length; at += 16384) {
    const fragment = handshake.subarray(at, at + 16384)
    records.push(Buffer.concat([Buffer.from([22, 3, 1]), u16(fragment.length), fragment]))
  }
  return Buffer.concat(records)
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

/** Polls `condition` every 20 ms; fails with `what` after the bound. */
export async function waitFor(condition: () => boolean, what: string, bound = boundMs): Promise<void> {
  const until = Date.now() + bound
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
