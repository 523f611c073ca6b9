import { createHash, timingSafeEqual } from 'node:crypto'
import { classifyAddress, type AddressClass } from './address-class.js'
import { isAddressLiteral, type AllowList } from './allow-list.js'
import type { RefusalReason, ResolvedAddress } from './types.js'

// The relay's decisions, kept free of sockets so that they can be tested as tables.

export type Verdict<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: RefusalReason }

/** `name` as the head parsers return it (already a normalized DNS name). */
export function judgeName(name: string, allow: AllowList): Verdict<string> {
  if (isAddressLiteral(name)) return { ok: false, reason: 'ip-literal' }
  if (!allow.matches(name)) return { ok: false, reason: 'not-allowed' }
  return { ok: true, value: name }
}

/**
 * Every address a name resolved to must be ordinary (or an explicitly allowed loopback address); one bad
 * address refuses the whole name, so a resolver cannot smuggle 127.0.0.1 or 100.100.100.200 in next to a good
 * answer. Returns the addresses to dial, in the resolver's order.
 */
export function judgeAddresses(
  addresses: readonly ResolvedAddress[],
  isAllowedLoopback: (address: string) => boolean = () => false,
): Verdict<readonly string[]> {
  if (addresses.length === 0) return { ok: false, reason: 'resolve-failed' }
  for (const { address } of addresses) {
    const kind = classifyAddress(address)
    if (kind === 'ordinary') continue
    if (kind === 'loopback' && isAllowedLoopback(address)) continue
    return { ok: false, reason: refusalFor(kind) }
  }
  return { ok: true, value: addresses.map((a) => a.address) }
}

function refusalFor(kind: Exclude<AddressClass, 'ordinary'>): RefusalReason {
  return `resolves-to-${kind}`
}

/** Ports a CONNECT request may name. */
export const connectPorts: ReadonlySet<number> = new Set([443, 80])

export type AuthVerdict = 'ok' | 'auth-missing' | 'auth-failed'

/**
 * Checks a Proxy-Authorization value: `Basic base64(<anything>:<token>)` or `Bearer <token>`. Both sides are
 * hashed to a fixed length first, so the comparison takes the same time whatever the guess is.
 */
export function checkProxyAuthorization(value: string | undefined, token: string): AuthVerdict {
  if (value === undefined || value.trim() === '') return 'auth-missing'
  const match = /^([A-Za-z]+)[ \t]+(\S+)[ \t]*$/.exec(value.trim())
  if (match === null) return 'auth-failed'
  const scheme = match[1]!.toLowerCase()
  const credentials = match[2]!
  let offered: string
  if (scheme === 'bearer') {
    offered = credentials
  } else if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(credentials)) return 'auth-failed'
    const decoded = Buffer.from(credentials, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon === -1) return 'auth-failed'
    offered = decoded.slice(colon + 1)
  } else {
    return 'auth-failed'
  }
  return safeEqual(offered, token) ? 'ok' : 'auth-failed'
}

function safeEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest()
  const digestB = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(digestA, digestB)
}
