// Addresses and ports that end up in a privileged script (redirect rules, loopback aliases) are values the app
// chose itself. They are still checked here, parsed with net.isIP and printed again canonically, so that a value
// that is not exactly a dotted-quad IPv4 address or an integer port can never be rendered: that would be a bug.

import { isIP } from 'node:net'

/**
 * The default address for a loopback alias: RFC 2544's benchmark range 198.18.0.0/15 is reserved and never routed
 * on the Internet or used by LANs. We take the upper /16 (198.19/16) because Clash and Surge put their "fake IP"
 * answers in 198.18/16; and a host address far from .0/.1 that other tools like to pick.
 */
export const defaultAliasAddress = '198.19.82.17'

/** The dotted-quad form of an IPv4 address (no leading zeros), or undefined when `value` is not one. */
export function canonicalIpv4(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 15 || isIP(value) !== 4) return undefined
  const parts = value.split('.')
  if (parts.length !== 4) return undefined
  const printed = parts.map((part) => String(Number(part))).join('.')
  return printed === value ? printed : undefined
}

/** Throws (a bug: callers validate first) unless `value` is a canonical IPv4 address; returns it. */
export function assertCanonicalIpv4(value: unknown, what = 'address'): string {
  const canonical = canonicalIpv4(value)
  if (canonical === undefined) throw new Error(`privileged script: refusing ${what} ${JSON.stringify(value)}: not a canonical IPv4 address`)
  return canonical
}

/** Is `value` an integer TCP port (1-65535)? */
export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535
}

/** Throws (a bug) unless `value` is an integer port; returns it printed in decimal. */
export function assertPort(value: unknown, what = 'port'): string {
  if (!isPort(value)) throw new Error(`privileged script: refusing ${what} ${JSON.stringify(value)}: not an integer port`)
  return String(value)
}

/** 127.0.0.0/8. */
export function isLoopbackIpv4(address: string): boolean {
  return canonicalIpv4(address)?.startsWith('127.') === true
}

/** 169.254.0.0/16 (link-local: not a stable address to hand out). */
export function isLinkLocalIpv4(address: string): boolean {
  return canonicalIpv4(address)?.startsWith('169.254.') === true
}
