import { createInterface } from 'node:readline'
import type { SessionState } from '../../common/status.js'
import { hostEntriesForConfig } from '../../core/catalog/host-entries.js'
import { loadConfig } from '../../core/config/config-store.js'
import { resolveSecrets } from '../../core/config/secrets.js'
import { defaultHostsPath } from '../../core/paths.js'
import { createSudoPromptElevator } from '../../core/privileged/sudo-prompt-elevator.js'
import { createHealthMonitor } from '../../core/probes/index.js'
import { createSessionController } from '../../core/session/controller.js'
import type { ListenStrategy } from '../../core/platform/listen-strategy.js'
import { formatHostPort } from '../../core/tunnel/listen.js'
import type { TunnelAddresses, TunnelStats } from '../../core/tunnel/tunnel.js'
import { booleanFlag, requiredFlag, stringFlag } from '../args.js'
import { print, type CliIo } from '../context.js'
import type { Command } from '../run.js'

/** How long `up` lets open connections finish after SIGINT/SIGTERM before cutting them. */
export const upDrainMs = 3000

export const upCommand: Command = {
  name: 'up',
  summary: 'start the tunnel, apply the hosts block, run until Ctrl-C, then revert',
  usage: 'acr-bridge up --config F [--hosts-file P] [--yes]',
  flags: { config: 'string', 'hosts-file': 'string', yes: 'boolean' },
  async run(args, context) {
    const { io, platform } = context
    // Take over SIGINT/SIGTERM first: from here on a signal means "stop cleanly", never "die with the block written".
    const interrupted = context.waitForInterrupt()
    const config = await loadConfig(requiredFlag(args, 'config', 'up'))
    const entries = hostEntriesForConfig(resolveSecrets(config, io.env))
    const hostsPath = stringFlag(args, 'hosts-file') ?? defaultHostsPath(platform, io.env)

    const controller = createSessionController({
      config,
      hostsPath,
      dataDir: context.dataDir,
      platform,
      env: io.env,
      homeDir: context.homeDir,
      elevator: createSudoPromptElevator(),
      logger: context.logger,
      drainMs: upDrainMs,
      // doctor's checks, every 30 s while healthy and sooner while failing: the printed state is what they find
      createHealthMonitor: (monitorContext) => createHealthMonitor(monitorContext),
    })
    try {
      const stale = await controller.findStaleLease()
      if (stale !== undefined) {
        await controller.revertStaleLease()
        print(io, `Removed what an earlier session left behind (it did not stop cleanly): ${stale.changes.join('; ')}.`)
      }

      if (context.isTty && !booleanFlag(args, 'yes')) {
        const answer = await askYesNo(io, `Write ${entries.length} names to ${hostsPath}? [y/N] `, interrupted)
        if (!answer) {
          print(io, 'Nothing changed.')
          return 1
        }
      }

      let shown: string | undefined
      const show = (state: SessionState): void => {
        const line = stateLine(state)
        if (line === shown) return
        shown = line
        print(io, line)
      }
      let live = false
      const subscription = controller.onDidChangeState((state) => {
        if (live) show(state)
      })
      try {
        await controller.connect()
        const routes = controller.routes()
        const mode = routes[0]?.mode ?? config.tunnel.mode
        print(io, `acr-bridge up: ${routes.length} names in ${hostsPath}, mode ${mode}, Ctrl-C stops and removes them`)
        const width = Math.max(...routes.map((route) => route.name.length))
        for (const route of routes) {
          print(io, `  ${route.name.padEnd(width)} → ${route.listen.join(', ')} via ${route.mode} ${route.upstream}`)
        }
        const listening = controller.listening()
        if (listening !== undefined) for (const line of listeningLines(listening.strategy, listening.bound)) print(io, `  ${line}`)
        live = true
        show(controller.state)

        const signal = await interrupted
        live = false
        print(io, `Stopping (${signal}): draining open connections for up to ${upDrainMs / 1000} s, then removing the hosts block.`)
        await controller.disconnect()
        print(io, `Stopped: ${summary(controller.tunnelStats())}; removed the acr-bridge block from ${hostsPath}.`)
        return 0
      } finally {
        subscription.dispose()
      }
    } finally {
      await controller.dispose()
    }
  },
}

/** What the listen strategy changed besides the hosts block (nothing is printed when the tunnel binds 443/80 itself). */
export function listeningLines(strategy: ListenStrategy, bound: TunnelAddresses): string[] {
  const lines: string[] = []
  if (strategy.mechanism !== 'direct') {
    const where = [bound.port, bound.httpPort].filter((port): port is number => port !== undefined).map((port) => formatHostPort(bound.address, port))
    const table = strategy.mechanism === 'nft-redirect' ? 'the nft table ip acr_bridge' : 'the pf anchor com.apple/acr-bridge'
    const publicPorts = `${formatHostPort(strategy.hostsAddress, strategy.publicPorts.tls)}${strategy.publicPorts.http === null ? '' : ` and :${strategy.publicPorts.http}`}`
    lines.push(`listening on ${where.join(' and ')} as an ordinary user; ${table} redirects ${publicPorts} to ${where.length > 1 ? 'them' : 'it'}`)
  }
  if (strategy.alias !== undefined) lines.push(`${strategy.alias} is on the loopback interface for this session (container engines reach it; removed at the end)`)
  return lines
}

/**
 * `state: healthy`, `state: degraded (name: reason; …)`, `state: degraded: message hint` (ssh mode, the SSH
 * connection reconnecting), `state: down: message hint`.
 */
export function stateLine(state: SessionState): string {
  const error = state.error
  const why = error === undefined ? '' : `: ${error.message}${error.hint === undefined ? '' : ` ${error.hint}`}`
  switch (state.kind) {
    case 'healthy':
    case 'starting':
    case 'off':
      return `state: ${state.kind}${error === undefined ? '' : `: ${error.message}`}`
    case 'degraded': {
      const failing = state.failing.map((f) => `${f.name}: ${f.reason}`).join('; ')
      return `state: degraded${failing === '' ? '' : ` (${failing})`}${why}`
    }
    case 'down':
      return `state: down${why}`
  }
}

function summary(stats: TunnelStats | undefined): string {
  if (stats === undefined) return 'no traffic'
  let total = 0
  let up = 0
  let down = 0
  let errors = 0
  for (const row of stats.names) {
    total += row.total
    up += row.bytesUp
    down += row.bytesDown
    errors += row.errors
  }
  // A client that left before sending its head (the health probes' plain TCP connects do) was not refused.
  const refused = Object.entries(stats.refused).filter(([reason, count]) => count > 0 && reason !== 'client-closed')
  const refusedCount = refused.reduce((sum, [, count]) => sum + count, 0)
  const refusedText = refusedCount === 0 ? '0 refused' : `${refusedCount} refused (${refused.map(([reason, count]) => `${reason} ${count}`).join(', ')})`
  return `${total} connections, ${mib(down)} down, ${mib(up)} up, ${errors} errors, ${refusedText}`
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** Asks once on the terminal; anything but y/yes (end of input, a signal) is no. */
function askYesNo(io: CliIo, question: string, interrupted: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: false })
    let settled = false
    const settle = (answer: boolean): void => {
      if (settled) return
      settled = true
      rl.close()
      resolve(answer)
    }
    rl.question(question, (answer) => settle(/^\s*y(es)?\s*$/i.test(answer)))
    rl.once('close', () => settle(false))
    void interrupted.then(() => settle(false))
  })
}
