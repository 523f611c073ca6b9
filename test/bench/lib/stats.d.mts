// Types of stats.mjs, for the unit tests that import it.

export function median(values: readonly number[]): number
export function percentile(values: readonly number[], p: number): number
export function mean(values: readonly number[]): number
export function fmt(value: unknown, digits?: number): string
export function mibPerSecond(bytes: number, ms: number): number
export function pairedRatio(samples: readonly (number | null)[] | undefined, reference: readonly (number | null)[] | undefined): number
