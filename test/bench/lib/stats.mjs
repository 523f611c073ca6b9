// Small statistics for benchmarks: medians, percentiles, and number formatting for tables.

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values) {
  return percentile(values, 50)
}

/**
 * The p-th percentile (0–100) by linear interpolation between closest ranks (the "R-7" rule that spreadsheets
 * use); NaN when empty.
 */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = (p / 100) * (sorted.length - 1)
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low)
}

export function mean(values) {
  if (values.length === 0) return Number.NaN
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/** `value` with `digits` decimals, or '–' for a missing or non-finite value. */
export function fmt(value, digits = 1) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–'
}

/** Bytes per millisecond-interval as MiB/s. */
export function mibPerSecond(bytes, ms) {
  return bytes / (1024 * 1024) / (ms / 1000)
}

/**
 * The median of the per-round ratios `samples[i] / reference[i]` (rounds where either is not a finite number are
 * left out): a ratio of two paths measured in the same round, back to back, is not moved by the machine getting
 * faster or slower between rounds the way a ratio of two medians is. NaN when no round has both.
 */
export function pairedRatio(samples, reference) {
  const ratios = []
  const rounds = Math.min(samples?.length ?? 0, reference?.length ?? 0)
  for (let i = 0; i < rounds; i++) {
    const a = samples[i]
    const b = reference[i]
    if (Number.isFinite(a) && Number.isFinite(b) && b > 0) ratios.push(a / b)
  }
  return median(ratios)
}
