// Shared set-up of the doctor and discover world tests: a VPC world with our relay on the ECS (the built CLI's
// `relay` command), a tunnel started in the laptop namespace by a tiny script (startTunnel + the sni dialer, from the
// build), the hosts block written into the laptop's hosts file by the hosts engine, and the built CLI run inside the
// laptop namespace. The build is test/helpers/cli.ts's private build of the current sources (never dist/, which
// other suites rewrite while tests run).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { hostEntriesForConfig } from '../../electron/core/catalog/host-entries.js'
import type { HostEntry } from '../../electron/core/catalog/types.js'
import { parseConfig } from '../../electron/core/config/schema.js'
import type { Config } from '../../electron/core/config/types.js'
import { planHostsBytes } from '../../electron/core/hosts/hosts-plan.js'
import type { CheckResult } from '../../electron/common/status.js'
import { builtCli, builtCliTimeoutMs } from '../helpers/cli.js'
import { WORLD_ADDRESSES, type VpcWorld, type WorldProcess } from './harness/index.js'

export interface Build {
  /** The compiled electron/ folder. */
  readonly distDir: string
  readonly cliPath: string
}

/** The private build of the current sources (compiled once per run; a failing build fails the test with tsc's output). */
export async function worldBuild(): Promise<Build> {
  const cliPath = await builtCli()
  return { cliPath, distDir: dirname(dirname(cliPath)) }
}

/** beforeAll bound: a cold build on a busy machine, then a world. */
export const worldSetupTimeoutMs = builtCliTimeoutMs + 300_000

/** The world's region config in sni mode through the ECS relay; `endpoints` default: the article's three + the PE bucket. */
export function worldConfig(extra: Partial<Record<string, unknown>> = {}, endpoints = ['registry-vpc', 'dockerauth-vpc', 'oss-internal', 'pe-bucket-internal']): Config {
  return parseConfig({
    regions: [{ id: 'cn-beijing', endpoints }],
    tunnel: { mode: 'sni', host: WORLD_ADDRESSES.ecsPublic, port: 443, httpPort: 80 },
    listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
    ...extra,
  })
}

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** Wall time of the whole `ip netns exec node cli …` run. */
  readonly wallMs: number
}

export interface DoctorJson {
  readonly ok: boolean
  readonly checks: CheckResult[]
  readonly warnings: { engine: string; message: string; hint: string }[]
  readonly durationMs: number
  readonly checksMs: number
}

const tunnelScript = `
const o = JSON.parse(process.argv[1])
const { startTunnel } = await import(o.tunnelModule)
const { createSniDialer } = await import(o.sniModule)
const dialer = createSniDialer({ host: o.ecs, port: 443, httpPort: 80 })
const tunnel = await startTunnel({ listen: { address: '127.0.0.1', port: 443, httpPort: 80 }, names: o.entries, dialer })
console.log('TUNNEL READY ' + JSON.stringify(tunnel.addresses))
const stop = async () => { await tunnel.close({ drainMs: 200 }); await dialer.close(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setInterval(() => {}, 1 << 30)
`

export class DoctorWorld {
  readonly dir: string
  relay: WorldProcess | undefined
  tunnel: WorldProcess | undefined
  private readonly pristineHosts: Buffer

