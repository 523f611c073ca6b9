import { homedir } from 'node:os'
import { BridgeError, isBridgeError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { defaultDataDir, toPlatform, type Platform } from '../core/paths.js'
import { parseArgs, usage, type FlagSpec, type ParsedArgs } from './args.js'
import type { CliContext, CliIo } from './context.js'
import { commands } from './commands/index.js'

export type { CliIo } from './context.js'

export interface Command {
  readonly name: string
  readonly usage: string
  readonly summary: string
  readonly flags: FlagSpec
  run(args: ParsedArgs, context: CliContext): Promise<number>
}

export interface RunOptions {
  readonly platform?: Platform
  readonly homeDir?: string
  /** Starts listening for SIGINT/SIGTERM and resolves on the first; the entry file wires the real signals. */
  readonly waitForInterrupt?: () => Promise<NodeJS.Signals>
  readonly isTty?: boolean
}

/** Exit codes of the CLI contract: 0 ok, 1 the operation or a check failed, 2 bad usage or invalid config. */
export function exitCodeFor(error: unknown): number {
  if (isBridgeError(error) && (error.code === 'USAGE' || error.code === 'INVALID_CONFIG' || error.code === 'CONFIG_NOT_FOUND')) {
    return 2
  }
  return 1
}

/** One line on stderr: what went wrong and what to do. */
export function formatError(error: unknown): string {
  if (error instanceof BridgeError) {
    const hint = error.hint === undefined ? '' : ` ${error.hint.endsWith('.') ? error.hint : `${error.hint}.`}`
    const message = error.message.endsWith('.') ? error.message : `${error.message}.`
    return `acr-bridge: ${oneLine(message)}${oneLine(hint)}`
  }
  const message = error instanceof Error ? error.message : String(error)
  return `acr-bridge: internal error: ${oneLine(message)} (please report this with ACR_BRIDGE_LOG=debug output)`
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}

function stderrLogger(io: CliIo): Logger {
  const level = io.env['ACR_BRIDGE_LOG'] ?? 'warn'
  const rank = { error: 0, warn: 1, info: 2, debug: 3 } as const
  const max = rank[level as keyof typeof rank] ?? 1
  const write = (tag: keyof typeof rank, message: string, error?: unknown) => {
    if (rank[tag] > max) return
    const suffix = error === undefined ? '' : `: ${error instanceof Error ? error.message : String(error)}`
    io.stderr.write(`${tag}: ${message}${suffix}\n`)
  }
  return {
    error: (m, e) => write('error', m, e),
    warn: (m, e) => write('warn', m, e),
    info: (m) => write('info', m),
    debug: (m) => write('debug', m),
  }
}

async function helpText(): Promise<string> {
  const loaded = await Promise.all(commands.map((entry) => entry.load()))
  const width = Math.max(...loaded.map((c) => c.name.length))
  const lines = loaded.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return ['usage: acr-bridge <command> [options]', '', 'commands:', ...lines, '', ...loaded.map((c) => `  ${c.usage}`)].join('\n')
}

export async function runCli(argv: readonly string[], io: CliIo, options: RunOptions = {}): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    ;(name === undefined ? io.stderr : io.stdout).write(`${await helpText()}\n`)
    return name === undefined ? 2 : 0
  }
  const platform = options.platform ?? toPlatform(process.platform)
  const homeDir = options.homeDir ?? homedir()
  const context: CliContext = {
    io,
    platform,
    homeDir,
    dataDir: defaultDataDir(platform, io.env, homeDir),
    logger: stderrLogger(io),
    waitForInterrupt: options.waitForInterrupt ?? (() => new Promise<NodeJS.Signals>(() => {})),
    isTty: options.isTty ?? false,
  }
  try {
    const entry = commands.find((c) => c.name === name)
    if (entry === undefined) throw usage(`unknown command ${JSON.stringify(name)}`)
    const command = await entry.load()
    const args = parseArgs(command.name, rest, command.flags)
    return await command.run(args, context)
  } catch (error) {
    io.stderr.write(`${formatError(error)}\n`)
    if (io.env['ACR_BRIDGE_LOG'] === 'debug' && error instanceof Error && error.stack !== undefined) {
      io.stderr.write(`${error.stack}\n`)
    }
    return exitCodeFor(error)
  }
}
