// OS notifications when the session state changes kind, rate-limited so a flapping link cannot flood the user.

import type { SessionState, SessionStateKind } from '../common/status.js'
import type { RateLimiter } from './rate-limiter.js'

export interface StateNotification {
  readonly title: string
  readonly body: string
}

/** What to tell the user about a change from `previous` to `next`, or nothing (e.g. off → starting). */
export function notificationFor(previous: SessionStateKind | undefined, next: SessionState): StateNotification | undefined {
  if (previous === next.kind) return undefined
  switch (next.kind) {
    case 'healthy':
      return previous === 'starting' || previous === undefined
        ? { title: 'ACR Bridge connected', body: 'Every registry name answers through the tunnel.' }
        : { title: 'ACR Bridge healthy again', body: 'Every registry name answers through the tunnel.' }
    case 'degraded':
      return { title: 'ACR Bridge degraded', body: failingBody(next) }
    case 'down':
      return { title: 'ACR Bridge is down', body: next.error?.message ?? failingBody(next) }
    case 'off':
      return next.error === undefined ? undefined : { title: 'ACR Bridge stopped', body: next.error.message }
    case 'starting':
      return undefined
  }
}

export interface StateNotifier {
  /** Call on every state change; shows at most what the limiter allows. */
  update(state: SessionState): void
}

export function createStateNotifier(options: {
  readonly limiter: RateLimiter
  readonly enabled: () => boolean
  readonly show: (notification: StateNotification) => void
}): StateNotifier {
  let previous: SessionStateKind | undefined
  return {
    update(state) {
      const notification = notificationFor(previous, state)
      previous = state.kind
      if (notification === undefined || !options.enabled()) return
      if (options.limiter.tryAcquire()) options.show(notification)
    },
  }
}

function failingBody(state: SessionState): string {
  if (state.failing.length === 0) return state.error?.message ?? 'Some checks fail; open the window for details.'
  const first = state.failing[0]
  const more = state.failing.length > 1 ? ` (and ${state.failing.length - 1} more)` : ''
  return `${first?.name}: ${first?.reason}${more}`
}
