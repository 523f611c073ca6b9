// Which container engine will pull, and whether it can reach the listen address (ACR-FACTS.md §5): Docker Desktop,
// Podman machine, Colima / Lima, Rancher Desktop and OrbStack run the engine in a VM, rootless Docker in its own
// network namespace; a 127.0.0.1 answer from the hosts file is then dialed inside the VM (or namespace), not here.
// Facts come from the environment (DOCKER_HOST, CONTAINER_HOST, DOCKER_CONTEXT), `docker context inspect` and
// `docker info` (argument arrays, a time limit each; no docker: nothing), and well-known socket paths.

import { execFile } from 'node:child_process'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import type { Platform } from '../paths.js'

export type EngineKind = 'docker-desktop' | 'podman-machine' | 'colima' | 'lima' | 'rancher-desktop' | 'orbstack' | 'rootless-docker' | 'native'

export interface EngineFinding {
  readonly kind: EngineKind
  /** What gave it away (`DOCKER_HOST=unix:///…/.colima/default/docker.sock`, `docker info: Operating System Docker Desktop`). */
  readonly evidence: string
}

/** Engines that dial registry names from somewhere a host loopback address does not reach. */
export function isIsolatedEngine(kind: EngineKind): boolean {
  return kind !== 'native'
}

/** Classifies an engine endpoint (DOCKER_HOST, a context's Host, CONTAINER_HOST). undefined: nothing telling. */
export function classifyEndpoint(endpoint: string): EngineKind | undefined {
  const value = endpoint.trim().toLowerCase()
  if (value === '') return undefined
  if (/\/\.colima\//.test(value)) return 'colima'
  if (/\/\.rd\/docker\.sock$/.test(value) || /rancher-desktop/.test(value)) return 'rancher-desktop'
  if (/\/\.orbstack\//.test(value)) return 'orbstack'
  if (/\/\.lima\//.test(value)) return 'lima'
  if (/podman-machine|\/podman\/machine\//.test(value)) return 'podman-machine'
  // Podman on Linux pulls from this machine's own network, rootless or not (only containers get slirp4netns/pasta)
  if (/^unix:\/\/\/run\/(user\/\d+\/)?podman\/podman\.sock$/.test(value)) return 'native'
  if (/\/\.docker\/(run|desktop)\/docker\.sock$/.test(value) || /docker_engine|dockerdesktop|docker-desktop/.test(value)) return 'docker-desktop'
  if (/^unix:\/\/\/run\/user\/\d+\/docker\.sock$/.test(value) || /^unix:\/\/.*\/\.docker\/run\/rootless/.test(value)) return 'rootless-docker'
  if (value === 'unix:///var/run/docker.sock' || value === 'unix:///run/docker.sock') return 'native'
  return undefined
}

/** Reads `docker context inspect` output (a JSON array): the endpoint host and context name of the first context. */
export function parseContextInspect(text: string): { readonly name?: string; readonly host?: string } | undefined {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  const first = Array.isArray(json) ? json[0] : json
  if (typeof first !== 'object' || first === null) return undefined
  const record = first as Record<string, unknown>
  const endpoints = record['Endpoints']
  const docker = typeof endpoints === 'object' && endpoints !== null ? (endpoints as Record<string, unknown>)['docker'] : undefined
  const host = typeof docker === 'object' && docker !== null ? (docker as Record<string, unknown>)['Host'] : undefined
  return {
    ...(typeof record['Name'] === 'string' ? { name: record['Name'] } : {}),
    ...(typeof host === 'string' ? { host } : {}),
  }
}

/** Reads `docker info --format '{{json .}}'`: what the daemon says it is. undefined when no daemon answered. */
export function parseDockerInfo(text: string): EngineFinding | undefined {
  let json: unknown
  try {
    json = JSON.parse(text.trim().split('\n')[0] ?? '')
  } catch {
    return undefined
  }
  if (typeof json !== 'object' || json === null) return undefined
  const info = json as Record<string, unknown>
  const serverVersion = typeof info['ServerVersion'] === 'string' ? info['ServerVersion'] : ''
  if (serverVersion === '') return undefined // the client answered alone: no daemon
  const os = typeof info['OperatingSystem'] === 'string' ? info['OperatingSystem'] : ''
  const name = typeof info['Name'] === 'string' ? info['Name'] : ''
  const security = Array.isArray(info['SecurityOptions']) ? info['SecurityOptions'].filter((s): s is string => typeof s === 'string') : []
  const labels = Array.isArray(info['Labels']) ? info['Labels'].filter((s): s is string => typeof s === 'string') : []
  if (/docker desktop/i.test(os) || name === 'docker-desktop' || labels.some((l) => l.startsWith('com.docker.desktop'))) {
    return { kind: 'docker-desktop', evidence: `docker info: Operating System "${os || name}"` }
  }
  if (/orbstack/i.test(os) || name === 'orbstack') return { kind: 'orbstack', evidence: `docker info: "${os || name}"` }
  if (/rancher desktop/i.test(os) || labels.some((l) => l.includes('rancher-desktop'))) return { kind: 'rancher-desktop', evidence: `docker info: "${os}"` }
  if (name === 'colima' || name.startsWith('colima-')) return { kind: 'colima', evidence: `docker info: host name "${name}"` }
  if (name.startsWith('lima-')) return { kind: 'lima', evidence: `docker info: host name "${name}"` }
  if (security.some((s) => /name=rootless/.test(s))) return { kind: 'rootless-docker', evidence: 'docker info: security option rootless' }
  return { kind: 'native', evidence: `docker info: "${os || 'Linux'}" on this machine` }
}

/** Runs a command (argument array, no shell) with a time limit; stdout, or undefined on any failure. */
export type CommandRunner = (command: string, args: readonly string[], options: { readonly timeoutMs: number; readonly env: NodeJS.ProcessEnv }) => Promise<string | undefined>

export const runCommand: CommandRunner = (command, args, options) =>
  new Promise((resolve) => {
    execFile(command, [...args], { timeout: options.timeoutMs, env: options.env, windowsHide: true, maxBuffer: 1024 * 1024, shell: false }, (error, stdout) => {
      resolve(error === null ? stdout : undefined)
    })
  })

export interface DetectEngineOptions {
  readonly platform: Platform
  readonly env: NodeJS.ProcessEnv
  readonly homeDir: string
  readonly run?: CommandRunner
  readonly exists?: (path: string) => Promise<boolean>
  /** Each docker command's limit (default 3000 ms). */
  readonly timeoutMs?: number
}

const pathExists = async (path: string): Promise<boolean> => {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/**
 * Every engine the machine shows signs of, most telling first: the environment, then docker's current context, then
 * what the daemon says, then well-known sockets. Empty when nothing is found (no docker, no engine).
 */
export async function detectContainerEngines(options: DetectEngineOptions): Promise<EngineFinding[]> {
  const { env, homeDir } = options
  const run = options.run ?? runCommand
  const exists = options.exists ?? pathExists
  const timeoutMs = options.timeoutMs ?? 3000
  const found: EngineFinding[] = []
  const add = (finding: EngineFinding | undefined): void => {
    if (finding !== undefined && !found.some((f) => f.kind === finding.kind)) found.push(finding)
  }
  for (const variable of ['DOCKER_HOST', 'CONTAINER_HOST']) {
    const value = env[variable]
    const kind = value === undefined ? undefined : classifyEndpoint(value)
    if (kind !== undefined) add({ kind, evidence: `${variable}=${value}` })
  }
  if ((env['COLIMA_PROFILE'] ?? '') !== '' || (env['COLIMA_HOME'] ?? '') !== '') add({ kind: 'colima', evidence: 'COLIMA_* is set' })
  if ((env['LIMA_INSTANCE'] ?? '') !== '') add({ kind: 'lima', evidence: 'LIMA_INSTANCE is set' })

  const dockerEnv = { ...env }
  const [context, info] = await Promise.all([
    run('docker', ['context', 'inspect'], { timeoutMs, env: dockerEnv }),
    run('docker', ['info', '--format', '{{json .}}'], { timeoutMs, env: dockerEnv }),
  ])
  const parsed = context === undefined ? undefined : parseContextInspect(context)
  if (parsed?.host !== undefined) {
    const kind = classifyEndpoint(parsed.host) ?? contextNameKind(parsed.name)
    if (kind !== undefined) add({ kind, evidence: `docker context ${parsed.name ?? '(current)'}: ${parsed.host}` })
  }
  add(info === undefined ? undefined : parseDockerInfo(info))

  if (options.platform === 'linux') {
    const runtime = env['XDG_RUNTIME_DIR']
    if (runtime !== undefined && runtime !== '' && (await exists(join(runtime, 'docker.sock')))) {
      add({ kind: 'rootless-docker', evidence: `${join(runtime, 'docker.sock')} exists` })
    }
  } else {
    const sockets: [string, EngineKind][] = [
      [join(homeDir, '.docker', 'run', 'docker.sock'), 'docker-desktop'],
      [join(homeDir, '.colima', 'default', 'docker.sock'), 'colima'],
      [join(homeDir, '.rd', 'docker.sock'), 'rancher-desktop'],
      [join(homeDir, '.orbstack', 'run', 'docker.sock'), 'orbstack'],
      [join(homeDir, '.local', 'share', 'containers', 'podman', 'machine'), 'podman-machine'],
    ]
    const present = await Promise.all(sockets.map(async ([path]) => exists(path)))
    sockets.forEach(([path, kind], index) => {
      if (present[index] === true) add({ kind, evidence: `${path} exists` })
    })
  }
  return found
}

function contextNameKind(name: string | undefined): EngineKind | undefined {
  switch (name) {
    case 'desktop-linux':
    case 'desktop-windows':
      return 'docker-desktop'
    case 'colima':
      return 'colima'
    case 'rancher-desktop':
      return 'rancher-desktop'
    case 'orbstack':
      return 'orbstack'
    case 'rootless':
      return 'rootless-docker'
    default:
      return undefined
  }
}

/** 127.0.0.0/8, ::1, and the IPv4-mapped forms. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.toLowerCase().replace(/^::ffff:/, '')
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) || bare === '::1' || bare === '0:0:0:0:0:0:0:1'
}

export interface EngineWarning {
  readonly engine: EngineKind
  readonly message: string
  readonly hint: string
}

const engineLabels: Record<EngineKind, string> = {
  'docker-desktop': 'Docker Desktop',
  'podman-machine': 'Podman machine',
  colima: 'Colima',
  lima: 'Lima',
  'rancher-desktop': 'Rancher Desktop',
  orbstack: 'OrbStack',
  'rootless-docker': 'rootless Docker',
  native: 'Docker (native)',
}

export function engineLabel(kind: EngineKind): string {
  return engineLabels[kind]
}

/** One warning per isolated engine found when the hosts entries point at a loopback address. */
export function engineWarnings(findings: readonly EngineFinding[], listenAddress: string): EngineWarning[] {
  if (!isLoopbackAddress(listenAddress)) return []
  return findings
    .filter((f) => isIsolatedEngine(f.kind))
    .map((f) => ({
      engine: f.kind,
      message: `${engineLabel(f.kind)} found (${f.evidence}): it pulls from ${f.kind === 'rootless-docker' ? 'its own network namespace' : 'inside a VM'}, where ${listenAddress} is not this machine, so pulls through the hosts entries will be refused there`,
      hint:
        f.kind === 'colima'
          ? 'Set listen.address to an address the VM reaches (e.g. a lo0 alias: `sudo ifconfig lo0 alias 10.200.10.1/24`), or map the names to host.lima.internal with network.dnsHosts in colima.yaml.'
          : f.kind === 'rootless-docker'
            ? 'Set listen.address to a non-loopback address of this machine (e.g. on a dummy interface), or run dockerd-rootless with DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK=false and map the names to 10.0.2.2.'
            : 'Set listen.address to a non-loopback address this machine owns (macOS: `sudo ifconfig lo0 alias 10.200.10.1/24`, then listen.address 10.200.10.1).',
    }))
}
