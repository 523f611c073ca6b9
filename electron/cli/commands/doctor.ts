import type { CheckResult } from '../../common/status.js'
import { hostEntriesForConfig } from '../../core/catalog/index.js'
import { loadConfig, resolveSecrets, type Config } from '../../core/config/index.js'
import { findRegistryCredentials, parseRepositoryRef } from '../../core/discovery/index.js'
import { defaultHostsPath } from '../../core/paths.js'
import { nameRole, runDoctor, type DoctorReport, type PullProbe } from '../../core/probes/index.js'
import { booleanFlag, requiredFlag, stringFlag } from '../args.js'
import { print, printJson, type CliContext } from '../context.js'
import type { Command } from '../run.js'
import { warnAboutStaleLease } from './hosts-support.js'

/** With a repository here (and credentials as discover finds them), doctor also checks where blob downloads go. */
export const doctorRepositoryVariable = 'ACR_BRIDGE_DOCTOR_REPO'

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'probe every hop of every name; exit 1 if any check fails',
  usage: 'acr-bridge doctor --config F [--hosts-file P] [--json]',
  flags: { config: 'string', 'hosts-file': 'string', json: 'boolean' },
  async run(args, context) {
    const { io, platform, homeDir, logger } = context
    const configPath = requiredFlag(args, 'config', 'doctor')
    const config = resolveSecrets(await loadConfig(configPath), io.env)
    const hostsPath = stringFlag(args, 'hosts-file') ?? defaultHostsPath(platform, io.env)
    // Alias, redirect or block left by a crashed session explain odd results: say so first (stderr, --json too).
    await warnAboutStaleLease(context)
    const pull = await pullProbe(context, config)
    const report = await runDoctor({ config, hostsPath, platform, env: io.env, homeDir, logger, ...(pull === undefined ? {} : { pull }) })
    if (booleanFlag(args, 'json')) {
      printJson(io, { ok: report.ok, config: configPath, hostsFile: hostsPath, checks: report.checks, warnings: report.warnings, engines: report.engines, durationMs: report.durationMs, checksMs: report.checksMs })
    } else {
      printReport(context, report, `tunnel ${config.tunnel.mode} via ${formatHost(config.tunnel.host)}:${config.tunnel.port}, names → ${config.listen.address}, hosts file ${hostsPath}`)
      // "All checks passed" must not read as "pulls work": where blobs are redirected is known only from a real pull.
      if (pull === undefined) {
        print(io, `Not checked: where blob downloads are redirected. Set ${doctorRepositoryVariable}=NS/NAME (a repository you can pull) to follow one pull.`)
      }
    }
    return report.ok ? 0 : 1
  },
}

async function pullProbe(context: CliContext, config: Config): Promise<PullProbe | undefined> {
  const text = context.io.env[doctorRepositoryVariable]
  if (text === undefined || text === '') return undefined
  const ref = parseRepositoryRef(text)
  const registry = ref.registry ?? hostEntriesForConfig(config).find((e) => nameRole(e) === 'registry' && e.ports.includes(443))?.name
  const probe = { repository: ref.repository, reference: ref.reference, ...(registry === undefined ? {} : { registry }) }
  if (registry === undefined) return probe
  const credentials = await findRegistryCredentials({ registry, env: context.io.env, homeDir: context.homeDir, logger: context.logger })
  return credentials === undefined ? probe : { ...probe, credentials: { username: credentials.username, password: credentials.password } }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function formatMs(ms: number | undefined): string {
  if (ms === undefined) return ''
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`
}

function printReport({ io }: CliContext, report: DoctorReport, header: string): void {
  print(io, `acr-bridge doctor: ${header}`)
  const groups: { title: string; checks: CheckResult[] }[] = []
  for (const check of report.checks) {
    const title = check.hop === 'listener' || check.hop === 'upstream' ? 'tunnel' : check.name
    const last = groups[groups.length - 1]
    if (last !== undefined && last.title === title) last.checks.push(check)
    else groups.push({ title, checks: [check] })
  }
  const hopWidth = Math.max(0, ...report.checks.map((c) => c.hop.length))
  for (const group of groups) {
    print(io, group.title)
    for (const check of group.checks) {
      const latency = formatMs(check.latencyMs)
      print(io, `  ${check.ok ? '✓' : '✗'} ${check.hop.padEnd(hopWidth)}  ${check.reason}${latency === '' ? '' : `  (${latency})`}`)
      if (!check.ok && check.hint !== undefined) print(io, `    ${' '.repeat(hopWidth)}  fix: ${check.hint}`)
    }
  }
  for (const warning of report.warnings) {
    print(io, `! warning: ${warning.message}`)
    print(io, `  fix: ${warning.hint}`)
  }
  const failed = report.checks.filter((c) => !c.ok).length
  print(
    io,
    failed === 0
      ? `All ${report.checks.length} checks passed (${report.durationMs} ms).`
      : `${failed} of ${report.checks.length} checks failed (${report.durationMs} ms).`,
  )
}
