export interface CliIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadableStream
  readonly env: NodeJS.ProcessEnv
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  io.stderr.write(`acr-bridge: not implemented yet: ${argv.join(' ')}\n`)
  return 2
}
