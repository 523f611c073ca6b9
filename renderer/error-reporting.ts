// The window's own failures (an uncaught error, an unhandled promise rejection) go to the main log through
// `log:write`, so a broken window leaves a trace where the rest of the app logs. Main rate-limits and bounds them;
// the limits here only keep a request within what main's validator accepts.

import type { AcrApi, RendererLogRequest } from '../electron/common/ipc-contract.js'

const limits = { message: 4096, source: 1024, stack: 16384 } as const

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function describe(reason: unknown): { message: string; stack?: string } {
  if (reason instanceof Error) return { message: `${reason.name}: ${reason.message}`, ...(reason.stack === undefined ? {} : { stack: reason.stack }) }
  try {
    return { message: typeof reason === 'string' ? reason : JSON.stringify(reason) ?? String(reason) }
  } catch {
    return { message: String(reason) }
  }
}

/** Starts forwarding `error` and `unhandledrejection` events of `target` to `api.log.write`; returns the undo. */
export function installErrorReporting(api: Pick<AcrApi, 'log'>, target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window): () => void {
  const send = (request: RendererLogRequest): void => {
    const bounded: RendererLogRequest = {
      level: request.level,
      message: cut(request.message, limits.message),
      ...(request.source === undefined ? {} : { source: cut(request.source, limits.source) }),
      ...(request.stack === undefined ? {} : { stack: cut(request.stack, limits.stack) }),
    }
    // Reporting must never raise an error of its own (that would report itself).
    void Promise.resolve()
      .then(() => api.log.write(bounded))
      .catch(() => undefined)
  }
  const onError = (event: Event): void => {
    const e = event as ErrorEvent
    const described = e.error === undefined || e.error === null ? { message: e.message || 'Script error' } : describe(e.error)
    const source = e.filename ? `${e.filename}:${e.lineno}:${e.colno}` : undefined
    send({ level: 'error', ...described, ...(source === undefined ? {} : { source }) })
  }
  const onRejection = (event: Event): void => {
    const described = describe((event as PromiseRejectionEvent).reason)
    send({ level: 'error', ...described, message: `Unhandled rejection: ${described.message}` })
  }
  target.addEventListener('error', onError)
  target.addEventListener('unhandledrejection', onRejection)
  return () => {
    target.removeEventListener('error', onError)
    target.removeEventListener('unhandledrejection', onRejection)
  }
}
