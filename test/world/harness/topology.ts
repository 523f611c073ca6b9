// Network namespaces of a VPC world: laptop — veth — ecs — veth — vpc, named `acrw<pid36>-<seq36>-<role>`, with
// per-namespace /etc/netns/<ns>/{hosts,resolv.conf}. The pid in the name lets sweepStaleWorlds() tell a leftover of a
// crashed run (pid gone) from a world another live process is using.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ipSync } from './processes.js'

export type WorldRole = 'laptop' | 'ecs' | 'vpc'
export const WORLD_ROLES: readonly WorldRole[] = ['laptop', 'ecs', 'vpc']

export const WORLD_PREFIX = 'acrw'
const NS_PATTERN = /^acrw([0-9a-z]+)-([0-9a-z]+)-(laptop|ecs|vpc)$/
const TMP_PATTERN = /^acrw([0-9a-z]+)-([0-9a-z]+)-/
export const NETNS_ETC = '/etc/netns'

/** Addresses inside the world (documentation / private ranges only, never routed outside the namespaces). */
export const WORLD_ADDRESSES = {
  laptop: '203.0.113.2',
  ecsPublic: '203.0.113.10',
  ecsVpc: '172.20.0.10',
  registry: '172.20.0.20',
  token: '172.20.0.21',
  oss: '172.20.0.22',
} as const

/** Interface names inside the namespaces (stable, so later tests can refer to them). */
export const WORLD_INTERFACES = {
  laptop: 'eth0',
  ecsPublic: 'pub0',
  ecsVpc: 'vpc0',
  vpc: 'eth0',
} as const

export interface Topology {
  base: string
  ns: Record<WorldRole, string>
}

let seq = 0

export function newBaseName(): string {
  const base = `${WORLD_PREFIX}${process.pid.toString(36)}-${(seq++).toString(36)}`
  // veth names are `${base}` + 2 chars and must stay within IFNAMSIZ-1 = 15
  if (base.length + 2 > 15) throw new Error(`world base name ${base} too long for interface names`)
  return base
}

export function tmpPrefix(base: string): string {
  return join(tmpdir(), `${base}-`)
}

export function hostsText(entries: ReadonlyArray<readonly [string, string]>): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback']
  for (const [address, name] of entries) lines.push(`${address}\t${name}`)
  return `${lines.join('\n')}\n`
}

/** The resolver points at the namespace's own loopback where nothing listens: no query ever leaves the world. */
export const RESOLV_CONF = '# acr-bridge VPC world: no DNS server, nothing leaks to real DNS\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n'

