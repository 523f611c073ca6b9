// Interleaved rounds: every round runs every case once, the starting case rotated from round to round, so slow
// drift (thermal, other load on the machine, caches) spreads over all cases instead of favouring one.

/**
 * Runs `rounds` rounds over `cases` (objects with a `name`), calling `measure(case, roundIndex)` for each, in an
 * order rotated by one each round. Resolves with a Map name → array of the values `measure` returned, in round
 * order. `onRound(roundIndex)` is called before each round (progress output).
 */
export async function interleave(cases, rounds, measure, onRound) {
  const results = new Map(cases.map((c) => [c.name, []]))
  for (let round = 0; round < rounds; round++) {
    onRound?.(round)
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + round) % cases.length]
      results.get(c.name).push(await measure(c, round))
    }
  }
  return results
}
