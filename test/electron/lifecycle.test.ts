import { beforeEach, describe, expect, test, vi } from 'vitest'
import * as electron from '../fakes/electron.js'
import { installQuitSequence } from '../../electron/main/lifecycle.js'
import { memoryLogger } from './helpers.js'

beforeEach(() => electron.resetFakeElectron())

function quitEvents(): string[] {
  const events: string[] = []
  electron.app.on('quit', () => events.push('quit'))
  return events
}

describe('the quit sequence', () => {
  test('will-quit is prevented once, dispose is awaited, then the app quits for real', async () => {
    const order: string[] = []
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const dispose = vi.fn(async () => {
      order.push('dispose:start')
      await gate
      order.push('dispose:end')
    })
    const sequence = installQuitSequence({ app: electron.app, powerMonitor: electron.powerMonitor, dispose, timeoutMs: 60_000, logger: memoryLogger() })
    electron.app.on('quit', () => order.push('quit'))

    electron.app.quit()
    expect(sequence.quitting).toBe(true)
    expect(order).toEqual(['dispose:start'])
    // A second Cmd-Q while cleaning up does not start a second cleanup.
    electron.app.quit()
    expect(dispose).toHaveBeenCalledTimes(1)
    expect(order).toEqual(['dispose:start'])

    release()
    await vi.waitFor(() => expect(order).toEqual(['dispose:start', 'dispose:end', 'quit']))
    expect(electron.app.quitCalls).toBe(3)
    expect(dispose).toHaveBeenCalledTimes(1)
  })

  test('a dispose that hangs is given up after the time limit and the app still quits', async () => {
    const logger = memoryLogger()
    const events = quitEvents()
    installQuitSequence({ app: electron.app, dispose: () => new Promise<void>(() => {}), timeoutMs: 20, logger })
    electron.app.quit()
    await vi.waitFor(() => expect(events).toEqual(['quit']))
    expect(logger.lines.some((l) => l.includes('did not finish within 20 ms'))).toBe(true)
  })

  test('a dispose that fails is logged and the app still quits', async () => {
    const logger = memoryLogger()
    const events = quitEvents()
    installQuitSequence({ app: electron.app, dispose: async () => Promise.reject(new Error('elevation denied')), timeoutMs: 60_000, logger })
    electron.app.quit()
    await vi.waitFor(() => expect(events).toEqual(['quit']))
    expect(logger.lines.some((l) => l.startsWith('error [app] cleanup failed') && l.includes('elevation denied'))).toBe(true)
  })

  test('OS shutdown (powerMonitor) asks the OS to wait, cleans up, then quits', async () => {
    const dispose = vi.fn(async () => {})
    const events = quitEvents()
    installQuitSequence({ app: electron.app, powerMonitor: electron.powerMonitor, dispose, timeoutMs: 60_000, logger: memoryLogger() })
    const event = electron.preventable()
    electron.powerMonitor.emit('shutdown', event)
    expect(event.defaultPrevented).toBe(true)
    await vi.waitFor(() => expect(events).toEqual(['quit']))
    expect(dispose).toHaveBeenCalledTimes(1)
  })

  test('Windows session end starts the same cleanup once', async () => {
    const dispose = vi.fn(async () => {})
    const events = quitEvents()
    const sequence = installQuitSequence({ app: electron.app, dispose, timeoutMs: 60_000, logger: memoryLogger() })
    sequence.onSessionEnd()
    sequence.onSessionEnd()
    await vi.waitFor(() => expect(events).toEqual(['quit']))
    expect(dispose).toHaveBeenCalledTimes(1)
  })

  test('a fatal error is logged, cleaned up after, and exits non-zero', async () => {
    const logger = memoryLogger()
    const dispose = vi.fn(async () => {})
    const sequence = installQuitSequence({ app: electron.app, dispose, timeoutMs: 60_000, logger })
    sequence.onFatal('uncaughtException', new Error('boom'))
    await vi.waitFor(() => expect(electron.app.exitCode).toBe(1))
    expect(dispose).toHaveBeenCalledTimes(1)
    expect(logger.lines[0]).toBe('error [app] uncaughtException boom')
  })
})
