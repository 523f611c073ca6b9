// Our managed block and our take-over marks, found in a parsed hosts file; and the other tools' sections we must
// never rewrite. Pure: no I/O.
//
// The whole engine rests on one function, `analyzeHosts`, which splits a file into "the file without anything of
// ours" (pristine lines, each remembering its line number) and "what is ours" (the block, the taken-over lines).
// Revert is "write the pristine lines back"; apply is "pristine lines + our block, re-rendered". Because apply always
// starts from the pristine lines, apply twice equals apply once, and revert after apply gives the original bytes.

import { BridgeError } from '../errors.js'
import { parseMappingLine, type HostsDocument, type HostsLine } from './document.js'

/** First line of our block (ASCII, fixed). */
export const HOSTS_BLOCK_BEGIN = '# >>> acr-bridge managed block: do not edit >>>'
/** Last line of our block (ASCII, fixed). */
export const HOSTS_BLOCK_END = '# <<< acr-bridge managed block <<<'
/** Prefix that comments out a line we took over; removing it restores the line exactly. */
export const HOSTS_TAKEOVER_PREFIX = '#acr-bridge-off# '

export const dockerDesktopOwner = 'docker-desktop'

/** One `ADDRESS NAME` pair; HostEntry (catalog/types.ts) satisfies it. */
export interface HostsMapping {
  readonly address: string
  readonly name: string
}

/** A mapping found in our block, with its 1-based line number. */
export interface HostsBlockEntry extends HostsMapping {
  readonly line: number
}

/** A line of the file that is not ours, as it was before we touched it. */
export interface PristineLine {
  readonly line: HostsLine
  /** 0-based index of this line in the analysed document. */
  readonly index: number
  /** The line is currently commented out by our take-over prefix. */
  readonly takenOver: boolean
}

export interface HostsMalformation {
  /** 1-based line number. */
  readonly line: number
  readonly message: string
}

export interface HostsAnalysis {
  readonly pristine: readonly PristineLine[]
  readonly hasBlock: boolean
  /** Position among the pristine lines where our (first) block sits; undefined when there is no block. */
  readonly blockAt: number | undefined
  readonly blockEntries: readonly HostsBlockEntry[]
  /** Set when our markers do not pair up; plan and revert refuse such a file. */
  readonly malformed: HostsMalformation | undefined
}

function isMarker(line: HostsLine, marker: string): boolean {
  return line.text.trim() === marker
}

export function analyzeHosts(document: HostsDocument): HostsAnalysis {
  const pristine: PristineLine[] = []
  const blockEntries: HostsBlockEntry[] = []
  const lines = document.lines
  let blockStart: number | undefined
  let blockAt: number | undefined
  let lastBlockEnd: number | undefined
  let malformed: HostsMalformation | undefined

  lines.forEach((line, index) => {
    if (blockStart !== undefined) {
      if (isMarker(line, HOSTS_BLOCK_END)) {
        blockStart = undefined
        lastBlockEnd = index
      } else if (isMarker(line, HOSTS_BLOCK_BEGIN)) {
        malformed ??= { line: index + 1, message: 'a second acr-bridge begin marker inside the acr-bridge block' }
      } else {
        const mapping = parseMappingLine(line.text)
        for (const name of mapping?.names ?? []) {
          blockEntries.push({ address: mapping?.address ?? '', name, line: index + 1 })
        }
      }
      return
    }
    if (isMarker(line, HOSTS_BLOCK_BEGIN)) {
      blockStart = index
      blockAt ??= pristine.length
      return
    }
    if (isMarker(line, HOSTS_BLOCK_END)) {
      malformed ??= { line: index + 1, message: 'an acr-bridge end marker without a begin marker before it' }
      pristine.push({ line, index, takenOver: false })
      return
    }
    if (line.text.startsWith(HOSTS_TAKEOVER_PREFIX)) {
      pristine.push({ line: { text: line.text.slice(HOSTS_TAKEOVER_PREFIX.length), eol: line.eol }, index, takenOver: true })
      return
    }
    pristine.push({ line, index, takenOver: false })
  })
  if (blockStart !== undefined) {
    malformed ??= { line: blockStart + 1, message: 'an acr-bridge begin marker without an end marker after it' }
  }

  // A block that ends the file without a final line break was appended to a file whose last line had none: apply
  // gave that line a break so the block could follow. Take it away again.
  const last = pristine[pristine.length - 1]
  if (
    malformed === undefined &&
    lastBlockEnd !== undefined &&
    lastBlockEnd === lines.length - 1 &&
    lines[lastBlockEnd]?.eol === '' &&
    last !== undefined
  ) {
    pristine[pristine.length - 1] = { ...last, line: { text: last.line.text, eol: '' } }
  }

  return { pristine, hasBlock: blockAt !== undefined, blockAt, blockEntries, malformed }
}

