// Types of interleave.mjs, for the unit tests that import it.

export interface NamedCase {
  readonly name: string
  readonly group?: string
}

export function interleave<C extends NamedCase, V>(
  cases: readonly C[],
  rounds: number,
  measure: (c: C, round: number) => Promise<V>,
  onRound?: (round: number) => void,
): Promise<Map<string, V[]>>

export function interleaveGroups<C extends NamedCase, V>(
  groups: readonly (readonly C[])[],
  rounds: number,
  measure: (c: C, round: number) => Promise<V>,
  onRound?: (round: number) => void,
): Promise<Map<string, V[]>>

export function rotated<T>(list: readonly T[], by: number): T[]

export function groupCases<C extends NamedCase>(cases: readonly C[]): C[][]
