import { isIP } from 'node:net'

// Which upstream addresses the relay may dial. A name is forwarded only when EVERY address it resolves to is
// 'ordinary'. Private VPC ranges (10/8, 172.16/12, 192.168/16) and 100.64.0.0/10 stay reachable on purpose:
// ACR Enterprise VPC endpoints resolve to VPC addresses and the OSS internal VIPs live in 100.64.0.0/10
// (100.118.58.0/24 in cn-beijing, ...). Only the single metadata address 100.100.100.200 is cut out of it.

export type AddressClass =
  | 'ordinary'
  | 'loopback' // 127.0.0.0/8, ::1
  | 'unspecified' // 0.0.0.0/8 ("this network"), ::
  | 'link-local' // 169.254.0.0/16, fe80::/10
  | 'metadata' // 100.100.100.200, Alibaba Cloud's instance metadata service (RAM role credentials)
  | 'multicast' // 224.0.0.0/4, ff00::/8
  | 'broadcast' // 255.255.255.255
  | 'reserved' // 240.0.0.0/4 (other than broadcast)
  | 'invalid' // not an IP address at all

export const metadataAddress = '100.100.100.200'

/**
 * Classifies one IP address (v4, v6, v4-mapped v6, an optional `%zone`). IPv6 forms that carry an IPv4 address
 * (::ffff:a.b.c.d, ::a.b.c.d, the NAT64 prefix 64:ff9b::/96) are judged by the IPv4 address they carry, so
 * `::ffff:127.0.0.1` is loopback and `64:ff9b::6464:64c8` is the metadata address.
 */
export function classifyAddress(address: string): AddressClass {
  const bare = stripZone(address)
  const family = isIP(bare)
  if (family === 4) {
    const v4 = parseIpv4(bare)
    return v4 === undefined ? 'invalid' : classifyIpv4(v4)
  }
  if (family === 6) {
    const v6 = parseIpv6(bare)
    return v6 === undefined ? 'invalid' : classifyIpv6(v6)
  }
  return 'invalid'
}

function stripZone(address: string): string {
  const percent = address.indexOf('%')
  return percent === -1 ? address : address.slice(0, percent)
}

/** Dotted quad to an unsigned 32-bit number; undefined unless exactly four decimal octets. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined
    const octet = Number(part)
    if (octet > 255) return undefined
    value = value * 256 + octet
  }
  return value
}

/** Eight 16-bit groups; handles `::` and a trailing dotted quad. undefined when malformed. */
export function parseIpv6(text: string): number[] | undefined {
  let hex = text
  const lastColon = hex.lastIndexOf(':')
  const last = hex.slice(lastColon + 1)
  if (last.includes('.')) {
    // rewrite a trailing dotted quad as two hex groups: ::ffff:127.0.0.1 → ::ffff:7f00:1
    const v4 = parseIpv4(last)
    if (v4 === undefined) return undefined
    hex = `${hex.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`
  }
  const halves = hex.split('::')
  if (halves.length > 2) return undefined
  const left = parseGroups(halves[0] ?? '')
  const right = parseGroups(halves[1] ?? '')
  if (left === undefined || right === undefined) return undefined
  if (halves.length === 1) return left.length === 8 ? left : undefined
  const missing = 8 - left.length - right.length
  if (missing < 1) return undefined
  return [...left, ...zeros(missing), ...right]
}

function parseGroups(part: string): number[] | undefined {
  if (part === '') return []
  const groups: number[] = []
  for (const group of part.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined
    groups.push(parseInt(group, 16))
  }
  return groups
}

function zeros(count: number): number[] {
  return count > 0 ? new Array<number>(count).fill(0) : []
}

function inRange(value: number, base: number, prefix: number): boolean {
  const size = 2 ** (32 - prefix)
  return value >= base && value < base + size
}

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a * 256 + b) * 256 + c) * 256 + d
}

function classifyIpv4(v: number): AddressClass {
  if (inRange(v, ipv4(127, 0, 0, 0), 8)) return 'loopback'
  if (inRange(v, ipv4(0, 0, 0, 0), 8)) return 'unspecified'
  if (inRange(v, ipv4(169, 254, 0, 0), 16)) return 'link-local'
  if (v === ipv4(100, 100, 100, 200)) return 'metadata'
  if (inRange(v, ipv4(224, 0, 0, 0), 4)) return 'multicast'
  if (v === ipv4(255, 255, 255, 255)) return 'broadcast'
  if (inRange(v, ipv4(240, 0, 0, 0), 4)) return 'reserved'
  return 'ordinary'
}

function classifyIpv6(g: number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 0) return 'unspecified'
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback'
  const embedded = g6 * 65536 + g7
  // ::ffff:a.b.c.d (v4-mapped) and ::a.b.c.d (deprecated v4-compatible)
  if (upperZero && (g5 === 0xffff || g5 === 0)) return classifyIpv4(embedded)
  // 64:ff9b::/96, the NAT64 well-known prefix: on a NAT64 network it reaches the embedded IPv4 address
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return classifyIpv4(embedded)
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local'
  if ((g0 & 0xff00) === 0xff00) return 'multicast'
  return 'ordinary'
}
