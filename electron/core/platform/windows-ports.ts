// Windows: who holds the port the tunnel wants (ACR-FACTS.md §6). HTTP.sys (the kernel HTTP service behind IIS,
// WinRM, WCF, SSRS, BITS…) shows up in netstat as PID 4 "System"; `netsh http show servicestate view=requestq`
// names the process that registered the URL, and `tasklist /svc` the program and service behind a PID.
//
// The parsers are pure and tested on sample output; findWindowsPortHolders runs the three commands with argument
// arrays (no shell) through an injected runner and turns the answer into a PORT_IN_USE BridgeError that says who
// and what to do.

import { execFile } from 'node:child_process'
import { BridgeError } from '../errors.js'
import { formatHostPort } from '../tunnel/listen.js'

/** Runs a program with an argument array (never a shell); stdout, or undefined when it failed or is missing. */
export type RunProgram = (file: string, args: readonly string[]) => Promise<string | undefined>

export const runProgram: RunProgram = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: 10_000, windowsHide: true, maxBuffer: 4 * 1024 * 1024, shell: false }, (error, stdout) => {
      resolve(error === null ? stdout : undefined)
    })
  })

export interface TcpListener {
  /** The local address as netstat prints it, without brackets: 0.0.0.0, ::, 127.0.0.1, … */
  readonly address: string
  readonly port: number
  readonly pid: number
}

/** The PID Windows shows for sockets owned by the kernel, HTTP.sys's among them. */
export const systemPid = 4

function splitLines(text: string): string[] {
  return text.split(/\r?\n/)
}

function parseEndpoint(text: string): { address: string; port: number } | undefined {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text)
  if (match === null) return undefined
  const port = Number(match[2])
  if (port > 65535) return undefined
  // netstat prints IPv6 scope ids (%12): the address without them is what matters here.
  return { address: (match[1] ?? '').replace(/%\d+$/, ''), port }
}

/**
 * Listening TCP sockets from `netstat -ano` (IPv4 and IPv6). The state column is localized on some Windows
 * editions, so a listener is recognised by its foreign address (0.0.0.0:0 or [::]:0) instead.
 */
export function parseNetstatListeners(text: string): TcpListener[] {
  const listeners: TcpListener[] = []
  for (const line of splitLines(text)) {
    const columns = line.trim().split(/\s+/)
    if (columns.length < 4 || columns[0]?.toUpperCase() !== 'TCP') continue
    const local = parseEndpoint(columns[1] ?? '')
    const foreign = columns[2] ?? ''
    const pid = Number(columns[columns.length - 1])
    if (local === undefined || !Number.isInteger(pid)) continue
    if (foreign !== '0.0.0.0:0' && foreign !== '[::]:0' && foreign !== '*:*') continue
    listeners.push({ address: local.address, port: local.port, pid })
  }
  return listeners
}

export interface HttpSysQueue {
  /** "Request queue is unnamed." or the queue's name (IIS app pools name theirs). */
  readonly name: string
  readonly pids: readonly number[]
  /** Registered URL prefixes, as printed (HTTP://+:80/WSMAN/). */
  readonly urls: readonly string[]
}

/** Reads `netsh http show servicestate view=requestq`: one entry per request queue, with its processes and URLs. */
export function parseHttpServiceState(text: string): HttpSysQueue[] {
  const queues: { name: string; pids: number[]; urls: string[] }[] = []
  let current: { name: string; pids: number[]; urls: string[] } | undefined
  let list: 'pids' | 'urls' | undefined
  let listIndent = -1
  // A queue's URL groups repeat "Request queue name:" deeper down: only a header at the top level starts a queue.
  let topIndent: number | undefined
  for (const raw of splitLines(text)) {
    if (raw.trim() === '') continue
    const indent = raw.length - raw.trimStart().length
    const line = raw.trim()
    if (list !== undefined && indent > listIndent && current !== undefined) {
      if (list === 'pids' && /^\d+$/.test(line)) {
        current.pids.push(Number(line))
        continue
      }
      if (list === 'urls' && /^https?:\/\//i.test(line)) {
        current.urls.push(line)
        continue
      }
    }
    list = undefined
    const queue = /^Request queue name:\s*(.*)$/i.exec(line)
    if (queue !== null && (topIndent === undefined || indent <= topIndent)) {
      topIndent = indent
      current = { name: (queue[1] ?? '').trim(), pids: [], urls: [] }
      queues.push(current)
      continue
    }
    if (/^Process IDs:$/i.test(line)) {
      list = 'pids'
      listIndent = indent
    } else if (/^Registered URLs:$/i.test(line)) {
      list = 'urls'
      listIndent = indent
    }
  }
  return queues
}

