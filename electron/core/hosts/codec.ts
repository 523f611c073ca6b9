// Bytes <-> text for hosts files, lossless in both directions: encodeHosts(decodeHosts(b)) is byte-identical to b for
// every input. Windows machines ship hosts files as UTF-8, UTF-8 with a BOM, UTF-16 LE with a BOM, or in a legacy
// code page (ACR-FACTS.md §7); the block we add is ASCII, so it survives every one of them.

/** How the text is stored after the optional byte order mark. `latin1` is the lossless fallback for non-UTF-8 bytes. */
export type HostsCharset = 'utf8' | 'latin1' | 'utf16le' | 'utf16be'

export interface HostsEncoding {
  readonly charset: HostsCharset
  /** The file starts with a byte order mark (EF BB BF for utf8/latin1, FF FE for utf16le, FE FF for utf16be). */
  readonly bom: boolean
}

export interface DecodedHosts {
  readonly encoding: HostsEncoding
  readonly text: string
}

const utf8Bom = [0xef, 0xbb, 0xbf] as const
const utf16leBom = [0xff, 0xfe] as const
const utf16beBom = [0xfe, 0xff] as const

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte)
}

/** Decodes strict UTF-8, or returns undefined when the bytes are not valid UTF-8. */
function decodeStrictUtf8(bytes: Uint8Array): string | undefined {
  try {
    // ignoreBOM keeps a second U+FEFF as text instead of swallowing it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * Detects the encoding from the bytes and decodes them. Never fails: bytes that are not valid in the encoding the BOM
 * announces (or in UTF-8, without a BOM) are read as latin1, one character per byte, so nothing is lost.
 */
export function decodeHosts(bytes: Uint8Array): DecodedHosts {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (startsWith(buffer, utf16leBom) && buffer.length % 2 === 0) {
    return { encoding: { charset: 'utf16le', bom: true }, text: buffer.subarray(2).toString('utf16le') }
  }
  if (startsWith(buffer, utf16beBom) && buffer.length % 2 === 0) {
    const swapped = Buffer.from(buffer.subarray(2))
    swapped.swap16()
    return { encoding: { charset: 'utf16be', bom: true }, text: swapped.toString('utf16le') }
  }
  const bom = startsWith(buffer, utf8Bom)
  const body = bom ? buffer.subarray(3) : buffer
  const utf8 = decodeStrictUtf8(body)
  if (utf8 !== undefined) return { encoding: { charset: 'utf8', bom }, text: utf8 }
  return { encoding: { charset: 'latin1', bom }, text: body.toString('latin1') }
}

/** Can `text` be stored in `encoding` without loss? (latin1 holds only U+0000-U+00FF.) */
export function canEncode(text: string, encoding: HostsEncoding): boolean {
  if (encoding.charset !== 'latin1') return true
  return /^[\u0000-\u00ff]*$/.test(text)
}

/** Encodes text back to bytes in the given encoding. Throws (a bug) if the text does not fit a latin1 file. */
export function encodeHosts(text: string, encoding: HostsEncoding): Buffer {
  if (!canEncode(text, encoding)) {
    throw new Error('encodeHosts: text has characters a latin1 hosts file cannot hold')
  }
  switch (encoding.charset) {
    case 'utf16le': {
      const body = Buffer.from(text, 'utf16le')
      return encoding.bom ? Buffer.concat([Buffer.from(utf16leBom), body]) : body
    }
    case 'utf16be': {
      const body = Buffer.from(text, 'utf16le')
      body.swap16()
      return encoding.bom ? Buffer.concat([Buffer.from(utf16beBom), body]) : body
    }
    case 'utf8':
    case 'latin1': {
      const body = Buffer.from(text, encoding.charset)
      return encoding.bom ? Buffer.concat([Buffer.from(utf8Bom), body]) : body
    }
  }
}

/** A short label for messages and the CLI: `UTF-8`, `UTF-8 with BOM`, `UTF-16 LE with BOM`, `8-bit (not UTF-8)`. */
export function describeEncoding(encoding: HostsEncoding): string {
  const names: Record<HostsCharset, string> = {
    utf8: 'UTF-8',
    latin1: '8-bit (not UTF-8)',
    utf16le: 'UTF-16 LE',
    utf16be: 'UTF-16 BE',
  }
  return encoding.bom ? `${names[encoding.charset]} with BOM` : names[encoding.charset]
}
