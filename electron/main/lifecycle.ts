// Every way out goes through one shutdown: stop the tunnel and revert the hosts block (controller.dispose(), one
// elevation at most) with a time limit, then quit. Quit from the menu, Cmd-Q, the OS logging out or shutting down,
// and a crash all take this path (clash-verge-rev#7327: a quit path that skipped cleanup broke users' network).

import type { Logger } from '../core/logger.js'
import type { AppLike, PowerMonitorLike, PreventableEvent } from './electron-surface.js'

export interface QuitSequenceOptions {
  readonly app: Pick<AppLike, 'on' | 'quit' | 'exit'>
  readonly powerMonitor?: PowerMonitorLike
  /** controller.dispose(): stops the tunnel, reverts the hosts block. */
  readonly dispose: () => Promise<void>
  /** How long to wait for dispose before quitting anyway (the stale-lease check at the next start cleans up). */
  readonly timeoutMs: number
  readonly logger: Logger
}

export interface QuitSequence {
  /** True from the first quit request on: windows close for real instead of hiding. */
  readonly quitting: boolean
  /** Runs the cleanup once (later calls get the same promise), then app.quit(). */
  shutdown(reason: string): Promise<void>
  /** A window's 'session-end' (Windows logoff/shutdown: cannot be delayed, so start cleaning up at once). */
  onSessionEnd(): void
  /** uncaughtException / unhandledRejection: log, clean up, exit non-zero. */
  onFatal(kind: string, error: unknown): void
}

export function installQuitSequence(options: QuitSequenceOptions): QuitSequence {
  const { app, logger } = options
  let quitting = false
  let cleanedUp = false
  let running: Promise<void> | undefined
  let exitCode: number | undefined

  /** The one shutdown: the first caller starts it, every later caller gets the same promise. */
  function shutdown(reason: string): Promise<void> {
    quitting = true
    running ??= (async () => {
      logger.info(`[app] shutting down (${reason})`)
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), options.timeoutMs)
      })
      try {
        const outcome = await Promise.race([options.dispose().then(() => 'done' as const), timeout])
        if (outcome === 'timeout') {
          logger.warn(`[app] cleanup did not finish within ${options.timeoutMs} ms; quitting anyway (the next start offers to revert what is left)`)
        }
      } catch (error) {
        logger.error('[app] cleanup failed; the next start offers to revert what is left', error)
      } finally {
        if (timer !== undefined) clearTimeout(timer)
        cleanedUp = true
      }
      if (exitCode !== undefined) app.exit(exitCode)
      else app.quit()
    })()
    return running
  }

  app.on('before-quit', () => {
    // Windows may now close for real.
    quitting = true
  })

  app.on('will-quit', (event: PreventableEvent) => {
    if (cleanedUp) return
    // Prevented once: after cleanup, shutdown() calls app.quit() again and this handler lets it through.
    event.preventDefault()
    void shutdown('quit')
  })

  options.powerMonitor?.on('shutdown', (event?: PreventableEvent) => {
    // Linux/macOS: preventDefault asks the OS to wait while we clean up.
    event?.preventDefault()
    void shutdown('system shutdown')
  })

  return {
    get quitting() {
      return quitting
    },
    shutdown,
    onSessionEnd() {
      void shutdown('session end')
    },
    onFatal(kind, error) {
      logger.error(`[app] ${kind}`, error)
      exitCode ??= 1
      void shutdown(kind)
    },
  }
}