/** The port of a registered URL prefix (HTTP://+:80/x/ → 80, https://*:443/ → 443, HTTP://host/ → 80). */
export function urlPrefixPort(url: string): number | undefined {
  const match = /^(https?):\/\/(\[[^\]]*\]|[^/:]*)(?::(\d{1,5}))?\//i.exec(url)
  if (match === null) return undefined
  if (match[3] !== undefined) return Number(match[3])
  return match[1]?.toLowerCase() === 'https' ? 443 : 80
}

export interface TaskInfo {
  readonly image: string
  readonly pid: number
  /** Services hosted by the process (tasklist /svc); empty when none. */
  readonly services: readonly string[]
}

function parseCsvLine(line: string): string[] {
  const fields: string[] = []
  const pattern = /"((?:[^"]|"")*)"(?:,|$)/g
  for (let match = pattern.exec(line); match !== null; match = pattern.exec(line)) {
    fields.push((match[1] ?? '').replace(/""/g, '"'))
    if (pattern.lastIndex >= line.length) break
  }
  return fields
}

/** Reads `tasklist /svc /fo csv /nh` output: image name, PID, services ("N/A" when none). */
export function parseTasklistCsv(text: string): TaskInfo[] {
  const tasks: TaskInfo[] = []
  for (const line of splitLines(text)) {
    if (!line.startsWith('"')) continue
    const [image, pid, services] = parseCsvLine(line.trim())
    const id = Number(pid)
    if (image === undefined || !Number.isInteger(id)) continue
    const list = services === undefined || services === 'N/A' ? [] : services.split(',').map((s) => s.trim()).filter(Boolean)
    tasks.push({ image, pid: id, services: list })
  }
  return tasks
}

export interface PortRange {
  readonly start: number
  readonly end: number
}

/** Reads `netsh int ipv4 show excludedportrange protocol=tcp`: ports Windows (Hyper-V, WinNAT) keeps for itself. */
export function parseExcludedPortRanges(text: string): PortRange[] {
  const ranges: PortRange[] = []
  for (const line of splitLines(text)) {
    const match = /^\s*(\d{1,5})\s+(\d{1,5})(\s+\*)?\s*$/.exec(line)
    if (match !== null) ranges.push({ start: Number(match[1]), end: Number(match[2]) })
  }
  return ranges
}

export interface PortHolder {
  readonly port: number
  /** The listening address that collides (0.0.0.0 and :: collide with every address). */
  readonly address: string
  readonly pid: number
  /** The kernel's HTTP service (PID 4). */
  readonly httpSys: boolean
  /** The program behind the PID (for HTTP.sys: behind the request queue that registered the port). */
  readonly processes: readonly TaskInfo[]
  /** HTTP.sys only: the registered URL prefixes on this port. */
  readonly urls: readonly string[]
}

function collides(listener: TcpListener, address: string, port: number): boolean {
  if (listener.port !== port) return false
  const wildcard = listener.address === '0.0.0.0' || listener.address === '::'
  return wildcard || listener.address === address
}

/** Pure: the holders of address:port from the three commands' output. */
export function describePortHolders(
  port: number,
  address: string,
  facts: { readonly listeners: readonly TcpListener[]; readonly queues?: readonly HttpSysQueue[]; readonly tasks?: readonly TaskInfo[] },
): PortHolder[] {
  const holders: PortHolder[] = []
  const seen = new Set<string>()
  for (const listener of facts.listeners) {
    if (!collides(listener, address, port)) continue
    const key = `${listener.pid}/${listener.address}`
    if (seen.has(key)) continue
    seen.add(key)
    const httpSys = listener.pid === systemPid
    const queues = httpSys ? (facts.queues ?? []).filter((queue) => queue.urls.some((url) => urlPrefixPort(url) === port)) : []
    const pids = httpSys ? queues.flatMap((queue) => queue.pids) : [listener.pid]
    const processes = (facts.tasks ?? []).filter((task) => pids.includes(task.pid))
    holders.push({
      port,
      address: listener.address,
      pid: listener.pid,
      httpSys,
      processes,
      urls: queues.flatMap((queue) => queue.urls.filter((url) => urlPrefixPort(url) === port)),
    })
  }
  return holders
}

function describeProcess(task: TaskInfo): string {
  return `${task.image} (PID ${task.pid}${task.services.length > 0 ? `, service ${task.services.join(', ')}` : ''})`
}

