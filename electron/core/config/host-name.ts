// The ONE host-name check: every name that can reach the hosts file, the tunnel's allow-list or a log line passes
// through here. Pure (no node: imports) so any layer may use it.

const maxNameLength = 253
const maxLabelLength = 63

/** Characters named explicitly in the problem text because they are dangerous in a shell or a hosts file. */
const metaCharacterNames: ReadonlyMap<string, string> = new Map([
  ['#', 'a "#" (starts a hosts-file comment)'],
  ['"', 'a double quote'],
  ["'", 'a single quote'],
  ['`', 'a backtick'],
  ['$', 'a "$"'],
  [';', 'a ";"'],
  ['|', 'a "|"'],
  ['&', 'an "&"'],
  ['<', 'a "<"'],
  ['>', 'a ">"'],
  ['(', 'a "("'],
  [')', 'a ")"'],
  ['\\', 'a backslash'],
])

/**
 * Checks that `name` is a plain DNS host name: ASCII letters, digits, hyphens and dots; RFC 1123 labels of 1-63
 * characters that neither start nor end with a hyphen; at most 253 characters; no trailing dot; and not an IP
 * address literal (a name whose labels are all numbers, including inet_aton forms such as `127.1` or `0x7f.1`).
 * Returns the problem as a phrase (`contains whitespace`), or undefined when the name is valid.
 */
export function validateHostName(name: string): string | undefined {
  if (typeof name !== 'string') return 'must be a string'
  if (name.length === 0) return 'is empty'
  if (name.length > maxNameLength) return `is longer than ${maxNameLength} characters`
  for (const char of name) {
    const problem = characterProblem(char)
    if (problem !== undefined) return problem
  }
  if (name.endsWith('.')) return 'ends with a dot (write the name without it)'
  const labels = name.split('.')
  for (const label of labels) {
    if (label.length === 0) return 'has an empty label (two dots in a row, or a leading dot)'
    if (label.length > maxLabelLength) return `has a label longer than ${maxLabelLength} characters`
    if (label.startsWith('-') || label.endsWith('-')) return 'has a label that starts or ends with a hyphen'
  }
  if (labels.every((label) => /^(?:[0-9]+|0x[0-9a-f]*)$/i.test(label)) || /^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return 'is an IP address or looks like one (a host name is required)'
  }
  return undefined
}

function characterProblem(char: string): string | undefined {
  if (/^[A-Za-z0-9.-]$/.test(char)) return undefined
  const code = char.codePointAt(0) ?? 0
  if (code === 0) return 'contains a NUL character'
  if (char === '\n' || char === '\r') return 'contains a line break'
  if (char === ' ' || char === '\t' || char === '\v' || char === '\f') return 'contains whitespace'
  if (code < 0x20 || code === 0x7f) return 'contains a control character'
  if (code > 0x7f) {
    const hex = code.toString(16).toUpperCase().padStart(4, '0')
    return /\s/u.test(char)
      ? `contains whitespace (U+${hex})`
      : `contains the non-ASCII character U+${hex} (use the ASCII "xn--" form of an internationalised name)`
  }
  const named = metaCharacterNames.get(char)
  if (named !== undefined) return `contains ${named}`
  return `contains "${char}", which is not allowed in a host name`
}
