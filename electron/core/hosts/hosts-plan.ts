// Apply as a pure function: (file, entries, options) → the new file and what it changes. No I/O.

import { isIP } from 'node:net'
import { validateHostName } from '../config/host-name.js'
import { BridgeError } from '../errors.js'
import type { Platform } from '../paths.js'
import { decodeHosts, encodeHosts, type HostsEncoding } from './codec.js'
import { dominantLineEnding, parseHosts, parseMappingLine, type HostsDocument, type HostsLine } from './document.js'
import {
  analyzeHosts,
  assertWellFormed,
  defaultBlockPosition,
  findForeignSections,
  HOSTS_BLOCK_BEGIN,
  HOSTS_BLOCK_END,
  HOSTS_TAKEOVER_PREFIX,
  revertHosts,
  type HostsBlockEntry,
  type HostsMapping,
  type HostsRevert,
} from './hosts-block.js'

export interface HostsPlanOptions {
  /** Comment out other lines that map our names (restored on revert) instead of reporting them as blocking. */
  readonly takeOver: boolean
  /** Decides the line ending of an empty file's new lines (CRLF on win32, LF elsewhere). */
  readonly platform: Platform
}

/** A name of ours that a line outside our block maps too. */
export interface HostsConflict {
  readonly name: string
  /** 1-based line number in the file as it is now. */
  readonly line: number
  readonly address: string
  /** `user`, `docker-desktop`, or the first line of the other tool's section. */
  readonly owner: string
  /** Only the user's own lines may be commented out; other tools' sections are never rewritten. */
  readonly canTakeOver: boolean
  /** This plan comments the line out (asked for now, or taken over by an earlier apply). */
  readonly takenOver: boolean
  /** Names on the same line that are not ours: commenting the line out unmaps them too. */
  readonly otherNames: readonly string[]
}

export interface HostsPlan {
  readonly added: readonly HostsMapping[]
  readonly removed: readonly HostsMapping[]
  readonly unchanged: readonly HostsMapping[]
  readonly conflicts: readonly HostsConflict[]
  /** Names a line before our block still maps after this plan: resolvers take the first match, so ours would lose. */
  readonly shadowed: readonly string[]
  /** Conflicts that stay active: apply refuses while there are any. */
  readonly blocking: readonly HostsConflict[]
  /** The block exactly as written, with LF line endings (for previews). */
  readonly block: string
  readonly newContent: string
  readonly changed: boolean
}

function invalidEntry(index: number, field: 'name' | 'address', message: string): BridgeError {
  return new BridgeError('INVALID_CONFIG', message, {
    field: `entries[${index}].${field}`,
    hint: 'Fix or remove this host in the settings (extraHosts or the selection), then apply again.',
  })
}

/** Re-checks every entry right before it is written: a plain DNS name, an IP literal, no name twice. */
export function validateEntries(entries: readonly HostsMapping[]): void {
  const seen = new Set<string>()
  entries.forEach((entry, index) => {
    const problem = validateHostName(entry.name)
    if (problem !== undefined) {
      throw invalidEntry(index, 'name', `Host name ${JSON.stringify(entry.name)} ${problem}.`)
    }
    if (typeof entry.address !== 'string' || !/^[0-9A-Fa-f:.]+$/.test(entry.address) || isIP(entry.address) === 0) {
      throw invalidEntry(index, 'address', `The address ${JSON.stringify(entry.address)} for ${entry.name} is not an IP address.`)
    }
    const key = entry.name.toLowerCase()
    if (seen.has(key)) throw invalidEntry(index, 'name', `Host name ${entry.name} is listed twice.`)
    seen.add(key)
  })
}

/** The block's lines, without line endings. */
export function renderBlockLines(entries: readonly HostsMapping[]): string[] {
  return [HOSTS_BLOCK_BEGIN, ...entries.map((entry) => `${entry.address} ${entry.name}`), HOSTS_BLOCK_END]
}

function diffEntries(current: readonly HostsBlockEntry[], next: readonly HostsMapping[]) {
  const currentByName = new Map<string, string>()
  for (const entry of current) currentByName.set(entry.name.toLowerCase(), entry.address)
  const nextKeys = new Set(next.map((entry) => `${entry.name.toLowerCase()} ${entry.address}`))
  const added: HostsMapping[] = []
  const unchanged: HostsMapping[] = []
  for (const entry of next) {
    const mapping = { address: entry.address, name: entry.name }
    if (currentByName.get(entry.name.toLowerCase()) === entry.address) unchanged.push(mapping)
    else added.push(mapping)
  }
  const removed = current
    .filter((entry) => !nextKeys.has(`${entry.name.toLowerCase()} ${entry.address}`))
    .map((entry) => ({ address: entry.address, name: entry.name }))
  return { added, removed, unchanged }
}

/**
 * Plans writing `entries` as our block: replaces an existing block in place (a stale one included) or appends one,
 * finds every other line that maps one of our names, and comments those out where allowed and asked for (or where an
 * earlier apply already did). Never throws for conflicts: check `blocking` (assertNoBlockingConflicts).
 */