/** Throws the BridgeError a caller shows when our markers do not pair up. */
export function assertWellFormed(analysis: HostsAnalysis): void {
  const problem = analysis.malformed
  if (problem === undefined) return
  throw new BridgeError('HOSTS_READ_FAILED', `The hosts file has ${problem.message} (line ${problem.line}).`, {
    hint:
      'Remove the acr-bridge lines from the hosts file by hand (a copy of the file from before acr-bridge first ' +
      'changed it is kept as hosts.backup in the acr-bridge data folder), then try again.',
    details: { line: problem.line },
  })
}

/** A marked section another tool owns. `to` is inclusive. */
export interface ForeignSection {
  readonly owner: string
  readonly from: number
  readonly to: number
}

const switchHostsStart = '# --- SWITCHHOSTS_CONTENT_START ---'

/**
 * Finds other tools' sections among the pristine lines (positions are pristine indexes): Docker Desktop
 * (`# Added by Docker Desktop` … `# End of section`), SwitchHosts (its start marker to the end of the file, which it
 * rewrites), hostctl (`# profile.on NAME` … `# end`) and `# BEGIN X` … `# END X` (Ansible blockinfile and the like).
 * A begin line without its end line is an ordinary comment (except SwitchHosts', which has no end line).
 */
export function findForeignSections(pristine: readonly PristineLine[]): ForeignSection[] {
  const sections: ForeignSection[] = []
  const texts = pristine.map((entry) => entry.line.text.trim())
  const findEnd = (from: number, isEnd: (text: string) => boolean): number | undefined => {
    for (let index = from; index < texts.length; index += 1) if (isEnd(texts[index] ?? '')) return index
    return undefined
  }
  let index = 0
  while (index < texts.length) {
    const text = texts[index] ?? ''
    if (text === switchHostsStart) {
      sections.push({ owner: text, from: index, to: texts.length - 1 })
      break
    }
    let end: number | undefined
    let owner = text
    if (text === '# Added by Docker Desktop') {
      owner = dockerDesktopOwner
      end = findEnd(index + 1, (t) => t === '# End of section')
    } else if (/^#\s*profile\.(?:on|off)\s+\S+$/.test(text)) {
      end = findEnd(index + 1, (t) => /^#\s*end$/.test(t))
    } else {
      const begin = /^#\s*BEGIN\s+(\S.*)$/.exec(text)
      if (begin !== null) {
        const label = begin[1] ?? ''
        end = findEnd(index + 1, (t) => {
          const match = /^#\s*END\s+(\S.*)$/.exec(t)
          return match !== null && match[1] === label
        })
      }
    }
    if (end !== undefined) {
      sections.push({ owner, from: index, to: end })
      index = end + 1
    } else {
      index += 1
    }
  }
  return sections
}

/** Where a new block goes when the file has none: the end, or just before SwitchHosts' section (which it rewrites). */
export function defaultBlockPosition(pristine: readonly PristineLine[]): number {
  const switchHosts = pristine.findIndex((entry) => entry.line.text.trim() === switchHostsStart)
  return switchHosts === -1 ? pristine.length : switchHosts
}

export interface TakenOverLine {
  /** 1-based line number in the file. */
  readonly line: number
  /** The line as it will be restored. */
  readonly text: string
}

export interface HostsInspection {
  readonly hasBlock: boolean
  readonly entries: readonly HostsBlockEntry[]
  readonly takenOver: readonly TakenOverLine[]
  /** Our markers do not pair up: a person must look at the file. */
  readonly malformed: HostsMalformation | undefined
}

/** What of ours is in the file: a block (perhaps stale, left by a crash), its entries, lines we commented out. */
export function inspectHosts(document: HostsDocument): HostsInspection {
  const analysis = analyzeHosts(document)
  return {
    hasBlock: analysis.hasBlock,
    entries: analysis.blockEntries,
    takenOver: analysis.pristine
      .filter((entry) => entry.takenOver)
      .map((entry) => ({ line: entry.index + 1, text: entry.line.text })),
    malformed: analysis.malformed,
  }
}

export interface HostsRevert {
  readonly newContent: string
  readonly changed: boolean
  readonly removed: readonly HostsBlockEntry[]
  readonly restored: readonly TakenOverLine[]
}

/** Removes our block and restores the lines we commented out: the file as it was before apply, byte for byte. */
export function revertHosts(document: HostsDocument): HostsRevert {
  const analysis = analyzeHosts(document)
  assertWellFormed(analysis)
  const inspection = inspectHosts(document)
  const changed = analysis.hasBlock || inspection.takenOver.length > 0
  let newContent = ''
  for (const entry of analysis.pristine) newContent += entry.line.text + entry.line.eol
  return { newContent, changed, removed: analysis.blockEntries, restored: inspection.takenOver }
}
