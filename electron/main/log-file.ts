// The app's log: a size-rotated file under app.getPath('logs') implementing core's Logger, every line redacted.
// Writes are synchronous on purpose: the last lines before a crash (uncaughtException → quit) must reach the disk,
// and lines are short and rare (state changes, errors), not per-connection.

import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { LogEntry, LogLevel } from '../common/ipc-contract.js'
import type { Logger } from '../core/logger.js'
import { redact } from './redact.js'

export interface RotatingFileLoggerOptions {
  readonly dir: string
  /** `main` → main.log, main.1.log, … main.<maxFiles-1>.log */
  readonly baseName?: string
  /** Rotate before a write would make the file larger than this. */
  readonly maxBytes?: number
  /** Files kept, the current one included. */
  readonly maxFiles?: number
  readonly now?: () => Date
  /** Secret values to scrub by value (read at each write, so a newly saved password is covered). */
  readonly knownSecrets?: () => readonly string[]
  /** Lowest level written. */
  readonly level?: LogLevel
  /** Also called with every entry (the window's live log, the console in development). */
  readonly onEntry?: (entry: LogEntry) => void
}

export interface RotatingFileLogger extends Logger {
  /** The file being written now. */
  readonly path: string
  /** Recent entries (redacted), oldest first. */
  tail(limit: number): LogEntry[]
}

const levelOrder: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 }
const ringSize = 1000

export function createRotatingFileLogger(options: RotatingFileLoggerOptions): RotatingFileLogger {
  const baseName = options.baseName ?? 'main'
  const maxBytes = options.maxBytes ?? 1024 * 1024
  const maxFiles = Math.max(1, options.maxFiles ?? 5)
  const now = options.now ?? (() => new Date())
  const threshold = levelOrder[options.level ?? 'info']
  const fileAt = (index: number): string => join(options.dir, index === 0 ? `${baseName}.log` : `${baseName}.${index}.log`)
  const path = fileAt(0)
  const ring: LogEntry[] = []
  let size: number | undefined
  let failed = false

  function currentSize(): number {
    if (size === undefined) {
      try {
        size = statSync(path).size
      } catch {
        size = 0
      }
    }
    return size
  }

  function rotateSync(): void {
    rmSync(fileAt(maxFiles - 1), { force: true })
    for (let index = maxFiles - 2; index >= 0; index--) {
      try {
        renameSync(fileAt(index), fileAt(index + 1))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    }
    size = 0
  }

  function write(level: LogLevel, message: string, error?: unknown): void {
    if (levelOrder[level] > threshold) return
    const secrets = options.knownSecrets?.() ?? []
    const detail = error === undefined ? '' : ` ${describeError(error)}`
    const entry: LogEntry = { time: now().toISOString(), level, message: redact(`${message}${detail}`, secrets) }
    ring.push(entry)
    if (ring.length > ringSize) ring.shift()
    const line = `${entry.time} ${level.toUpperCase().padEnd(5)} ${entry.message.replace(/\r?\n/g, '\n    ')}\n`
    const bytes = Buffer.byteLength(line)
    try {
      mkdirSync(options.dir, { recursive: true })
      const before = currentSize()
      if (before > 0 && before + bytes > maxBytes) rotateSync()
      appendFileSync(path, line, { mode: 0o600 })
      size = currentSize() + bytes
      failed = false
    } catch (cause) {
      // A full disk or a removed folder must not take the app down; say it once on stderr.
      if (!failed) process.stderr.write(`acr-bridge: cannot write the log file ${path}: ${String(cause)}\n`)
      failed = true
      size = undefined
    }
    options.onEntry?.(entry)
  }

  return {
    path,
    error: (message, error) => write('error', message, error),
    warn: (message, error) => write('warn', message, error),
    info: (message) => write('info', message),
    debug: (message) => write('debug', message),
    tail: (limit) => ring.slice(Math.max(0, ring.length - Math.max(0, Math.floor(limit)))),
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    const head = typeof code === 'string' ? `${code}: ${error.message}` : error.message
    return error.stack === undefined ? head : `${head}\n${error.stack.split('\n').slice(1).join('\n')}`
  }
  return String(error)
}
