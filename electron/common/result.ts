// What crosses a process boundary (IPC, the CLI's --json): values, never thrown errors.

export interface SerializedError {
  /** SCREAMING_SNAKE code, one of ErrorCode in core/errors.ts. */
  readonly code: string
  /** One sentence, safe to show to the user. */
  readonly message: string
  /** What the user should do next, when there is something to do. */
  readonly hint?: string
  /** The config field or input the error is about (`regions[0].id`), when there is one. */
  readonly field?: string
  /**
   * Plain values the caller may act on, passed through from core's BridgeError.details (e.g. the fingerprint,
   * keyType and key of an unknown SSH host key, which the window shows and hands back to `ssh:trust-host-key`).
   */
  readonly details?: Readonly<Record<string, string | number | boolean>>
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SerializedError }

export function ok<T>(value: T): Result<T> {
  return { ok: true, value }
}

export function err<T = never>(error: SerializedError): Result<T> {
  return { ok: false, error }
}
