// Every request a client sends on a plain-HTTP connection the tunnel or the relay forwards (the port-80 listener,
// CONNECT name:80, the relay's HTTP listener), not just the first: HTTP/1.1 keeps connections alive. The upstream
// connection was opened for the first request's name, so a later request for another host or port would reach
// the wrong origin, or, behind an ECS proxy that routes each request by Host, a name outside the active set.
//
// The checker follows HTTP/1.1 request framing (RFC 9112 §6) over the bytes the client sends, without buffering
// or changing them: each request head is read (at most 16 KiB, parseHttpHead), its host and port must be the
// connection's, then its body is skipped by Content-Length or by walking the chunked coding. A Transfer-Encoding
// that does not end in chunked, or Content-Length together with Transfer-Encoding or twice with different values,
// is refused: the end of that body cannot be known. Everything stays checked, also after a request that asks for
// a protocol upgrade (curl --http2 sends `Upgrade: h2c` on http:// URLs): an origin that does not switch answers it
// as a plain request, and should one switch, the first bytes that are not an HTTP/1.1 request end the connection.
// It never throws; a refusal is final (the caller closes the connection).

import { parseHttpHead } from './http-head.js'

export type RequestRefusal = 'other-host' | 'no-host' | 'invalid'

export type RequestCheck = { readonly ok: true } | RequestRefused
export interface RequestRefused {
  readonly ok: false
  readonly reason: RequestRefusal
  readonly detail: string
}

export interface RequestChecker {
  /** Follows the next bytes the client sent; a refusal is returned again for every later call. */
  feed(chunk: Buffer): RequestCheck
}

/** Longest chunk-size line or trailer line accepted (RFC 9112 sets none; real ones are a few bytes). */
const maxLineBytes = 4096
/** Largest chunk size accepted: 2^53 − 1 fits a JavaScript number exactly (13 hex digits are below it). */
const maxChunkSizeDigits = 13

const ok: RequestCheck = { ok: true }

type State =
  | { readonly kind: 'head' }
  /** Body bytes (a Content-Length body, or one chunk's data), then `next`. */
  | { readonly kind: 'skip'; remaining: number; readonly next: 'head' | 'chunk-end' }
  | { readonly kind: 'chunk-size' }
  | { readonly kind: 'chunk-end' }
  | { readonly kind: 'trailers' }

/**
 * A checker for one connection whose requests must all be for `name` on `port` (the port a request names, 80
 * when it names none). Feed it everything the client sends, the first request included.
 */
