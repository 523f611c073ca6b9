// Small pure formatters shared by the views.

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1
  return `${value.toFixed(digits)} ${units[unit]}`
}

/** An ISO time as a local clock time, or the input when it does not parse. */
export function formatTime(iso: string, locale: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return date.toLocaleTimeString(locale)
}
