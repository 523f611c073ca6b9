// Facts that come from the machine (not from a setting), for chooseListenStrategy and the network watch: gathered
// here, read-only, so the strategy itself stays pure and testable.

import { promises as fs } from 'node:fs'
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { decodeHosts } from '../hosts/codec.js'
import { parseHosts, parseMappingLine } from '../hosts/document.js'
import { canonicalIpv4 } from './addresses.js'

/** The address Docker Desktop's own hosts section maps host.docker.internal to (it follows the LAN address). */
export function dockerDesktopHostAddress(hostsText: string): string | undefined {
  for (const line of parseHosts(hostsText).lines) {
    const mapping = parseMappingLine(line.text)
    if (mapping?.names.includes('host.docker.internal') === true) {
      const address = canonicalIpv4(mapping.address)
      if (address !== undefined) return address
    }
  }
  return undefined
}

/** Reads the hosts file (any encoding the hosts engine knows) for dockerDesktopHostAddress; undefined if unreadable. */
export async function readDockerDesktopHostAddress(hostsPath: string): Promise<string | undefined> {
  try {
    return dockerDesktopHostAddress(decodeHosts(await fs.readFile(hostsPath)).text)
  } catch {
    return undefined
  }
}

/** IPv4 addresses of interfaces that are up, not internal, in OS order (os.networkInterfaces by default). */
export function externalIpv4Addresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const out: string[] = []
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.family === 'IPv4' && !info.internal) out.push(info.address)
    }
  }
  return out
}

/**
 * Addresses of the interfaces that are up and not loopback, IPv4 and IPv6, sorted, without IPv6 link-local ones
 * (fe80::/10): every interface has one, container engines add and remove interfaces that carry only those with every
 * container, and no connection to a proxy ECS leaves from one.
 */
export function networkAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const found = new Set<string>()
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue
      if (info.family === 'IPv6' && /^fe[89ab]/i.test(info.address)) continue
      found.add(info.address)
    }
  }
  return [...found].sort()
}

/** Every IPv4 address this machine (this network namespace) has, loopback ones included. */
export function localIpv4Addresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const out: string[] = []
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) if (info.family === 'IPv4') out.push(info.address)
  }
  return out
}

/** Linux: net.ipv4.ip_unprivileged_port_start of this network namespace; undefined elsewhere or when unreadable. */
export async function readUnprivilegedPortStart(procRoot = '/proc'): Promise<number | undefined> {
  try {
    const text = await fs.readFile(`${procRoot}/sys/net/ipv4/ip_unprivileged_port_start`, 'utf8')
    const value = Number(text.trim())
    return Number.isInteger(value) ? value : undefined
  } catch {
    return undefined
  }
}
