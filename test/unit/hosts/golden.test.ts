// Golden files: test/fixtures/hosts/<case>.in.hosts → <case>.out.hosts (read them: they are the spec by example).

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Platform } from '../../../electron/core/paths.js'
import { planHostsBytes, revertHostsBytes } from '../../../electron/core/hosts/hosts-plan.js'

const dir = fileURLToPath(new URL('../../fixtures/hosts/', import.meta.url))

interface GoldenCase {
  readonly name: string
  readonly platform: Platform
  readonly takeOver: boolean
  /** The input holds a stale block of ours: revert gives <name>.reverted.hosts, not the input. */
  readonly staleBlock?: boolean
}

const { entries, cases } = JSON.parse(readFileSync(`${dir}cases.json`, 'utf8')) as {
  entries: { address: string; name: string }[]
  cases: GoldenCase[]
}

describe('golden hosts files', () => {
  it('has cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(14)
  })

  for (const golden of cases) {
    it(golden.name, () => {
      const input = readFileSync(`${dir}${golden.name}.in.hosts`)
      const expected = readFileSync(`${dir}${golden.name}.out.hosts`)
      const options = { takeOver: golden.takeOver, platform: golden.platform }
      const applied = planHostsBytes(input, entries, options)
      expect(applied.plan.blocking).toEqual([])
      expect(applied.newBytes.toString('latin1')).toBe(expected.toString('latin1'))
      expect(planHostsBytes(expected, entries, options).plan.changed).toBe(false)
      const reverted = revertHostsBytes(expected).newBytes
      const original = golden.staleBlock === true ? readFileSync(`${dir}${golden.name}.reverted.hosts`) : input
      expect(reverted.toString('latin1')).toBe(original.toString('latin1'))
    })
  }
})