export function createRequestChecker(expected: { readonly name: string; readonly port: number }): RequestChecker {
  const defaultPort = 80
  let state: State = { kind: 'head' }
  /** Bytes of an incomplete head or line carried over to the next chunk. */
  let pending: Buffer = Buffer.alloc(0)
  let refused: RequestRefused | undefined

  const refuse = (reason: RequestRefusal, detail: string): RequestRefused => {
    refused = { ok: false, reason, detail }
    return refused
  }

  /** Reads one head from `buf` at `at`; returns where it ended, 'need-more', or a refusal. */
  const readHead = (buf: Buffer, at: number): number | 'need-more' | RequestCheck => {
    const result = parseHttpHead(buf.subarray(at))
    if (result.kind === 'need-more') return 'need-more'
    if (result.kind === 'no-host') return refuse('no-host', 'a later request names no host')
    if (result.kind === 'invalid') return refuse('invalid', result.reason)
    const port = result.port ?? defaultPort
    if (result.name !== expected.name || port !== expected.port) {
      return refuse('other-host', `${result.name}:${port} on a connection for ${expected.name}:${expected.port}`)
    }
    let contentLength: number | undefined
    let chunked = false
    let transferEncoding = false
    for (const [field, value] of result.headers) {
      if (field === 'transfer-encoding') {
        transferEncoding = true
        const codings = value.split(',').map((coding) => coding.trim().toLowerCase())
        chunked = codings[codings.length - 1] === 'chunked'
        if (!chunked) return refuse('invalid', 'a Transfer-Encoding that does not end in chunked')
      } else if (field === 'content-length') {
        if (!/^[0-9]{1,15}$/.test(value)) return refuse('invalid', 'malformed Content-Length')
        const length = Number(value)
        if (contentLength !== undefined && contentLength !== length) return refuse('invalid', 'two different Content-Length values')
        contentLength = length
      }
    }
    if (transferEncoding && contentLength !== undefined) return refuse('invalid', 'both Content-Length and Transfer-Encoding')
    if (chunked) state = { kind: 'chunk-size' }
    else if (contentLength !== undefined && contentLength > 0) state = { kind: 'skip', remaining: contentLength, next: 'head' }
    else state = { kind: 'head' }
    return at + result.headLength
  }

  /** The end of the line starting at `at` (after its LF), 'need-more', or a refusal when it is too long. */
  const lineEnd = (buf: Buffer, at: number): number | 'need-more' | RequestCheck => {
    const newline = buf.indexOf(0x0a, at)
    if (newline === -1 || newline - at > maxLineBytes) {
      return buf.length - at > maxLineBytes ? refuse('invalid', 'a chunk-size or trailer line longer than 4 KiB') : 'need-more'
    }
    return newline + 1
  }

  /** The text of the line [at, end) without its CRLF / LF. */
  const lineText = (buf: Buffer, at: number, end: number): string => {
    let stop = end - 1
    if (stop > at && buf[stop - 1] === 0x0d) stop -= 1
    return buf.toString('latin1', at, stop)
  }

  const walk = (buf: Buffer): RequestCheck => {
    let at = 0
    while (at < buf.length) {
      switch (state.kind) {
        case 'skip': {
          const take = Math.min(state.remaining, buf.length - at)
          state.remaining -= take
          at += take
          if (state.remaining === 0) state = { kind: state.next }
          break
        }
        case 'head': {
          // RFC 9112 §2.2: empty lines before a request line are ignored (some clients send CRLF after a body).
          while (at < buf.length && (buf[at] === 0x0d || buf[at] === 0x0a)) at++
          if (at === buf.length) break
          const next = readHead(buf, at)
          if (next === 'need-more') {
            pending = Buffer.from(buf.subarray(at))
            return ok
          }
          if (typeof next !== 'number') return next
          at = next
          break
        }
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const end = lineEnd(buf, at)
          if (end === 'need-more') {
            pending = Buffer.from(buf.subarray(at))
            return ok
          }
          if (typeof end !== 'number') return end
          const line = lineText(buf, at, end)
          at = end
          if (state.kind === 'chunk-end') {
            if (line.length !== 0) return refuse('invalid', 'chunk data longer than its size')
            state = { kind: 'chunk-size' }
          } else if (state.kind === 'trailers') {
            if (line.length === 0) state = { kind: 'head' }
          } else {
            const digits = line.split(';', 1)[0]!.trim()
            if (!/^[0-9a-fA-F]+$/.test(digits) || digits.replace(/^0+(?=.)/, '').length > maxChunkSizeDigits) {
              return refuse('invalid', 'malformed chunk size')
            }
            const size = parseInt(digits, 16)
            state = size === 0 ? { kind: 'trailers' } : { kind: 'skip', remaining: size, next: 'chunk-end' }
          }
          break
        }
      }
    }
    pending = Buffer.alloc(0)
    return ok
  }

  return {
    feed(chunk) {
      if (refused !== undefined) return refused
      try {
        if (pending.length === 0) return walk(chunk)
        // What waits here is bounded: parseHttpHead refuses a head past 16 KiB, lineEnd a line past 4 KiB.
        const joined = Buffer.concat([pending, chunk])
        pending = Buffer.alloc(0)
        return walk(joined)
      } catch {
        // Unreachable by construction; kept so that the contract "never throws" holds.
        return refuse('invalid', 'unreadable request')
      }
    },
  }
}

/** splice's inspectClientChunk for a checker: each chunk goes through it; a refusal is handed to onRefused. */
export function inspectRequests(checker: RequestChecker, onRefused: (refusal: RequestRefused) => void): (chunk: Buffer) => boolean {
  return (chunk) => {
    const check = checker.feed(chunk)
    if (!check.ok) onRefused(check)
    return check.ok
  }
}
