// Interleaved rounds: every round runs every case once, the order rotated from round to round, so slow drift
// (thermal, other load on the machine, caches) spreads over all cases instead of favouring one.

/**
 * Runs `rounds` rounds over `cases` (objects with a `name`), calling `measure(case, roundIndex)` for each, in an
 * order rotated by one each round. Resolves with a Map name → array of the values `measure` returned, in round
 * order. `onRound(roundIndex)` is called before each round (progress output).
 */
export async function interleave(cases, rounds, measure, onRound) {
  return interleaveGroups(
    cases.map((c) => [c]),
    rounds,
    measure,
    onRound,
  )
}

/**
 * As interleave, for cases that are compared with each other: the cases of one group (an array) always run back
 * to back, so a ratio between them is taken within seconds, not across a round in which the machine may have
 * sped up or slowed down (on this shared machine a path's throughput moved by 1.5x between rounds). Each round
 * rotates the order of the groups by one and the order inside each group by one, so no case always runs first.
 */
export async function interleaveGroups(groups, rounds, measure, onRound) {
  const results = new Map(groups.flat().map((c) => [c.name, []]))
  for (let round = 0; round < rounds; round++) {
    onRound?.(round)
    for (const group of rotated(groups, round)) {
      for (const c of rotated(group, round)) results.get(c.name).push(await measure(c, round))
    }
  }
  return results
}

/** `list` rotated left by `by` places (a copy). */
export function rotated(list, by) {
  if (list.length === 0) return []
  const k = by % list.length
  return [...list.slice(k), ...list.slice(0, k)]
}

/**
 * Groups `cases` by their `group` key, in the order the groups first appear; a case without one is a group of its
 * own.
 */
export function groupCases(cases) {
  const groups = []
  const byKey = new Map()
  for (const c of cases) {
    if (c.group === undefined) {
      groups.push([c])
      continue
    }
    let group = byKey.get(c.group)
    if (group === undefined) {
      group = []
      byKey.set(c.group, group)
      groups.push(group)
    }
    group.push(c)
  }
  return groups
}
