// The `resolve` hop: the name resolves through the OS resolver (getaddrinfo, so the hosts file counts) to the listen
// address, and no earlier line of the hosts file maps it elsewhere (resolvers take the first match, so an earlier
// foreign line shadows our block).

import { lookup as dnsLookup } from 'node:dns/promises'
import { readFile } from 'node:fs/promises'
import type { CheckResult } from '../../common/status.js'
import type { HostEntry } from '../catalog/types.js'
import { errnoCode } from '../errors.js'
import { decodeHosts } from '../hosts/codec.js'
import { parseHosts, parseMappingLine } from '../hosts/document.js'
import { analyzeHosts } from '../hosts/hosts-block.js'
import { fail, pass } from './check-result.js'

export type Lookup = (name: string) => Promise<readonly { readonly address: string; readonly family: number }[]>

/** getaddrinfo through libuv, every address in the resolver's own order. */
export const systemLookup: Lookup = (name) => dnsLookup(name, { all: true, verbatim: true })

export interface HostsMapping {
  /** 1-based line number. */
  readonly line: number
  readonly address: string
}

export interface NameInHostsFile {
  /** The first active line that maps the name (what resolvers use). */
  readonly first: HostsMapping & { readonly ours: boolean }
  /** Our block's line for the name, if any. */
  readonly ours?: HostsMapping
}

/** For every name the file maps: its first mapping and our block's. Lines we commented out (take-over) do not count. */
export function hostsFileMappings(text: string): Map<string, NameInHostsFile> {
  const analysis = analyzeHosts(parseHosts(text))
  const seen: { line: number; address: string; name: string; ours: boolean }[] = []
  for (const pristine of analysis.pristine) {
    if (pristine.takenOver) continue
    const mapping = parseMappingLine(pristine.line.text)
    for (const name of mapping?.names ?? []) seen.push({ line: pristine.index + 1, address: mapping!.address, name, ours: false })
  }
  for (const entry of analysis.blockEntries) seen.push({ line: entry.line, address: entry.address, name: entry.name, ours: true })
  seen.sort((a, b) => a.line - b.line)
  const out = new Map<string, NameInHostsFile>()
  for (const item of seen) {
    const current = out.get(item.name)
    if (current === undefined) {
      out.set(item.name, {
        first: { line: item.line, address: item.address, ours: item.ours },
        ...(item.ours ? { ours: { line: item.line, address: item.address } } : {}),
      })
    } else if (item.ours && current.ours === undefined) {
      out.set(item.name, { ...current, ours: { line: item.line, address: item.address } })
    }
  }
  return out
}

/** Reads and decodes the hosts file; undefined (with the errno) when it cannot be read. */
export async function readHostsText(path: string, read: (path: string) => Promise<Uint8Array> = readFile): Promise<{ text: string } | { error: string }> {
  try {
    return { text: decodeHosts(await read(path)).text }
  } catch (error) {
    return { error: errnoCode(error) ?? (error instanceof Error ? error.message : 'error') }
  }
}

export interface ResolveProbeOptions {
  readonly lookup?: Lookup
  /** What hostsFileMappings found; undefined when the file could not be read. */
  readonly mappings?: ReadonlyMap<string, NameInHostsFile>
  /** For messages. */
  readonly hostsPath: string
  readonly timeoutMs: number
}

const upHint = 'Run `acr-bridge up` (or `acr-bridge apply`) so the hosts block maps it.'

export async function probeResolve(entry: HostEntry, options: ResolveProbeOptions): Promise<CheckResult> {
  const name = entry.name
  const want = entry.address
  const lookup = options.lookup ?? systemLookup
  const inFile = options.mappings?.get(name.toLowerCase())
  const started = performance.now()
  let addresses: readonly string[] | undefined
  let lookupError: string | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const result = await Promise.race([
      lookup(name),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })), options.timeoutMs)
        timer.unref?.()
      }),
    ])
    addresses = result.map((r) => r.address)
  } catch (error) {
    lookupError = errnoCode(error) ?? 'error'
  } finally {
    clearTimeout(timer)
  }
  const ms = performance.now() - started

  if (inFile !== undefined && !inFile.first.ours && inFile.first.address !== want) {
    return fail(
      name,
      'resolve',
      `line ${inFile.first.line} of ${options.hostsPath} maps ${name} to ${inFile.first.address}${inFile.ours === undefined ? '' : `, before the acr-bridge block (line ${inFile.ours.line})`}: resolvers use the first match`,
      `Remove or comment out line ${inFile.first.line} of ${options.hostsPath} (or set hosts.takeOver so acr-bridge comments it out while it runs), then apply again.`,
      ms,
    )
  }
  if (inFile?.ours !== undefined && inFile.ours.address !== want) {
    return fail(name, 'resolve', `the acr-bridge block maps ${name} to ${inFile.ours.address}, not the listen address ${want}`, 'Apply the hosts block again (`acr-bridge up` rewrites it for the current listen address).', ms)
  }
  if (addresses === undefined || addresses.length === 0) {
    if (inFile?.ours !== undefined) {
      return fail(name, 'resolve', `the hosts file maps ${name} (line ${inFile.ours.line}), but the resolver does not find it (${lookupError ?? 'no address'})`, 'Check that the system resolver reads the hosts file (nsswitch.conf "files"), and flush its cache.', ms)
    }
    return fail(name, 'resolve', `${name} does not resolve (${lookupError ?? 'no address'}): the hosts file does not map it`, upHint, ms)
  }
  const first = addresses[0] as string
  if (first === want) {
    const where = inFile === undefined ? '' : ` (${options.hostsPath} line ${inFile.first.line})`
    return pass(name, 'resolve', `resolves to ${want}${where}`, ms)
  }
  if (inFile?.ours !== undefined) {
    return fail(name, 'resolve', `resolves to ${first}, although the hosts file maps it to ${want} (line ${inFile.ours.line})`, 'Flush the resolver cache (macOS: `sudo dscacheutil -flushcache; sudo killall -HUP mDNSResponder`; Windows: `ipconfig /flushdns`) and check that the resolver reads the hosts file.', ms)
  }
  if (options.mappings === undefined) {
    return fail(name, 'resolve', `resolves to ${first}, not the listen address ${want} (the hosts file could not be read)`, upHint, ms)
  }
  return fail(name, 'resolve', `resolves to ${first} through DNS: the hosts file does not map it`, upHint, ms)
}
