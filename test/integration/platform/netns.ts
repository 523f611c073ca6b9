// A throw-away network namespace for the Linux platform tests: named `acrp<pid36>-<seq36>` (the pid lets a later
// run remove what a crashed one left), with its own /etc/netns/<ns>/hosts (bind-mounted over /etc/hosts inside it by
// `ip netns exec`) and a resolv.conf that sends DNS nowhere. Everything runs with argument arrays, never a shell
// string; every process started in it is killed and the namespace deleted by dispose(), on every path.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, promises as fs, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const prefix = 'acrp'
const namePattern = /^acrp([0-9a-z]+)-([0-9a-z]+)$/
const netnsEtc = '/etc/netns'
let sequence = 0

export interface CommandResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a program to completion with an argument array; bounded. */
export function run(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.on('error', () => {})
    child.stdin.end(options.input ?? '')
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}\n${error.message}` })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

function ipSync(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('ip', [...args], { encoding: 'utf8', timeout: 30_000 })
  if (result.error) throw new Error(`ip could not run (is iproute2 installed?): ${result.error.message}`)
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function removeNamespaceSync(name: string): void {
  if (!namePattern.test(name)) throw new Error(`refusing to remove namespace ${name}: not a platform-test name`)
  const listed = ipSync(['netns', 'list']).stdout.split('\n').map((line) => line.trim().split(/\s+/)[0])
  if (listed.includes(name)) {
    for (const pid of ipSync(['netns', 'pids', name]).stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
    ipSync(['netns', 'del', name])
  }
  rmSync(join(netnsEtc, name), { recursive: true, force: true })
}

/** Removes namespaces (and their /etc/netns folders) of earlier runs whose process is gone. */
export function sweepStaleNamespaces(): void {
  const names = new Set<string>(ipSync(['netns', 'list']).stdout.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? ''))
  if (existsSync(netnsEtc)) for (const name of readdirSync(netnsEtc)) names.add(name)
  for (const name of names) {
    const match = namePattern.exec(name)
    if (match === null) continue
    const pid = parseInt(match[1] ?? '', 36)
    if (pid !== process.pid && !pidAlive(pid)) removeNamespaceSync(name)
  }
}

export interface Namespace {
  readonly name: string
  /** The file `ip netns exec` shows as /etc/hosts inside the namespace. */
  readonly hostsPath: string
  exec(file: string, args: readonly string[], options?: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<CommandResult>
  /** Starts a long-running program inside; killed by dispose(). */
  spawn(file: string, args: readonly string[], options?: { env?: NodeJS.ProcessEnv }): ChildProcess
  /** IPv4 addresses inside the namespace (`ip -o -4 addr`). */
  addresses(): Promise<string[]>
  dispose(): Promise<void>
}

export async function createNamespace(hosts: string): Promise<Namespace> {
  const name = `${prefix}${process.pid.toString(36)}-${(sequence++).toString(36)}`
  const etc = join(netnsEtc, name)
  const children = new Set<ChildProcess>()
  await fs.mkdir(etc, { recursive: true })
  try {
    await fs.writeFile(join(etc, 'hosts'), hosts)
    await fs.writeFile(join(etc, 'resolv.conf'), '# acr-bridge platform test: no DNS server\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
    const added = ipSync(['netns', 'add', name])
    if (added.status !== 0) throw new Error(`ip netns add ${name} failed: ${added.stderr.trim()} (the platform tests need root)`)
    const up = ipSync(['-n', name, 'link', 'set', 'lo', 'up'])
    if (up.status !== 0) throw new Error(`ip -n ${name} link set lo up failed: ${up.stderr.trim()}`)
  } catch (error) {
    removeNamespaceSync(name)
    throw error
  }
  const namespace: Namespace = {
    name,
    hostsPath: join(etc, 'hosts'),
    exec(file, args, options) {
      return run('ip', ['netns', 'exec', name, file, ...args], options)
    },
    spawn(file, args, options = {}) {
      const child = spawn('ip', ['netns', 'exec', name, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env })
      children.add(child)
      child.on('close', () => children.delete(child))
      child.on('error', () => children.delete(child))
      return child
    },
    async addresses() {
      const result = await run('ip', ['-n', name, '-o', '-4', 'addr'])
      return [...result.stdout.matchAll(/ inet ([0-9.]+)\//g)].map((match) => match[1] ?? '')
    },
    async dispose() {
      for (const child of children) child.kill('SIGKILL')
      await Promise.all(
        [...children].map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve())))),
      )
      removeNamespaceSync(name)
    },
  }
  return namespace
}

/** What the tests compare byte for byte before and after: rules, addresses, the hosts file. */
export interface SystemSnapshot {
  readonly nft: string
  readonly iptables: string
  readonly addresses: string
  readonly hosts: Buffer
}

export async function snapshot(namespace: Namespace): Promise<SystemSnapshot> {
  const nft = await namespace.exec('nft', ['list', 'ruleset'])
  if (nft.code !== 0) throw new Error(`nft list ruleset failed: ${nft.stderr}`)
  const iptables = await namespace.exec('iptables-save', [])
  if (iptables.code !== 0) throw new Error(`iptables-save failed: ${iptables.stderr}`)
  const addresses = await run('ip', ['-n', namespace.name, 'addr'])
  if (addresses.code !== 0) throw new Error(`ip addr failed: ${addresses.stderr}`)
  return {
    nft: nft.stdout,
    // Only the timestamp comments differ between two runs of iptables-save.
    iptables: iptables.stdout.split('\n').filter((line) => !/^# (Generated by|Completed on) /.test(line)).join('\n'),
    addresses: addresses.stdout,
    hosts: await fs.readFile(namespace.hostsPath),
  }
}

/**
 * Which parts of two snapshots differ ('nft', 'iptables', 'addresses', 'hosts'), in that order: `[]` when the machine
 * is byte for byte as before. A test asserts `toEqual([])`, and a failure names what was left behind.
 */
export function differences(before: SystemSnapshot, after: SystemSnapshot): string[] {
  const differing: string[] = []
  if (after.nft !== before.nft) differing.push('nft')
  if (after.iptables !== before.iptables) differing.push('iptables')
  if (after.addresses !== before.addresses) differing.push('addresses')
  if (!after.hosts.equals(before.hosts)) differing.push('hosts')
  return differing
}

/** curl inside the namespace (never through a proxy, 10 s at most), with `path` as PATH. */
export async function curl(namespace: Namespace, args: readonly string[], path = process.env['PATH'] ?? '/usr/bin:/bin'): Promise<{ code: number | null; body: string; stderr: string }> {
  const result = await namespace.exec('curl', ['-sS', '--max-time', '10', '--noproxy', '*', ...args], { env: { PATH: path } })
  return { code: result.code, body: result.stdout, stderr: result.stderr }
}

/** Splits a generated POSIX script into its header and its step sections (blank-line separated). */
export function scriptSections(script: string): { header: string; sections: string[] } {
  const [header, ...sections] = script.split('\n\n')
  return { header: header ?? '', sections: sections.map((section) => section.replace(/\n+$/, '')).filter((section) => section.length > 0) }
}

export interface RecordedRun {
  readonly command: string
  readonly script: string
}

/**
 * An Elevator whose "administrator" is root inside the namespace: it runs the fixed command line the way
 * @vscode/sudo-prompt does (through bash -c), but inside `ip netns exec`, so every rule and address the script makes
 * lands in the test's namespace, never on this machine. Records each command and its script.
 */
export function namespaceElevator(namespace: Namespace): { run(command: string): Promise<{ stdout: string; stderr: string }>; readonly runs: RecordedRun[] } {
  const runs: RecordedRun[] = []
  return {
    runs,
    async run(command) {
      const match = /^\/bin\/sh '([^']+)'$/.exec(command)
      if (match?.[1] === undefined) throw new Error(`namespace elevator: unexpected command ${command}`)
      runs.push({ command, script: await fs.readFile(match[1], 'utf8') })
      const result = await namespace.exec('/bin/bash', ['-c', command])
      if (result.code !== 0) {
        throw Object.assign(new Error(`Command failed: ${result.stderr.trim()}`), { code: result.code, stdout: result.stdout, stderr: result.stderr })
      }
      return { stdout: result.stdout, stderr: result.stderr }
    },
  }
}