export function planHosts(document: HostsDocument, entries: readonly HostsMapping[], options: HostsPlanOptions): HostsPlan {
  validateEntries(entries)
  const analysis = analyzeHosts(document)
  assertWellFormed(analysis)
  const pristine = analysis.pristine
  const eol = dominantLineEnding({ lines: pristine.map((entry) => entry.line) }, options.platform)

  const owners: (string | undefined)[] = new Array<string | undefined>(pristine.length).fill(undefined)
  for (const section of findForeignSections(pristine)) owners.fill(section.owner, section.from, section.to + 1)

  const ours = new Set(entries.map((entry) => entry.name.toLowerCase()))
  const conflicts: HostsConflict[] = []
  const output: HostsLine[] = []
  const blockAt = analysis.blockAt ?? defaultBlockPosition(pristine)
  const shadowed = new Set<string>()

  pristine.forEach((entry, position) => {
    const mapping = parseMappingLine(entry.line.text)
    const matched = mapping === undefined ? [] : [...new Set(mapping.names.filter((name) => ours.has(name)))]
    if (mapping === undefined || matched.length === 0) {
      output.push(entry.line)
      return
    }
    const owner = owners[position] ?? 'user'
    const canTakeOver = owner === 'user'
    const takenOver = canTakeOver && (options.takeOver || entry.takenOver)
    const otherNames = [...new Set(mapping.names.filter((name) => !ours.has(name)))]
    for (const name of matched) {
      conflicts.push({ name, line: entry.index + 1, address: mapping.address, owner, canTakeOver, takenOver, otherNames })
      if (!takenOver && position < blockAt) shadowed.add(name)
    }
    output.push(takenOver ? { text: HOSTS_TAKEOVER_PREFIX + entry.line.text, eol: entry.line.eol } : entry.line)
  })

  const blockTexts = renderBlockLines(entries)
  const block: HostsLine[] = blockTexts.map((text) => ({ text, eol }))
  const previous = output[blockAt - 1]
  if (blockAt === output.length && previous !== undefined && previous.eol === '') {
    // The file ends without a line break: give its last line one, and end the block without one, which tells revert
    // to take that line break away again.
    output[blockAt - 1] = { text: previous.text, eol }
    block[block.length - 1] = { text: HOSTS_BLOCK_END, eol: '' }
  }
  const lines = [...output.slice(0, blockAt), ...block, ...output.slice(blockAt)]

  let newContent = ''
  for (const line of lines) newContent += line.text + line.eol
  let oldContent = ''
  for (const line of document.lines) oldContent += line.text + line.eol

  return {
    ...diffEntries(analysis.blockEntries, entries),
    conflicts,
    shadowed: [...shadowed],
    blocking: conflicts.filter((conflict) => !conflict.takenOver),
    block: blockTexts.map((text) => `${text}\n`).join(''),
    newContent,
    changed: newContent !== oldContent,
  }
}

/** Throws HOSTS_CONFLICT naming the lines when the plan leaves other lines mapping our names. */
export function assertNoBlockingConflicts(plan: HostsPlan): void {
  const blocking = plan.blocking
  if (blocking.length === 0) return
  const listed = blocking
    .slice(0, 5)
    .map((conflict) => `${conflict.name} (line ${conflict.line}${conflict.owner === 'user' ? '' : `, ${conflict.owner}`})`)
    .join(', ')
  const more = blocking.length > 5 ? ` and ${blocking.length - 5} more` : ''
  const foreign = blocking.filter((conflict) => !conflict.canTakeOver)
  const hint =
    foreign.length > 0
      ? `acr-bridge never rewrites another tool's section: remove ${foreign[0]?.name ?? 'the name'} from it (or from the acr-bridge settings), then apply again.`
      : 'Apply again with take-over to comment those lines out (revert restores them), or delete the lines yourself.'
  throw new BridgeError('HOSTS_CONFLICT', `The hosts file already maps ${listed}${more}.`, {
    hint,
    details: { lines: blocking.map((conflict) => conflict.line).join(','), names: [...new Set(blocking.map((c) => c.name))].join(',') },
  })
}

/** The byte-level apply: decode, plan, encode in the file's own encoding. */
export interface HostsBytesPlan {
  readonly encoding: HostsEncoding
  readonly plan: HostsPlan
  readonly newBytes: Buffer
}

function decodeForWrite(bytes: Uint8Array): { encoding: HostsEncoding; document: HostsDocument } {
  const { encoding, text } = decodeHosts(bytes)
  if (text.includes('\u0000')) {
    throw new BridgeError('HOSTS_ENCODING_UNSUPPORTED', 'The hosts file contains NUL bytes, so it is not a text file acr-bridge can read safely.', {
      hint: 'It may be UTF-16 without a byte order mark: save it as UTF-8 (or UTF-16 with BOM) and try again.',
    })
  }
  return { encoding, document: parseHosts(text) }
}

export function planHostsBytes(bytes: Uint8Array, entries: readonly HostsMapping[], options: HostsPlanOptions): HostsBytesPlan {
  const { encoding, document } = decodeForWrite(bytes)
  const plan = planHosts(document, entries, options)
  return { encoding, plan, newBytes: plan.changed ? encodeHosts(plan.newContent, encoding) : Buffer.from(bytes) }
}

export interface HostsBytesRevert {
  readonly encoding: HostsEncoding
  readonly revert: HostsRevert
  readonly newBytes: Buffer
}

export function revertHostsBytes(bytes: Uint8Array): HostsBytesRevert {
  const { encoding, document } = decodeForWrite(bytes)
  const revert = revertHosts(document)
  return { encoding, revert, newBytes: revert.changed ? encodeHosts(revert.newContent, encoding) : Buffer.from(bytes) }
}
