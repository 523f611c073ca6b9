/** Core logs through this port; the app writes a rotating file, the CLI writes stderr, tests collect lines. */
export interface Logger {
  error(message: string, error?: unknown): void
  warn(message: string, error?: unknown): void
  info(message: string): void
  debug(message: string): void
}

export const nullLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
}
