// The window's own errors reach the main log through log:write (renderer/error-reporting.ts).
import { describe, expect, it } from 'vitest'
import { installErrorReporting } from '../../renderer/error-reporting.js'
import { createFakeBridge } from '../fakes/fake-bridge.js'

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('error reporting', () => {
  it('an uncaught error and an unhandled rejection are written, with where and the stack', async () => {
    const bridge = createFakeBridge()
    const target = new EventTarget()
    const undo = installErrorReporting(bridge.api, target as unknown as Window)
    const error = new TypeError('x is undefined')
    target.dispatchEvent(new ErrorEvent('error', { message: 'Uncaught TypeError: x is undefined', filename: 'http://127.0.0.1/assets/a.js', lineno: 3, colno: 9, error }))
    const rejection = new Event('unhandledrejection') as Event & { reason?: unknown }
    rejection.reason = 'no answer'
    target.dispatchEvent(rejection)
    await settle()
    const written = bridge.requestsOf('log:write')
    expect(written[0]).toMatchObject({ level: 'error', message: 'TypeError: x is undefined', source: 'http://127.0.0.1/assets/a.js:3:9' })
    expect((written[0] as { stack?: string }).stack).toContain('x is undefined')
    expect(written[1]).toEqual({ level: 'error', message: 'Unhandled rejection: no answer' })

    undo()
    target.dispatchEvent(new ErrorEvent('error', { message: 'after undo' }))
    await settle()
    expect(bridge.requestsOf('log:write')).toHaveLength(2)
  })

  it('keeps every request within what main accepts, and a failing write raises nothing', async () => {
    const bridge = createFakeBridge()
    bridge.failNext('log:write', { code: 'USAGE', message: 'refused' })
    const target = new EventTarget()
    installErrorReporting(bridge.api, target as unknown as Window)
    target.dispatchEvent(new ErrorEvent('error', { message: 'm'.repeat(10_000), filename: 'f'.repeat(5_000), lineno: 1, colno: 1 }))
    await settle()
    const [request] = bridge.requestsOf('log:write') as { message: string; source: string }[]
    expect(request?.message.length).toBe(4096)
    expect(request?.source.length).toBe(1024)
  })
})
