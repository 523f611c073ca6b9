import type { SerializedError } from '../common/result.js'

/** Every expected failure the core can report. Bugs are thrown as ordinary Errors instead. */
export type ErrorCode =
  | 'INVALID_CONFIG'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_WRITE_FAILED'
  | 'HOSTS_READ_FAILED'
  | 'HOSTS_WRITE_FAILED'
  | 'HOSTS_ENCODING_UNSUPPORTED'
  | 'HOSTS_CONFLICT'
  | 'HOSTS_CHANGED_BEHIND_US'
  | 'ELEVATION_DENIED'
  | 'ELEVATION_FAILED'
  | 'PORT_IN_USE'
  | 'PORT_NEEDS_PRIVILEGE'
  | 'ALREADY_RUNNING'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_REFUSED'
  | 'UPSTREAM_AUTH_REQUIRED'
  | 'UPSTREAM_TLS_FAILED'
  | 'SSH_HOST_KEY_UNKNOWN'
  | 'SSH_HOST_KEY_MISMATCH'
  | 'SSH_AUTH_FAILED'
  | 'SNI_MISSING'
  | 'NAME_NOT_ALLOWED'
  | 'CLIENT_HELLO_TIMEOUT'
  | 'CLIENT_HELLO_TOO_LARGE'
  | 'CLIENT_CLOSED'
  | 'PROBE_FAILED'
  | 'DISCOVERY_FAILED'
  | 'CREDENTIALS_MISSING'
  | 'LEASE_PENDING'
  | 'USAGE'

export interface BridgeErrorOptions {
  readonly hint?: string
  readonly field?: string
  readonly cause?: unknown
  /**
   * Extra data a caller may act on (e.g. the fingerprint of an unknown SSH host key). `timedOut: true` marks a
   * failure that is a time limit running out (a dial that got no answer), whatever the message says.
   */
  readonly details?: Readonly<Record<string, string | number | boolean>>
}

/** An expected failure: a code to branch on, a message to show, and what the user must do next. */
export class BridgeError extends Error {
  readonly code: ErrorCode
  readonly hint: string | undefined
  readonly field: string | undefined
  readonly details: Readonly<Record<string, string | number | boolean>> | undefined

  constructor(code: ErrorCode, message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BridgeError'
    this.code = code
    this.hint = options.hint
    this.field = options.field
    this.details = options.details
  }

  toJSON(): SerializedError {
    return serializeError(this)
  }
}

export function isBridgeError(value: unknown, code?: ErrorCode): value is BridgeError {
  return value instanceof BridgeError && (code === undefined || value.code === code)
}

/** Turns anything thrown into what may cross a boundary; unknown errors keep only their message. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof BridgeError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(error.details === undefined ? {} : { details: plainDetails(error.details) }),
    }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'INTERNAL', message }
}

/** A copy holding only string, finite number and boolean values (details cross IPC and the CLI's --json). */
function plainDetails(details: Readonly<Record<string, unknown>>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[key] = value
  }
  return out
}

/** The errno code of a Node system error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code
  }
  return undefined
}
