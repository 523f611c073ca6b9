// One request through the tunnel's own dialer, the way a client of the tunnel would make it: dial name:port through
// the proxy ECS, speak TLS with servername = name and a certificate checked for that name, then one HTTP/1.1
// request (Connection: close, redirects never followed). Probes and discovery use this, so both work for names the
// hosts file does not map yet. Every failure is a ThroughError saying at which stage it happened.

import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import type { Duplex } from 'node:stream'
import { checkServerIdentity, connect as tlsConnect, rootCertificates, type PeerCertificate, type TLSSocket } from 'node:tls'
import { BridgeError, errnoCode } from '../errors.js'
import type { Dialer } from '../tunnel/types.js'

/**
 * Where a request through the tunnel failed:
 * - dial: the dialer could not open the stream (ECS unreachable, proxy refused, SSH channel refused);
 * - closed: the stream closed or reset before TLS or the HTTP answer completed: in sni mode the ECS accepted the
 *   connection but could not reach the name (or its relay refused it);
 * - certificate: TLS completed but the certificate is not valid for the name (or not trusted);
 * - refused: a proxy on the way refused the name (TLS alert unrecognized_name, as our relay and tunnel send);
 * - timeout: no answer within the time limit; aborted: the caller gave up;
 * - protocol: an answer that is not HTTP (or not TLS).
 * A TLS alert internal_error before the handshake completes counts as closed: SNI relays (ours) send it when they
 * cannot reach the name.
 */
export type ThroughFailure = 'dial' | 'closed' | 'refused' | 'certificate' | 'timeout' | 'aborted' | 'protocol'

export class ThroughError extends Error {
  readonly kind: ThroughFailure
  readonly stage: 'dial' | 'tls' | 'http'
  /** The dialer's own error (kind 'dial', or 'timeout' when the dialer's time limit ran out first), with its hint. */
  readonly bridgeError: BridgeError | undefined
  /** kind 'certificate': what the peer presented. */
  readonly certificate: CertificateSummary | undefined

  constructor(kind: ThroughFailure, stage: 'dial' | 'tls' | 'http', message: string, extra: { cause?: unknown; bridgeError?: BridgeError; certificate?: CertificateSummary } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'ThroughError'
    this.kind = kind
    this.stage = stage
    this.bridgeError = extra.bridgeError
    this.certificate = extra.certificate
  }
}

export interface CertificateSummary {
  /** subjectAltName as Node reports it (`DNS:a.example, DNS:b.example`), or the subject CN. */
  readonly names: string
  readonly issuer: string
  readonly validTo: string
  /** OpenSSL / Node code: ERR_TLS_CERT_ALTNAME_INVALID, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ... */
  readonly error: string
}

export interface OpenOptions {
  readonly dialer: Dialer
  readonly name: string
  readonly port: number
  /** Speak TLS to the name (servername = name, certificate checked for it). */
  readonly tls: boolean
  /** Extra CA certificates (PEM) trusted on top of the system store (the world tests' CA). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[]
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

export interface OpenedStream {
  readonly socket: Duplex
  /** Time to open the stream through the dialer. */
  readonly dialMs: number
  /** Time of the TLS handshake (tls only). */
  readonly handshakeMs?: number
}

/** The CA list for tls.connect: undefined keeps Node's default store (which includes NODE_EXTRA_CA_CERTS). */
export function trustedCas(ca: OpenOptions['ca']): (string | Buffer)[] | undefined {
  if (ca === undefined) return undefined
  const extra = Array.isArray(ca) ? ca : [ca as string | Buffer]
  return extra.length === 0 ? undefined : [...rootCertificates, ...extra]
}

/** A signal that fires after timeoutMs or when `parent` fires; dispose() clears the timer. */
export function deadline(timeoutMs: number, parent?: AbortSignal): { readonly signal: AbortSignal; readonly timedOut: () => boolean; dispose(): void } {
  const controller = new AbortController()
  let expired = false
  const timer = setTimeout(() => {
    expired = true
    controller.abort()
  }, timeoutMs)
  timer.unref?.()
  const onabort = (): void => controller.abort()
  if (parent?.aborted === true) controller.abort()
  else parent?.addEventListener('abort', onabort, { once: true })
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose: () => {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onabort)
    },
  }
}

