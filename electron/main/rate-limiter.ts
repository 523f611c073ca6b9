// A sliding-window rate limiter: at most `max` events in any `windowMs`. Pure: time comes from `now`.

export interface RateLimiter {
  /** true (and counts the event) when one more event fits in the window now. */
  tryAcquire(): boolean
}

export interface RateLimiterOptions {
  readonly max: number
  readonly windowMs: number
  readonly now: () => number
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (!Number.isInteger(options.max) || options.max < 1) throw new Error(`max must be a positive integer, got ${options.max}`)
  if (!(options.windowMs > 0)) throw new Error(`windowMs must be positive, got ${options.windowMs}`)
  const times: number[] = []
  return {
    tryAcquire() {
      const now = options.now()
      while (times.length > 0 && now - (times[0] as number) >= options.windowMs) times.shift()
      if (times.length >= options.max) return false
      times.push(now)
      return true
    },
  }
}
