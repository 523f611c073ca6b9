import type { Logger } from '../core/logger.js'
import type { Platform } from '../core/paths.js'

export interface CliIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadableStream
  readonly env: NodeJS.ProcessEnv
}

/** What every command gets: where to print, the environment, and the machine facts core needs as parameters. */
export interface CliContext {
  readonly io: CliIo
  readonly platform: Platform
  readonly homeDir: string
  readonly dataDir: string
  readonly logger: Logger
  /** Long-running commands (up, relay) call this to take over SIGINT/SIGTERM; resolves on the first. */
  readonly waitForInterrupt: () => Promise<NodeJS.Signals>
  readonly isTty: boolean
}

export function print(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`)
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