/** Dials name:port through the dialer and, for tls, completes a verified TLS handshake. */
export async function openThrough(options: OpenOptions): Promise<OpenedStream> {
  const started = performance.now()
  const limit = deadline(options.timeoutMs, options.signal)
  try {
    let raw: Duplex
    try {
      raw = await options.dialer.dial({ name: options.name, port: options.port }, { timeoutMs: options.timeoutMs, signal: limit.signal })
    } catch (error) {
      if (limit.timedOut()) throw new ThroughError('timeout', 'dial', `no stream to ${options.name}:${options.port} within ${options.timeoutMs} ms`, { cause: error })
      if (options.signal?.aborted === true) throw new ThroughError('aborted', 'dial', 'aborted', { cause: error })
      if (error instanceof BridgeError) {
        // The dialer's own time limit is ours (the same deadline): a timeout, told by its mark, not by its wording.
        if (error.details?.['timedOut'] === true) {
          throw new ThroughError('timeout', 'dial', error.message, { cause: error, bridgeError: error })
        }
        throw new ThroughError('dial', 'dial', error.message, { cause: error, bridgeError: error })
      }
      throw new ThroughError('dial', 'dial', error instanceof Error ? error.message : String(error), { cause: error })
    }
    raw.on('error', () => {})
    const dialMs = performance.now() - started
    if (!options.tls) {
      if (limit.signal.aborted) {
        raw.destroy()
        throw abortedOrTimeout(limit.timedOut(), 'dial', options)
      }
      return { socket: raw, dialMs }
    }
    const handshakeStarted = performance.now()
    const secure = await handshake(raw, options, limit)
    return { socket: secure, dialMs, handshakeMs: performance.now() - handshakeStarted }
  } finally {
    limit.dispose()
  }
}

function abortedOrTimeout(timedOut: boolean, stage: 'dial' | 'tls' | 'http', options: { name: string; port: number; timeoutMs: number }): ThroughError {
  return timedOut
    ? new ThroughError('timeout', stage, `no answer from ${options.name}:${options.port} within ${options.timeoutMs} ms`)
    : new ThroughError('aborted', stage, 'aborted')
}

function handshake(raw: Duplex, options: OpenOptions, limit: ReturnType<typeof deadline>): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const ca = trustedCas(options.ca)
    const secure = tlsConnect({
      socket: raw,
      ...(isIP(options.name) === 0 ? { servername: options.name } : {}),
      host: options.name,
      ...(ca === undefined ? {} : { ca }),
      ALPNProtocols: ['http/1.1'],
      // Checked below, before one byte of the request is sent, so the failure can say what was presented.
      rejectUnauthorized: false,
    })
    let done = false
    const finish = (error: ThroughError | undefined): void => {
      if (done) return
      done = true
      secure.off('secureConnect', onsecure)
      secure.off('error', onerror)
      secure.off('close', onclose)
      limit.signal.removeEventListener('abort', onabort)
      if (error === undefined) {
        resolve(secure)
        return
      }
      secure.destroy()
      raw.destroy()
      reject(error)
    }
    const onsecure = (): void => {
      const cert = secure.getPeerCertificate()
      const problem = certificateProblem(secure, options.name, cert)
      if (problem === undefined) {
        finish(undefined)
        return
      }
      finish(new ThroughError('certificate', 'tls', describeCertificateProblem(options.name, problem), { certificate: problem }))
    }
    const onerror = (error: Error): void => {
      const code = errnoCode(error) ?? ''
      if (code === 'ECONNRESET' || code === 'EPIPE' || /socket disconnected|socket hang up/i.test(error.message)) {
        finish(new ThroughError('closed', 'tls', `the connection to ${options.name} closed during the TLS handshake`, { cause: error }))
        return
      }
      if (code === 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR') {
        finish(new ThroughError('closed', 'tls', `the TLS handshake for ${options.name} got the alert internal_error: a relay on the way could not reach it`, { cause: error }))
        return
      }
      if (code === 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME') {
        finish(new ThroughError('refused', 'tls', `the TLS handshake for ${options.name} got the alert unrecognized_name: a proxy on the way refuses the name`, { cause: error }))
        return
      }
      finish(new ThroughError('protocol', 'tls', `TLS to ${options.name} failed: ${error.message}`, { cause: error }))
    }
    const onclose = (): void => finish(new ThroughError('closed', 'tls', `the connection to ${options.name} closed during the TLS handshake`))
    const onabort = (): void => finish(abortedOrTimeout(limit.timedOut(), 'tls', options))
    secure.on('error', () => {})
    secure.once('secureConnect', onsecure)
    secure.on('error', onerror)
    secure.once('close', onclose)
    if (limit.signal.aborted) onabort()
    else limit.signal.addEventListener('abort', onabort, { once: true })
  })
}