/** The PORT_IN_USE error for the first holder: who holds the port and what the user can do about it. */
export function portHeldError(holder: PortHolder, field: string): BridgeError {
  const where = formatHostPort(holder.address, holder.port)
  const services = holder.processes.flatMap((task) => task.services)
  if (holder.httpSys) {
    const owner = holder.processes.length > 0 ? ` for ${holder.processes.map(describeProcess).join(', ')}` : ''
    const urls = holder.urls.length > 0 ? ` (${holder.urls.join(', ')})` : ''
    return new BridgeError('PORT_IN_USE', `Port ${holder.port} is held by the Windows HTTP service (HTTP.sys, PID 4 "System")${owner}${urls}.`, {
      hint:
        services.length > 0
          ? `Stop the service that registered it (as administrator: net stop ${services[0]}) or move it to another port, then connect again.`
          : `Run "netsh http show servicestate" as administrator to see which program registered ${where} (IIS: net stop W3SVC; SQL Reporting, WinRM and others use it too), stop it, then connect again.`,
      field,
      details: { port: holder.port, pid: holder.pid, httpSys: true },
    })
  }
  const who = holder.processes.length > 0 ? holder.processes.map(describeProcess).join(', ') : `the process with PID ${holder.pid}`
  return new BridgeError('PORT_IN_USE', `Port ${holder.port} is already used by ${who} on ${where}.`, {
    hint:
      services.length > 0
        ? `Stop the service ${services[0]} (as administrator: net stop ${services[0]}) or change its port, then connect again.`
        : `Close that program (Task Manager, Details tab, PID ${holder.pid}) or change its port, then connect again.`,
    field,
    details: { port: holder.port, pid: holder.pid, httpSys: false },
  })
}

/** The error for a port inside a range Windows excluded for itself (Hyper-V / WinNAT), or undefined. */
export function excludedPortError(port: number, ranges: readonly PortRange[], field: string): BridgeError | undefined {
  const range = ranges.find((r) => port >= r.start && port <= r.end)
  if (range === undefined) return undefined
  return new BridgeError('PORT_IN_USE', `Windows keeps ports ${range.start}-${range.end} for itself (Hyper-V / WinNAT), port ${port} among them.`, {
    hint: 'Check with "netsh int ipv4 show excludedportrange protocol=tcp"; restarting the WinNAT service (net stop winnat, net start winnat, as administrator) usually frees the range.',
    field,
    details: { port },
  })
}

/**
 * Who holds address:port on this Windows machine: runs `netstat -ano`, then (only when something holds it)
 * `netsh http show servicestate view=requestq` and `tasklist /svc` for the PIDs involved, and the excluded ranges.
 * Returns the error to show, or undefined when the port is free. Every command gets an argument array.
 */
export async function findWindowsPortHolder(
  port: number,
  address: string,
  field: string,
  run: RunProgram = runProgram,
): Promise<{ readonly holders: readonly PortHolder[]; readonly error: BridgeError | undefined }> {
  const netstat = await run('netstat', ['-ano'])
  const listeners = netstat === undefined ? [] : parseNetstatListeners(netstat)
  const colliding = listeners.filter((listener) => collides(listener, address, port))
  if (colliding.length === 0) {
    const excluded = await run('netsh', ['interface', 'ipv4', 'show', 'excludedportrange', 'protocol=tcp'])
    return { holders: [], error: excluded === undefined ? undefined : excludedPortError(port, parseExcludedPortRanges(excluded), field) }
  }
  const httpSys = colliding.some((listener) => listener.pid === systemPid)
  const serviceState = httpSys ? await run('netsh', ['http', 'show', 'servicestate', 'view=requestq']) : undefined
  const queues = serviceState === undefined ? [] : parseHttpServiceState(serviceState)
  const pids = new Set<number>()
  for (const listener of colliding) {
    if (listener.pid !== systemPid) pids.add(listener.pid)
  }
  for (const queue of queues) {
    if (queue.urls.some((url) => urlPrefixPort(url) === port)) for (const pid of queue.pids) pids.add(pid)
  }
  const tasks: TaskInfo[] = []
  for (const pid of pids) {
    const output = await run('tasklist', ['/svc', '/fi', `PID eq ${pid}`, '/fo', 'csv', '/nh'])
    if (output !== undefined) tasks.push(...parseTasklistCsv(output))
  }
  const holders = describePortHolders(port, address, { listeners, queues, tasks })
  const first = holders[0]
  return { holders, error: first === undefined ? undefined : portHeldError(first, field) }
}
