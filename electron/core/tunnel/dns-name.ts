// Host names as the tunnel accepts them from the wire (SNI, Host header, CONNECT target).

const labelPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * Lowercases `raw` and drops one trailing dot; returns undefined unless the result is a valid DNS host name:
 * 1–253 characters, labels of 1–63 letters, digits and inner hyphens, a last label that is not all digits
 * (so IPv4 literals are not names).
 */
export function normalizeDnsName(raw: string): string | undefined {
  let name = raw.toLowerCase()
  if (name.endsWith('.')) name = name.slice(0, -1)
  if (name.length === 0 || name.length > 253) return undefined
  const labels = name.split('.')
  for (const label of labels) {
    if (!labelPattern.test(label)) return undefined
  }
  const last = labels[labels.length - 1] ?? ''
  if (/^[0-9]+$/.test(last)) return undefined
  return name
}
