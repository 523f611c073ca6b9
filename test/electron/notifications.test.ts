import { describe, expect, test } from 'vitest'
import { createRateLimiter } from '../../electron/main/rate-limiter.js'
import { createStateNotifier, notificationFor, type StateNotification } from '../../electron/main/notifications.js'
import { stateOf } from './helpers.js'

function clock(start = 1_000_000) {
  let now = start
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

describe('createRateLimiter', () => {
  test('at most max events in any window; slots free up as old events leave the window', () => {
    const c = clock()
    const limiter = createRateLimiter({ max: 3, windowMs: 60_000, now: c.now })
    expect([limiter.tryAcquire(), limiter.tryAcquire(), limiter.tryAcquire(), limiter.tryAcquire()]).toEqual([true, true, true, false])
    c.advance(59_999)
    expect(limiter.tryAcquire()).toBe(false)
    c.advance(1)
    expect(limiter.tryAcquire()).toBe(true)
    expect(limiter.tryAcquire()).toBe(true)
    expect(limiter.tryAcquire()).toBe(true)
    expect(limiter.tryAcquire()).toBe(false)
  })

  test('a refused attempt does not use up a slot', () => {
    const c = clock()
    const limiter = createRateLimiter({ max: 1, windowMs: 1_000, now: c.now })
    expect(limiter.tryAcquire()).toBe(true)
    for (let i = 0; i < 10; i++) {
      c.advance(50)
      expect(limiter.tryAcquire()).toBe(false)
    }
    c.advance(500)
    expect(limiter.tryAcquire()).toBe(true)
  })

  test('over any sliding window of a long random sequence the limit holds', () => {
    const c = clock(0)
    const limiter = createRateLimiter({ max: 4, windowMs: 1_000, now: c.now })
    const granted: number[] = []
    let seed = 7
    for (let i = 0; i < 2_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      c.advance(seed % 300)
      if (limiter.tryAcquire()) granted.push(c.now())
    }
    expect(granted.length).toBeGreaterThan(100)
    for (let i = 4; i < granted.length; i++) expect(granted[i]! - granted[i - 4]!).toBeGreaterThanOrEqual(1_000)
  })

  test('bad options are bugs', () => {
    expect(() => createRateLimiter({ max: 0, windowMs: 1, now: Date.now })).toThrow()
    expect(() => createRateLimiter({ max: 1, windowMs: 0, now: Date.now })).toThrow()
  })
})

describe('state notifications', () => {
  test('what is worth telling', () => {
    expect(notificationFor(undefined, stateOf('off'))).toBeUndefined()
    expect(notificationFor('off', stateOf('starting'))).toBeUndefined()
    expect(notificationFor('starting', stateOf('healthy'))?.title).toBe('ACR Bridge connected')
    expect(notificationFor('degraded', stateOf('healthy'))?.title).toBe('ACR Bridge healthy again')
    expect(notificationFor('healthy', stateOf('healthy'))).toBeUndefined()
    expect(notificationFor('healthy', stateOf('down', [], { code: 'UPSTREAM_UNREACHABLE', message: 'The ECS does not answer.' }))).toEqual({
      title: 'ACR Bridge is down',
      body: 'The ECS does not answer.',
    })
    expect(notificationFor('healthy', stateOf('degraded', [{ name: 'a.aliyuncs.com', reason: 'no answer' }]))?.body).toBe('a.aliyuncs.com: no answer')
    // degraded with no failing name: the SSH connection reconnecting, and why
    expect(notificationFor('healthy', stateOf('degraded', [], { code: 'UPSTREAM_UNREACHABLE', message: 'The SSH connection was lost.' }))).toEqual({
      title: 'ACR Bridge degraded',
      body: 'The SSH connection was lost.',
    })
    expect(notificationFor('healthy', stateOf('off'))).toBeUndefined()
    expect(notificationFor('healthy', stateOf('off', [], { code: 'X', message: 'Stopped: port taken.' }))?.body).toBe('Stopped: port taken.')
  })

  test('a flapping link gives at most `max` notifications per window, and none when turned off', () => {
    const c = clock()
    const shown: StateNotification[] = []
    let enabled = true
    const notifier = createStateNotifier({ limiter: createRateLimiter({ max: 3, windowMs: 60_000, now: c.now }), enabled: () => enabled, show: (n) => shown.push(n) })
    for (let i = 0; i < 20; i++) {
      notifier.update(stateOf(i % 2 === 0 ? 'degraded' : 'healthy', [{ name: 'a.aliyuncs.com', reason: 'x' }]))
      c.advance(1_000)
    }
    expect(shown).toHaveLength(3)
    c.advance(60_000)
    enabled = false
    notifier.update(stateOf('down'))
    expect(shown).toHaveLength(3)
    enabled = true
    notifier.update(stateOf('healthy'))
    expect(shown).toHaveLength(4)
  })
})
