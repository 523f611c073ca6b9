import { isIP } from 'node:net'
import { BridgeError } from '../errors.js'
import { normalizeDnsName } from '../tunnel/dns-name.js'

// The relay's name allow-list. A pattern is an exact DNS name (`registry-vpc.cn-beijing.aliyuncs.com`) or `*.`
// followed by a suffix of at least two labels (`*.aliyuncs.com`); `*.` stands for ONE OR MORE labels, so
// `*.aliyuncs.com` matches `a.aliyuncs.com` and `a.b.aliyuncs.com` but not `aliyuncs.com` itself. Matching is
// case-insensitive and ignores one trailing dot. A bare `*` or a one-label suffix (`*.com`) is refused: that would
// turn the relay back into an open proxy.

export const defaultAllowPatterns: readonly string[] = ['*.aliyuncs.com']

export interface AllowList {
  readonly patterns: readonly string[]
  /** `name` must already be normalized (tunnel/dns-name.ts normalizeDnsName). */
  matches(name: string): boolean
}

/**
 * True for anything a resolver could read as an address rather than a name: real IP literals (`10.0.0.1`, `::1`)
 * and the legacy inet_aton forms getaddrinfo still accepts (`2130706433`, `0x7f.1`, `127.1`): their last label is
 * numeric, which no DNS name under a real top-level domain is.
 */
export function isAddressLiteral(name: string): boolean {
  let text = name
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1)
  if (isIP(text) !== 0) return true
  const percent = text.indexOf('%')
  if (percent !== -1 && isIP(text.slice(0, percent)) !== 0) return true
  const trimmed = text.endsWith('.') ? text.slice(0, -1) : text
  const last = trimmed.slice(trimmed.lastIndexOf('.') + 1)
  return /^(?:\d+|0x[0-9a-f]*)$/i.test(last)
}

/** Validates and compiles the patterns; a bad pattern is an INVALID_CONFIG BridgeError naming `allow[i]`. */
export function compileAllowList(patterns: readonly string[] = defaultAllowPatterns): AllowList {
  if (patterns.length === 0) {
    throw new BridgeError('INVALID_CONFIG', 'The relay allow-list is empty, so it would refuse every name.', {
      field: 'allow',
      hint: "Pass at least one --allow pattern, for example '*.aliyuncs.com'.",
    })
  }
  const exact = new Set<string>()
  const suffixes: string[] = []
  patterns.forEach((pattern, index) => {
    const field = `allow[${index}]`
    const wildcard = pattern.startsWith('*.')
    const rest = wildcard ? pattern.slice(2) : pattern
    const normalized = normalizeDnsName(rest)
    if (normalized === undefined || rest.includes('*') || isAddressLiteral(rest)) {
      throw new BridgeError('INVALID_CONFIG', `The allow pattern ${JSON.stringify(pattern)} is not a DNS name or '*.' plus a DNS name.`, {
        field,
        hint: "Use an exact host name or a pattern such as '*.aliyuncs.com'; IP addresses are never allowed.",
      })
    }
    if (wildcard && !normalized.includes('.')) {
      throw new BridgeError('INVALID_CONFIG', `The allow pattern ${JSON.stringify(pattern)} covers a whole top-level domain.`, {
        field,
        hint: "Name at least two labels after '*.', for example '*.aliyuncs.com'.",
      })
    }
    if (wildcard) suffixes.push(`.${normalized}`)
    else exact.add(normalized)
  })
  return {
    patterns: [...patterns],
    matches(name: string): boolean {
      if (exact.has(name)) return true
      return suffixes.some((suffix) => name.length > suffix.length && name.endsWith(suffix))
    },
  }
}
