// A pure, bounded reader of the TLS ClientHello: just far enough to find the server name (SNI).
// It never decrypts anything and never throws; the caller feeds it everything received so far.

import { normalizeDnsName } from './dns-name.js'

export type ClientHelloResult =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'sni'; readonly name: string }
  | { readonly kind: 'no-sni' }
  | { readonly kind: 'invalid'; readonly reason: string }

/** Bytes a ClientHello (with its record headers) may take before it is refused. */
export const maxClientHelloBytes = 64 * 1024

const recordHeaderLength = 5
const contentTypeHandshake = 22
const handshakeTypeClientHello = 1
/** TLSPlaintext.length must not exceed 2^14 (RFC 8446 §5.1). */
const maxRecordLength = 16384
const extensionServerName = 0
const nameTypeHostName = 0

const needMore: ClientHelloResult = { kind: 'need-more' }

function invalid(reason: string): ClientHelloResult {
  return { kind: 'invalid', reason }
}

/**
 * Reads the ClientHello at the start of `buf`: it may be split over many TLS records and many TCP segments.
 * Returns 'need-more' while the message is incomplete, 'invalid' for anything that is not a well-formed
 * ClientHello (or is larger than maxClientHelloBytes), otherwise the lowercased server name or 'no-sni'.
 */
export function parseClientHello(buf: Buffer): ClientHelloResult {
  try {
    return parse(buf)
  } catch {
    // Unreachable by construction (every read is bounds-checked); kept so that the contract "never throws" holds.
    return invalid('unreadable ClientHello')
  }
}

function parse(buf: Buffer): ClientHelloResult {
  const fragments: Buffer[] = []
  let handshakeBytes = 0
  let messageLength: number | undefined
  let offset = 0

  while (true) {
    if (messageLength !== undefined && handshakeBytes >= 4 + messageLength) break
    if (buf.length - offset < recordHeaderLength) {
      // A partial header can still be judged by its first bytes.
      if (offset < buf.length && buf[offset] !== contentTypeHandshake) return invalid('not a TLS handshake record')
      if (offset + 1 < buf.length && buf[offset + 1] !== 3) return invalid('not a TLS record version')
      return exceedsBound(buf) ? invalid('ClientHello larger than 64 KiB') : needMore
    }
    const type = buf[offset]
    const major = buf[offset + 1]
    const length = buf.readUInt16BE(offset + 3)
    if (type !== contentTypeHandshake) {
      return invalid(offset === 0 ? 'not a TLS handshake record' : 'ClientHello interrupted by a non-handshake record')
    }
    if (major !== 3) return invalid('not a TLS record version')
    if (length === 0) return invalid('empty handshake record')
    if (length > maxRecordLength) return invalid('TLS record longer than 16 KiB')
    const available = Math.min(length, buf.length - offset - recordHeaderLength)
    const start = offset + recordHeaderLength
    fragments.push(buf.subarray(start, start + available))
    handshakeBytes += available

    if (messageLength === undefined && handshakeBytes >= 4) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments)
      if (head[0] !== handshakeTypeClientHello) return invalid('first handshake message is not a ClientHello')
      messageLength = head.readUIntBE(1, 3)
      if (4 + messageLength + recordHeaderLength > maxClientHelloBytes) return invalid('ClientHello larger than 64 KiB')
    }
    if (available < length) {
      // The record continues beyond what has arrived.
      if (messageLength !== undefined && handshakeBytes >= 4 + messageLength) break
      return exceedsBound(buf) ? invalid('ClientHello larger than 64 KiB') : needMore
    }
    offset = start + length
  }

  const message = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments)
  return parseBody(message.subarray(4, 4 + messageLength))
}

function exceedsBound(buf: Buffer): boolean {
  return buf.length > maxClientHelloBytes
}

/** The ClientHello body (RFC 8446 §4.1.2; the same layout in TLS 1.0–1.2). */
function parseBody(body: Buffer): ClientHelloResult {
  let at = 0
  const remaining = (): number => body.length - at
  const truncated = invalid('truncated ClientHello')

  if (remaining() < 2 + 32) return truncated
  if (body[0] !== 3) return invalid('unsupported ClientHello version')
  at += 2 + 32 // legacy_version, random

  if (remaining() < 1) return truncated
  const sessionIdLength = body[at]!
  at += 1
  if (sessionIdLength > 32) return invalid('session id longer than 32 bytes')
  if (remaining() < sessionIdLength) return truncated
  at += sessionIdLength

  if (remaining() < 2) return truncated
  const cipherSuitesLength = body.readUInt16BE(at)
  at += 2
  if (cipherSuitesLength === 0 || cipherSuitesLength % 2 !== 0) return invalid('malformed cipher suite list')
  if (remaining() < cipherSuitesLength) return truncated
  at += cipherSuitesLength

  if (remaining() < 1) return truncated
  const compressionLength = body[at]!
  at += 1
  if (compressionLength === 0) return invalid('empty compression method list')
  if (remaining() < compressionLength) return truncated
  at += compressionLength

  if (remaining() === 0) return { kind: 'no-sni' } // a ClientHello without extensions
  if (remaining() < 2) return truncated
  const extensionsLength = body.readUInt16BE(at)
  at += 2
  if (extensionsLength !== remaining()) return invalid('extension block length does not match the message')

  const seen = new Set<number>()
  let name: string | undefined
  while (remaining() > 0) {
    if (remaining() < 4) return truncated
    const type = body.readUInt16BE(at)
    const length = body.readUInt16BE(at + 2)
    at += 4
    if (remaining() < length) return truncated
    if (seen.has(type)) return invalid('duplicate extension')
    seen.add(type)
    if (type === extensionServerName) {
      const result = parseServerName(body.subarray(at, at + length))
      if (typeof result === 'object') return result
      name = result
    }
    at += length
  }
  return name === undefined ? { kind: 'no-sni' } : { kind: 'sni', name }
}

/** server_name extension data (RFC 6066 §3): a list of (type, name); exactly one host_name is allowed. */
function parseServerName(data: Buffer): string | undefined | ClientHelloResult {
  if (data.length === 0) return undefined // the empty form a server sends; a client should not
  if (data.length < 2) return invalid('malformed server_name extension')
  const listLength = data.readUInt16BE(0)
  if (listLength !== data.length - 2 || listLength === 0) return invalid('malformed server_name extension')
  let at = 2
  let name: string | undefined
  while (at < data.length) {
    if (data.length - at < 3) return invalid('malformed server_name extension')
    const nameType = data[at]!
    const length = data.readUInt16BE(at + 1)
    at += 3
    if (data.length - at < length) return invalid('malformed server_name extension')
    if (nameType === nameTypeHostName) {
      if (name !== undefined) return invalid('more than one host_name in server_name')
      const bytes = data.subarray(at, at + length)
      for (const byte of bytes) {
        if (byte < 0x21 || byte > 0x7e) return invalid('server name is not a valid DNS name')
      }
      const normalized = normalizeDnsName(bytes.toString('latin1'))
      if (normalized === undefined) return invalid('server name is not a valid DNS name')
      name = normalized
    }
    at += length
  }
  return name
}