function certificateProblem(socket: TLSSocket, name: string, cert: PeerCertificate): CertificateSummary | undefined {
  const hasCert = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0
  const summary = (error: string): CertificateSummary => ({
    names: hasCert ? cert.subjectaltname ?? (typeof cert.subject?.CN === 'string' ? `CN=${cert.subject.CN}` : '(none)') : '(no certificate)',
    issuer: hasCert && typeof cert.issuer?.CN === 'string' ? cert.issuer.CN : hasCert && typeof cert.issuer?.O === 'string' ? cert.issuer.O : '(unknown)',
    validTo: hasCert ? cert.valid_to : '',
    error,
  })
  if (!hasCert) return summary('NO_CERTIFICATE')
  // Node runs the name check even without rejectUnauthorized and records its verdict here.
  if (!socket.authorized) return summary(String(socket.authorizationError ?? 'UNAUTHORIZED'))
  const identity = checkServerIdentity(name, cert)
  if (identity !== undefined) return summary(errnoCode(identity) ?? 'ERR_TLS_CERT_ALTNAME_INVALID')
  return undefined
}

function describeCertificateProblem(name: string, problem: CertificateSummary): string {
  switch (problem.error) {
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the certificate presented for ${name} is for ${problem.names}`
    case 'CERT_HAS_EXPIRED':
      return `the certificate presented for ${name} expired on ${problem.validTo}`
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `the certificate presented for ${name} is not signed by a trusted CA (issuer ${problem.issuer}, ${problem.error})`
    case 'NO_CERTIFICATE':
      return `${name} presented no certificate`
    default:
      return `the certificate presented for ${name} is not valid (${problem.error})`
  }
}

export interface HttpAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  /** Every value of every header, as sent (WWW-Authenticate may come more than once). */
  readonly headersDistinct: Readonly<Record<string, string[] | undefined>>
  /** Up to maxBodyBytes of the body; empty when readBody is false. */
  readonly body: Buffer
  readonly truncated: boolean
}

export interface RequestOptions {
  readonly method?: string
  /** Host header value and the name used in messages. */
  readonly name: string
  readonly port: number
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  /** Read the body (default true); false closes the connection as soon as the head has arrived. */
  readonly readBody?: boolean
  /** Body bytes kept (default 64 KiB); more is read and dropped only up to this bound, then the connection closes. */
  readonly maxBodyBytes?: number
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

/** Sends one request on an open stream (which it consumes: the stream is destroyed when the answer is read). */
export function requestOver(socket: Duplex, options: RequestOptions): Promise<HttpAnswer> {
  const limit = deadline(options.timeoutMs, options.signal)
  const maxBody = options.maxBodyBytes ?? 64 * 1024
  const defaultPort = socket instanceof Object && 'encrypted' in socket ? 443 : 80
  const hostHeader = options.port === defaultPort ? options.name : `${options.name}:${options.port}`
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false
    const settle = (error: ThroughError | undefined, answer?: HttpAnswer): void => {
      if (settled) return
      settled = true
      limit.dispose()
      limit.signal.removeEventListener('abort', onabort)
      socket.destroy()
      if (error !== undefined) reject(error)
      else resolve(answer as HttpAnswer)
    }
    const req = httpRequest({
      createConnection: () => socket as never,
      method: options.method ?? 'GET',
      path: options.path,
      setHost: false,
      headers: { Host: hostHeader, 'User-Agent': 'acr-bridge', Connection: 'close', ...(options.headers ?? {}) },
    })
    const onabort = (): void => {
      req.destroy()
      settle(abortedOrTimeout(limit.timedOut(), 'http', options))
    }
    if (limit.signal.aborted) {
      onabort()
      return
    }
    limit.signal.addEventListener('abort', onabort, { once: true })
    req.on('error', (error: Error) => {
      const code = errnoCode(error) ?? ''
      if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(error.message)) {
        settle(new ThroughError('closed', 'http', `the connection to ${options.name} closed before an HTTP answer`, { cause: error }))
      } else if (code.startsWith('HPE_')) {
        settle(new ThroughError('protocol', 'http', `${options.name}:${options.port} answered something that is not HTTP`, { cause: error }))
      } else {
        settle(new ThroughError('closed', 'http', `the request to ${options.name} failed (${code || error.message})`, { cause: error }))
      }
    })
    req.on('response', (res: IncomingMessage) => {
      res.on('error', () => {})
      const head = { status: res.statusCode ?? 0, headers: res.headers, headersDistinct: res.headersDistinct }
      if (options.readBody === false) {
        res.destroy()
        settle(undefined, { ...head, body: Buffer.alloc(0), truncated: false })
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      let truncated = false
      res.on('data', (chunk: Buffer) => {
        if (size + chunk.length > maxBody) {
          chunks.push(chunk.subarray(0, maxBody - size))
          size = maxBody
          truncated = true
          res.destroy()
          settle(undefined, { ...head, body: Buffer.concat(chunks), truncated })
          return
        }
        chunks.push(chunk)
        size += chunk.length
      })
      res.on('end', () => settle(undefined, { ...head, body: Buffer.concat(chunks), truncated }))
      res.on('close', () => settle(undefined, { ...head, body: Buffer.concat(chunks), truncated }))
    })
    req.end()
  })
}

export interface FetchOptions {
  readonly dialer: Dialer
  readonly url: URL
  readonly method?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly ca?: OpenOptions['ca']
  readonly timeoutMs: number
  readonly signal?: AbortSignal
  readonly readBody?: boolean
  readonly maxBodyBytes?: number
}

export interface FetchAnswer extends HttpAnswer {
  /** Dial + TLS + request, in milliseconds. */
  readonly elapsedMs: number
}

/** The port a URL means: its own, else 443 for https and 80 for http. */
export function urlPort(url: URL): number {
  if (url.port !== '') return Number(url.port)
  return url.protocol === 'https:' ? 443 : 80
}

/** The host of a URL without IPv6 brackets, lower-cased. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
}

/** openThrough + requestOver for one http(s) URL, all within one time limit. */
export async function fetchThrough(options: FetchOptions): Promise<FetchAnswer> {
  const started = performance.now()
  const url = options.url
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`fetchThrough: unsupported URL scheme ${url.protocol}`)
  const name = urlHost(url)
  const port = urlPort(url)
  const limit = deadline(options.timeoutMs, options.signal)
  try {
    const opened = await openThrough({
      dialer: options.dialer,
      name,
      port,
      tls: url.protocol === 'https:',
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      timeoutMs: options.timeoutMs,
      signal: limit.signal,
    })
    const remaining = Math.max(1, options.timeoutMs - (performance.now() - started))
    const answer = await requestOver(opened.socket, {
      name,
      port,
      path: `${url.pathname}${url.search}`,
      ...(options.method === undefined ? {} : { method: options.method }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.readBody === undefined ? {} : { readBody: options.readBody }),
      ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
      timeoutMs: remaining,
      signal: limit.signal,
    }).catch((error: unknown) => {
      if (error instanceof ThroughError && error.kind === 'aborted' && limit.timedOut()) {
        throw new ThroughError('timeout', 'http', `no answer from ${name}:${port} within ${options.timeoutMs} ms`)
      }
      throw error
    })
    return { ...answer, elapsedMs: performance.now() - started }
  } finally {
    limit.dispose()
  }
}
