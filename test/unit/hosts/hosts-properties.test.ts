// Property tests over thousands of random hosts files: apply→revert is byte-identical, apply is idempotent, no line
// that is not ours is lost or changed (except the take-over prefix on conflicting lines), encoding is kept.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import { decodeHosts } from '../../../electron/core/hosts/codec.js'
import { parseHosts, parseMappingLine } from '../../../electron/core/hosts/document.js'
import { HOSTS_BLOCK_BEGIN, HOSTS_BLOCK_END, HOSTS_TAKEOVER_PREFIX, type HostsMapping } from '../../../electron/core/hosts/hosts-block.js'
import { assertNoBlockingConflicts, planHostsBytes, revertHostsBytes, type HostsPlanOptions } from '../../../electron/core/hosts/hosts-plan.js'
import { entryLists, hostsFiles, platforms } from './hosts-arbitraries.js'

const runs = { numRuns: 2000 }

/** Apply like the manager does: refuse on blocking conflicts. Returns undefined when refused. */
function apply(bytes: Buffer, entries: readonly HostsMapping[], options: HostsPlanOptions): Buffer | undefined {
  const planned = planHostsBytes(bytes, entries, options)
  try {
    assertNoBlockingConflicts(planned.plan)
  } catch (error) {
    if (!isBridgeError(error, 'HOSTS_CONFLICT')) throw error
    expect(planned.plan.blocking.length).toBeGreaterThan(0)
    if (options.takeOver) expect(planned.plan.blocking.every((conflict) => !conflict.canTakeOver)).toBe(true)
    return undefined
  }
  return planned.newBytes
}

const options = fc.record({ takeOver: fc.boolean(), platform: platforms })

/** Every line not ours is still there, unchanged but for the take-over prefix; the block holds exactly the entries. */
function expectPreserved(before: Buffer, after: Buffer, entries: readonly HostsMapping[], takeOver: boolean): void {
  const decoded = decodeHosts(after)
  expect(decoded.encoding).toEqual(decodeHosts(before).encoding)
  const beforeLines = parseHosts(decodeHosts(before).text).lines
  const afterLines = parseHosts(decoded.text).lines
  const start = afterLines.findIndex((line) => line.text === HOSTS_BLOCK_BEGIN)
  const end = afterLines.findIndex((line) => line.text === HOSTS_BLOCK_END)
  expect(start).toBeGreaterThanOrEqual(0)
  expect(end).toBeGreaterThan(start)
  expect(afterLines.slice(start + 1, end).map((line) => line.text)).toEqual(entries.map((entry) => `${entry.address} ${entry.name}`))
  for (const line of afterLines.slice(start, end + 1)) expect(/^[\x20-\x7e]*$/.test(line.text)).toBe(true)
  const rest = [...afterLines.slice(0, start), ...afterLines.slice(end + 1)]
  expect(rest).toHaveLength(beforeLines.length)
  const ours = new Set(entries.map((entry) => entry.name.toLowerCase()))
  rest.forEach((line, index) => {
    const original = beforeLines[index]!
    if (line.text !== original.text) {
      expect(takeOver).toBe(true)
      expect(line.text).toBe(HOSTS_TAKEOVER_PREFIX + original.text)
      expect(parseMappingLine(original.text)?.names.some((name) => ours.has(name))).toBe(true)
    }
    if (line.eol !== original.eol) {
      // Only the last line of a file without a final line break, when the block was appended after it.
      expect(index).toBe(beforeLines.length - 1)
      expect(original.eol).toBe('')
      expect(start).toBe(beforeLines.length)
    }
  })
}

// fast-check on a shared 2-core machine: thousands of runs take seconds, so these tests get a generous bound.
const timeout = 240_000

describe('hosts engine properties', () => {
  it('apply→revert is byte-identical, apply twice equals apply once, no line of others lost or changed', () => {
    fc.assert(
      fc.property(hostsFiles, entryLists, options, fc.boolean(), (file, entries, opts, secondTakeOver) => {
        const once = apply(file.bytes, entries, opts)
        if (once === undefined) return
        expect(revertHostsBytes(once).newBytes.equals(file.bytes)).toBe(true)
        expectPreserved(file.bytes, once, entries, opts.takeOver)
        const twice = apply(once, entries, { ...opts, takeOver: secondTakeOver })
        expect(twice?.equals(once)).toBe(true)
      }),
      runs,
    )
  }, timeout)

  it('replaces a stale block: apply(E2) over apply(E1) equals apply(E2) on the original, and revert restores it', () => {
    fc.assert(
      fc.property(hostsFiles, entryLists, entryLists, platforms, (file, first, second, platform) => {
        const opts = { takeOver: true, platform }
        const stale = apply(file.bytes, first, opts)
        if (stale === undefined) return
        const direct = apply(file.bytes, second, opts)
        const replaced = apply(stale, second, opts)
        expect(replaced === undefined).toBe(direct === undefined)
        if (replaced === undefined || direct === undefined) return
        expect(replaced.equals(direct)).toBe(true)
        expect(revertHostsBytes(replaced).newBytes.equals(file.bytes)).toBe(true)
      }),
      runs,
    )
  }, timeout)

  it('random bytes never crash the engine: a result or a BridgeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), entryLists, options, (bytes, entries, opts) => {
        for (const run of [() => planHostsBytes(bytes, entries, opts), () => revertHostsBytes(bytes)]) {
          try {
            run()
          } catch (error) {
            expect(isBridgeError(error)).toBe(true)
          }
        }
      }),
      runs,
    )
  }, timeout)

  it('the generator really produces the hard cases (conflicts, other sections, no final break, every encoding)', () => {
    const seen = new Set<string>()
    for (const [file, entries] of fc.sample(fc.tuple(hostsFiles, entryLists), 500)) {
      seen.add(`enc:${file.encoding.charset}:${file.encoding.bom}`)
      if (file.text.length > 0 && !/[\r\n]$/.test(file.text)) seen.add('no-final-break')
      if (/\r\n/.test(file.text) && /[^\r]\n/.test(file.text)) seen.add('mixed')
      if (file.text.includes('# Added by Docker Desktop')) seen.add('docker')
      const planned = planHostsBytes(file.bytes, entries, { takeOver: true, platform: 'linux' })
      if (planned.plan.conflicts.some((conflict) => conflict.takenOver)) seen.add('takeover')
      if (planned.plan.blocking.length > 0) seen.add('foreign-conflict')
    }
    for (const expected of ['enc:utf8:false', 'enc:utf8:true', 'enc:utf16le:true', 'enc:utf16be:true', 'enc:latin1:false', 'no-final-break', 'mixed', 'docker', 'takeover', 'foreign-conflict']) {
      expect(seen).toContain(expected)
    }
  }, timeout)
})
