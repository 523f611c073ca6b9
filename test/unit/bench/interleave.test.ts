// The benchmark's ordering and its paired ratios: the figures in the README rest on them.

import { describe, expect, test } from 'vitest'
import { groupCases, interleave, interleaveGroups } from '../../bench/lib/interleave.mjs'
import { pairedRatio } from '../../bench/lib/stats.mjs'

const named = (...names: string[]) => names.map((name) => ({ name }))

async function order(groups: { name: string }[][], rounds: number): Promise<string[][]> {
  const seen: string[][] = []
  await interleaveGroups(groups, rounds, async (c, round) => {
    ;(seen[round] ??= []).push(c.name)
    return round
  }, () => undefined)
  return seen
}

describe('interleaveGroups', () => {
  test('the cases of a group run back to back in every round, each of them first in turn', async () => {
    const rounds = await order([named('socat', 'sni'), named('direct'), named('ssh -L', 'ssh')], 4)
    expect(rounds).toEqual([
      ['socat', 'sni', 'direct', 'ssh -L', 'ssh'],
      ['direct', 'ssh', 'ssh -L', 'sni', 'socat'],
      ['ssh -L', 'ssh', 'socat', 'sni', 'direct'],
      ['sni', 'socat', 'direct', 'ssh', 'ssh -L'],
    ])
    for (const round of rounds) {
      for (const [a, b] of [['socat', 'sni'], ['ssh -L', 'ssh']] as const) {
        expect(Math.abs(round.indexOf(a) - round.indexOf(b)), round.join(', ')).toBe(1)
      }
    }
  })

  test('values come back per case in round order', async () => {
    const results = await interleaveGroups([named('a', 'b'), named('c')], 3, async (c, round) => `${c.name}${round}`)
    expect(Object.fromEntries(results)).toEqual({ a: ['a0', 'a1', 'a2'], b: ['b0', 'b1', 'b2'], c: ['c0', 'c1', 'c2'] })
  })

  test('interleave without groups rotates the starting case by one per round', async () => {
    const seen: string[] = []
    await interleave(named('a', 'b', 'c'), 3, async (c) => seen.push(c.name))
    expect(seen).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b'])
  })

  test('groupCases keeps first-appearance order; a case without a group stands alone', () => {
    const groups = groupCases([
      { name: 'direct' },
      { name: 'socat', group: 'sni' },
      { name: 'ssh', group: 'ssh' },
      { name: 'sni', group: 'sni' },
      { name: 'connect' },
      { name: 'ssh -L', group: 'ssh' },
    ])
    expect(groups.map((g) => g.map((c) => c.name))).toEqual([['direct'], ['socat', 'sni'], ['ssh', 'ssh -L'], ['connect']])
  })
})

describe('pairedRatio', () => {
  test('is the median of the ratios within each round, not the ratio of the medians', () => {
    // The machine doubles its speed after round 2: both paths move together, the tunnel at 0.9 of socat throughout.
    const socat = [500, 500, 1000, 1000, 1000]
    const tunnel = [450, 450, 900, 900, 900]
    expect(pairedRatio(tunnel, socat)).toBeCloseTo(0.9, 10)
    // Round ratios 0.5, 2 and 0.3: their median is 0.5; the medians' ratio (3 / 5) would be 0.6.
    expect(pairedRatio([1, 10, 3], [2, 5, 10])).toBeCloseTo(0.5, 10)
  })

  test('leaves out rounds where either path failed; NaN when none is left', () => {
    expect(pairedRatio([null, 400, 300], [500, null, 600])).toBeCloseTo(0.5, 10)
    expect(pairedRatio([null, 1], [1, null])).toBeNaN()
    expect(pairedRatio(undefined, [1])).toBeNaN()
    expect(pairedRatio([1, 2, 3], [2, 4])).toBeCloseTo(0.5, 10)
  })
})