  constructor(
    readonly world: VpcWorld,
    readonly build: Build,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'acr-doctor-world-'))
    this.pristineHosts = readFileSync(world.laptopHostsPath)
  }

  /** Our relay on the ECS's public address: SNI on 443, Host on 80, default allow-list (*.aliyuncs.com). */
  async startRelay(): Promise<void> {
    const ecs = WORLD_ADDRESSES.ecsPublic
    this.relay = await this.world.spawn('ecs', process.execPath, [this.build.cliPath, 'relay', '--listen', `${ecs}:443`, '--http-listen', `${ecs}:80`], {
      logName: 'relay',
      ready: /relay: forwarding names/,
    })
  }

  async stopRelay(): Promise<void> {
    await this.relay?.stop(5000)
    this.relay = undefined
  }

  /** A tunnel in the laptop namespace on 127.0.0.1:443 and :80 for `entries`, dialing the ECS relay. */
  async startTunnel(entries: readonly HostEntry[]): Promise<void> {
    await this.stopTunnel()
    const options = {
      tunnelModule: pathToFileURL(join(this.build.distDir, 'core', 'tunnel', 'tunnel.js')).href,
      sniModule: pathToFileURL(join(this.build.distDir, 'core', 'tunnel', 'sni-dialer.js')).href,
      ecs: WORLD_ADDRESSES.ecsPublic,
      entries,
    }
    this.tunnel = await this.world.spawn('laptop', process.execPath, ['--input-type=module', '-e', tunnelScript, JSON.stringify(options)], {
      logName: 'laptop-tunnel',
      ready: /TUNNEL READY/,
    })
  }

  async stopTunnel(): Promise<void> {
    await this.tunnel?.stop(3000)
    this.tunnel = undefined
  }

  /** The laptop's hosts file as the world made it, plus our block for `entries` (written in place: it is bind-mounted). */
  applyHosts(entries: readonly HostEntry[], before: readonly string[] = []): string {
    const base = Buffer.concat([this.pristineHosts, Buffer.from(before.map((l) => `${l}\n`).join(''))])
    const { newBytes } = planHostsBytes(base, entries, { takeOver: false, platform: 'linux' })
    writeFileSync(this.world.laptopHostsPath, newBytes)
    return newBytes.toString('utf8')
  }

  /** Drops every line of the hosts file that maps `name` (a line someone removed by hand). */
  removeHostsLine(name: string): void {
    const text = readFileSync(this.world.laptopHostsPath, 'utf8')
    const kept = text.split('\n').filter((line) => !line.split(/\s+/).slice(1).includes(name))
    writeFileSync(this.world.laptopHostsPath, kept.join('\n'))
  }

  restoreHosts(): void {
    writeFileSync(this.world.laptopHostsPath, this.pristineHosts)
  }

  writeConfig(name: string, config: Config): string {
    const path = join(this.dir, name)
    writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
    return path
  }

  entriesOf(config: Config): HostEntry[] {
    return hostEntriesForConfig(config)
  }

  /** The built CLI inside the laptop namespace, trusting the world's CA the way a user's system store would. */
  async cli(args: readonly string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
    const started = performance.now()
    const result = await this.world.exec('laptop', process.execPath, [this.build.cliPath, ...args], {
      env: { ...this.world.trustEnv(), ...(options.env ?? {}) },
      ...(options.input === undefined ? {} : { input: options.input }),
      timeoutMs: options.timeoutMs ?? 90_000,
    })
    if (result.timedOut) throw new Error(`acr-bridge ${args.join(' ')} did not finish; stderr:\n${result.stderr}`)
    return { code: result.code, stdout: result.stdout, stderr: result.stderr, wallMs: performance.now() - started }
  }

  async doctor(configPath: string, env: Record<string, string> = {}): Promise<CliRun & { report: DoctorJson }> {
    const run = await this.cli(['doctor', '--config', configPath, '--json'], { env })
    let report: DoctorJson
    try {
      report = JSON.parse(run.stdout) as DoctorJson
    } catch {
      throw new Error(`doctor --json printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}\n${this.world.logs()}`)
    }
    return { ...run, report }
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** `name hop` of every failed check, for exact comparisons. */
export function failures(report: DoctorJson): string[] {
  return report.checks.filter((c) => !c.ok).map((c) => `${c.name} ${c.hop}`)
}

/** A readable dump of a doctor report for assertion messages. */
export function describeReport(report: DoctorJson): string {
  return report.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name} ${c.hop}: ${c.reason}${c.hint === undefined ? '' : ` → ${c.hint}`}`).join('\n')
}
