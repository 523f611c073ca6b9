// A pure, bounded reader of an HTTP/1.x request head: just far enough to route the connection by host name.
// It never throws; the caller feeds it everything received so far.

import { normalizeDnsName } from './dns-name.js'

/** How the request named its target (RFC 9112 §3.2). */
export type RequestTargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk'

export type HttpHeadResult =
  | { readonly kind: 'need-more' }
  | {
      readonly kind: 'host'
      /** Lowercased DNS name from the absolute-form or authority-form target, else from the Host header. */
      readonly name: string
      /** The port written next to the name, when there was one. */
      readonly port?: number
      readonly method: string
      readonly form: RequestTargetForm
      /** Bytes the head takes, up to and including the empty line. */
      readonly headLength: number
      /** Header fields in order, names lowercased, values trimmed. */
      readonly headers: readonly (readonly [string, string])[]
    }
  | { readonly kind: 'no-host' }
  | { readonly kind: 'invalid'; readonly reason: string }

/** Bytes a request head may take before it is refused. */
export const maxHttpHeadBytes = 16 * 1024

const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const tokenChar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/
const versionPattern = /^HTTP\/1\.[01]$/
const portPattern = /^[0-9]{1,5}$/

const needMore: HttpHeadResult = { kind: 'need-more' }

function invalid(reason: string): HttpHeadResult {
  return { kind: 'invalid', reason }
}

/**
 * Reads the request head at the start of `buf` (CRLF or bare LF line ends). Returns 'need-more' while the head
 * is incomplete, 'invalid' when it cannot be an HTTP/1.x request head or exceeds maxHttpHeadBytes, 'no-host'
 * when it names no host, otherwise the host name and the port, if any.
 */
export function parseHttpHead(buf: Buffer): HttpHeadResult {
  try {
    return parse(buf)
  } catch {
    // Unreachable by construction; kept so that the contract "never throws" holds.
    return invalid('unreadable request head')
  }
}

function parse(buf: Buffer): HttpHeadResult {
  const scanLength = Math.min(buf.length, maxHttpHeadBytes)
  // Judge the method early so that a TLS ClientHello or binary noise is refused without waiting for 16 KiB.
  for (let i = 0; i < scanLength; i++) {
    const c = buf[i]!
    if (c === 0x20) {
      if (i === 0) return invalid('request line does not start with a method')
      break
    }
    if (c >= 0x80 || !tokenChar.test(String.fromCharCode(c))) return invalid('request line does not start with a method')
  }

  const lines: string[] = []
  let start = 0
  let headLength: number | undefined
  while (start < scanLength) {
    const newline = buf.indexOf(0x0a, start)
    if (newline === -1 || newline >= maxHttpHeadBytes) break
    let end = newline
    if (end > start && buf[end - 1] === 0x0d) end -= 1
    const line = buf.toString('latin1', start, end)
    start = newline + 1
    if (line.length === 0) {
      headLength = start
      break
    }
    lines.push(line)
  }
  if (headLength === undefined) {
    return buf.length >= maxHttpHeadBytes ? invalid('request head larger than 16 KiB') : needMore
  }
  if (lines.length === 0) return invalid('empty request line')
  return parseHead(lines, headLength)
}

function parseHead(lines: readonly string[], headLength: number): HttpHeadResult {
  const requestLine = lines[0]!
  const parts = requestLine.split(' ')
  if (parts.length !== 3) return invalid('malformed request line')
  const [method, target, version] = parts as [string, string, string]
  if (!tokenPattern.test(method)) return invalid('malformed method')
  if (!versionPattern.test(version)) return invalid('not an HTTP/1.x request')
  if (target.length === 0 || /[\x00-\x20\x7f-\xff]/.test(target)) return invalid('malformed request target')

  const headers: (readonly [string, string])[] = []
  let hostHeader: string | undefined
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) return invalid('folded header line')
    const colon = line.indexOf(':')
    if (colon <= 0) return invalid('malformed header line')
    const fieldName = line.slice(0, colon)
    if (!tokenPattern.test(fieldName)) return invalid('malformed header name')
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return invalid('control character in a header value')
    const lower = fieldName.toLowerCase()
    if (lower === 'host') {
      if (hostHeader !== undefined) return invalid('more than one Host header')
      hostHeader = value
    }
    headers.push([lower, value])
  }

  let form: RequestTargetForm
  let authority: string | undefined
  if (method === 'CONNECT') {
    form = 'authority'
    authority = target
    if (!/:[0-9]+$/.test(authority)) return invalid('CONNECT target must be name:port')
  } else if (target.startsWith('/')) {
    form = 'origin'
  } else if (target === '*') {
    if (method !== 'OPTIONS') return invalid('malformed request target')
    form = 'asterisk'
  } else {
    const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)/.exec(target)
    if (match === null) return invalid('malformed request target')
    if (match[1]!.toLowerCase() !== 'http') return invalid('absolute-form target with a scheme other than http')
    form = 'absolute'
    authority = match[2]!
  }

  if (authority === undefined) {
    if (hostHeader === undefined || hostHeader.length === 0) return { kind: 'no-host' }
    authority = hostHeader
  }
  const parsed = parseAuthority(authority)
  if ('kind' in parsed) return parsed
  const base = { kind: 'host' as const, name: parsed.name, method, form, headLength, headers }
  return parsed.port === undefined ? base : { ...base, port: parsed.port }
}

function parseAuthority(authority: string): { name: string; port?: number } | HttpHeadResult {
  if (authority.includes('@')) return invalid('user information in the request target')
  if (authority.startsWith('[')) return invalid('host is an IP literal, not a name')
  const colon = authority.lastIndexOf(':')
  let host = authority
  let port: number | undefined
  if (colon !== -1) {
    host = authority.slice(0, colon)
    const digits = authority.slice(colon + 1)
    if (!portPattern.test(digits)) return invalid('malformed port')
    port = Number(digits)
    if (port < 1 || port > 65535) return invalid('port out of range')
  }
  const name = normalizeDnsName(host)
  if (name === undefined) return invalid('host is not a valid DNS name')
  return port === undefined ? { name } : { name, port }
}