function sysctlIn(ns: string, key: string, value: string): void {
  ipSync(['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`])
}

/**
 * Create the three namespaces, their /etc/netns files and the two veth links. On any failure, whatever was
 * created is removed before the error propagates.
 */
export function createTopology(base: string, hosts: Record<WorldRole, string>): Topology {
  const ns: Record<WorldRole, string> = {
    laptop: `${base}-laptop`,
    ecs: `${base}-ecs`,
    vpc: `${base}-vpc`,
  }
  const topo: Topology = { base, ns }
  try {
    for (const role of WORLD_ROLES) {
      const dir = join(NETNS_ETC, ns[role])
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'hosts'), hosts[role])
      writeFileSync(join(dir, 'resolv.conf'), RESOLV_CONF)
      ipSync(['netns', 'add', ns[role]])
      ipSync(['-n', ns[role], 'link', 'set', 'lo', 'up'])
    }
    // laptop <-> ecs (public side), ecs <-> vpc; created directly inside the namespaces, then renamed
    ipSync(['link', 'add', `${base}le`, 'netns', ns.laptop, 'type', 'veth', 'peer', 'name', `${base}el`, 'netns', ns.ecs])
    ipSync(['link', 'add', `${base}ev`, 'netns', ns.ecs, 'type', 'veth', 'peer', 'name', `${base}ve`, 'netns', ns.vpc])
    ipSync(['-n', ns.laptop, 'link', 'set', `${base}le`, 'name', WORLD_INTERFACES.laptop])
    ipSync(['-n', ns.ecs, 'link', 'set', `${base}el`, 'name', WORLD_INTERFACES.ecsPublic])
    ipSync(['-n', ns.ecs, 'link', 'set', `${base}ev`, 'name', WORLD_INTERFACES.ecsVpc])
    ipSync(['-n', ns.vpc, 'link', 'set', `${base}ve`, 'name', WORLD_INTERFACES.vpc])

    const A = WORLD_ADDRESSES
    ipSync(['-n', ns.laptop, 'addr', 'add', `${A.laptop}/24`, 'dev', WORLD_INTERFACES.laptop])
    ipSync(['-n', ns.ecs, 'addr', 'add', `${A.ecsPublic}/24`, 'dev', WORLD_INTERFACES.ecsPublic])
    ipSync(['-n', ns.ecs, 'addr', 'add', `${A.ecsVpc}/24`, 'dev', WORLD_INTERFACES.ecsVpc])
    for (const a of [A.registry, A.token, A.oss]) {
      ipSync(['-n', ns.vpc, 'addr', 'add', `${a}/24`, 'dev', WORLD_INTERFACES.vpc])
    }
    ipSync(['-n', ns.laptop, 'link', 'set', WORLD_INTERFACES.laptop, 'up'])
    ipSync(['-n', ns.ecs, 'link', 'set', WORLD_INTERFACES.ecsPublic, 'up'])
    ipSync(['-n', ns.ecs, 'link', 'set', WORLD_INTERFACES.ecsVpc, 'up'])
    ipSync(['-n', ns.vpc, 'link', 'set', WORLD_INTERFACES.vpc, 'up'])
    // The ECS is a host, not a router.
    sysctlIn(ns.ecs, 'net.ipv4.ip_forward', '0')
    sysctlIn(ns.ecs, 'net.ipv6.conf.all.forwarding', '0')
    // No default routes anywhere: the laptop knows only 203.0.113.0/24, the VPC only 172.20.0.0/24.
    return topo
  } catch (e) {
    destroyTopologySync(topo)
    throw e
  }
}

/** Kill every process still inside the namespaces (all started by this world), delete them and their /etc/netns dirs. */
export function destroyTopologySync(topo: Topology): void {
  for (const role of WORLD_ROLES) removeNamespaceSync(topo.ns[role])
}

function removeNamespaceSync(name: string): void {
  if (!NS_PATTERN.test(name)) throw new Error(`refusing to remove namespace ${name}: not a VPC-world name`)
  const present = listNamespaces().includes(name)
  if (present) {
    const pids = ipSync(['netns', 'pids', name], true).stdout.split(/\s+/).filter(Boolean).map(Number)
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
    ipSync(['netns', 'del', name], true)
  }
  rmSync(join(NETNS_ETC, name), { recursive: true, force: true })
}

export function listNamespaces(): string[] {
  return ipSync(['netns', 'list'], true)
    .stdout.split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean)
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function ownerDead(pid36: string): boolean {
  const pid = parseInt(pid36, 36)
  return Number.isFinite(pid) && pid > 0 && pid !== process.pid && !pidAlive(pid)
}

/**
 * Remove leftovers of earlier VPC worlds whose owning process is gone: namespaces (and the processes still in
 * them), /etc/netns dirs and temp dirs named with the `acrw` prefix. Worlds of live processes are left alone.
 * Returns what was removed.
 */
export function sweepStaleWorlds(): string[] {
  const removed: string[] = []
  for (const name of listNamespaces()) {
    const m = NS_PATTERN.exec(name)
    if (m && ownerDead(m[1]!)) {
      removeNamespaceSync(name)
      removed.push(`netns ${name}`)
    }
  }
  if (existsSync(NETNS_ETC)) {
    for (const name of readdirSync(NETNS_ETC)) {
      const m = NS_PATTERN.exec(name)
      if (m && ownerDead(m[1]!)) {
        rmSync(join(NETNS_ETC, name), { recursive: true, force: true })
        removed.push(`${NETNS_ETC}/${name}`)
      }
    }
  }
  for (const name of readdirSync(tmpdir())) {
    const m = TMP_PATTERN.exec(name)
    if (m && name.startsWith(WORLD_PREFIX) && ownerDead(m[1]!)) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true })
      removed.push(join(tmpdir(), name))
    }
  }
  return removed
}
