// window.acr for the TEST HOST (test/e2e/host), never for the desktop app: the same AcrApi, built from the same
// contract tables as the preload, but over HTTP (POST /invoke/<channel>, one JSON Result per call) and Server-Sent
// Events (GET /events, one `event: <channel>` per event) to the page's own origin. Only host.html loads it; the
// app's index.html uses window.acr from the preload. It imports nothing but electron/common.

import {
  eventChannels,
  eventMethods,
  invokeChannels,
  invokeMethods,
  isEventChannel,
  type AcrApi,
  type EventChannel,
  type InvokeChannel,
  type Result,
} from '../electron/common/ipc-contract.js'

export interface HostBridgeOptions {
  /** Where the host answers; default the page's own origin (the only one its CSP allows). */
  readonly base?: string
  readonly fetch?: typeof fetch
  readonly EventSource?: typeof EventSource
}

export function createHostBridge(options: HostBridgeOptions = {}): AcrApi {
  const base = (options.base ?? window.location.origin).replace(/\/$/, '')
  const doFetch = options.fetch ?? window.fetch.bind(window)
  const Source = options.EventSource ?? window.EventSource
  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>()

  // Opened at once, so no event of the first moments is missed; the browser reconnects it by itself.
  const source = new Source(`${base}/events`)
  for (const channel of eventChannels) {
    source.addEventListener(channel, (event) => {
      let payload: unknown
      try {
        payload = JSON.parse((event as MessageEvent<string>).data)
      } catch {
        return
      }
      for (const listener of [...(listeners.get(channel) ?? [])]) listener(payload)
    })
  }

  async function invoke(channel: InvokeChannel, args: readonly unknown[]): Promise<Result<unknown>> {
    try {
      // As the preload: only the request crosses, extra arguments are dropped.
      const sent = args.length === 0 || args[0] === undefined ? [] : [args[0]]
      const response = await doFetch(`${base}/invoke/${encodeURIComponent(channel)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args: sent }),
        credentials: 'same-origin',
      })
      const answer: unknown = await response.json()
      if (typeof answer === 'object' && answer !== null && 'ok' in answer) return answer as Result<unknown>
      return { ok: false, error: { code: 'INTERNAL', message: `The test host answered ${response.status} without a Result.` } }
    } catch (error) {
      return { ok: false, error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } }
    }
  }

  function subscribe(channel: EventChannel, listener: unknown): () => void {
    if (!isEventChannel(channel)) throw new Error(`${channel} is not an ACR Bridge event channel.`)
    if (typeof listener !== 'function') throw new TypeError('The listener must be a function.')
    const wrapped = (payload: unknown): void => (listener as (payload: unknown) => void)(payload)
    let set = listeners.get(channel)
    if (set === undefined) listeners.set(channel, (set = new Set()))
    set.add(wrapped)
    return () => {
      set.delete(wrapped)
    }
  }

  const domains: Record<string, Record<string, unknown>> = {}
  for (const channel of invokeChannels) {
    const [domain, method] = invokeMethods[channel]
    const group = (domains[domain] ??= {})
    group[method] = (...args: unknown[]) => invoke(channel, args)
  }
  const api: Record<string, unknown> = {}
  for (const [domain, group] of Object.entries(domains)) api[domain] = Object.freeze(group)
  for (const channel of eventChannels) api[eventMethods[channel]] = (listener: unknown) => subscribe(channel, listener)
  return Object.freeze(api) as unknown as AcrApi
}
