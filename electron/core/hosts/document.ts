// The hosts file as a list of lines that keep their exact terminators, so serializeHosts(parseHosts(t)) === t.

import { isIP } from 'node:net'
import type { Platform } from '../paths.js'

/** A line's terminator as found in the file; '' only on a last line without one. A lone CR counts as a terminator. */
export type LineEnding = '\r\n' | '\n' | '\r' | ''

export interface HostsLine {
  /** The line without its terminator. */
  readonly text: string
  readonly eol: LineEnding
}

export interface HostsDocument {
  readonly lines: readonly HostsLine[]
}

export function parseHosts(text: string): HostsDocument {
  const lines: HostsLine[] = []
  const breaks = /\r\n|\n|\r/g
  let start = 0
  for (let match = breaks.exec(text); match !== null; match = breaks.exec(text)) {
    lines.push({ text: text.slice(start, match.index), eol: match[0] as LineEnding })
    start = match.index + match[0].length
  }
  if (start < text.length) lines.push({ text: text.slice(start), eol: '' })
  return { lines }
}

export function serializeHosts(document: HostsDocument): string {
  let text = ''
  for (const line of document.lines) text += line.text + line.eol
  return text
}

/** The platform's own line ending, used when the file gives no majority: CRLF on Windows, LF elsewhere. */
export function platformLineEnding(platform: Platform): '\r\n' | '\n' {
  return platform === 'win32' ? '\r\n' : '\n'
}

/**
 * The line ending new lines get: whichever of CRLF and LF the file uses more; on a tie (an empty file, one line, or
 * as many of each) the platform's. Lone CRs never win: no resolver we target ends lines with them.
 */
export function dominantLineEnding(document: HostsDocument, platform: Platform): '\r\n' | '\n' {
  let crlf = 0
  let lf = 0
  for (const line of document.lines) {
    if (line.eol === '\r\n') crlf += 1
    else if (line.eol === '\n') lf += 1
  }
  if (crlf > lf) return '\r\n'
  if (lf > crlf) return '\n'
  return platformLineEnding(platform)
}

/** What an active hosts line maps: one address and the names after it (lower-cased, as resolvers compare them). */
export interface HostsMappingLine {
  readonly address: string
  readonly names: readonly string[]
}

/**
 * Reads a line the way resolvers do: text from the first `#` on is a comment; fields are separated by spaces and tabs;
 * the first field must be an IP address and at least one name must follow. Anything else maps nothing.
 */
export function parseMappingLine(text: string): HostsMappingLine | undefined {
  const hash = text.indexOf('#')
  const content = hash === -1 ? text : text.slice(0, hash)
  const fields = content.split(/[ \t]+/).filter((field) => field.length > 0)
  const [address, ...names] = fields
  if (address === undefined || names.length === 0) return undefined
  if (isIP(address) === 0) return undefined
  return { address, names: names.map((name) => name.toLowerCase()) }
}
