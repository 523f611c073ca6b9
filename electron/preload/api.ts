// Builds window.acr from the contract: one named function per invoke channel, one subscriber per event channel.
// No business logic. The window never gets ipcRenderer, a generic invoke/send/on, or an IpcRendererEvent.

import {
  eventChannels,
  eventMethods,
  invokeChannels,
  invokeMethods,
  isEventChannel,
  isInvokeChannel,
  type AcrApi,
  type Result,
} from '../common/ipc-contract.js'

/** The part of Electron's ipcRenderer the preload uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

export function buildAcrApi(ipc: IpcRendererLike): AcrApi {
  const domains: Record<string, Record<string, unknown>> = {}
  for (const channel of invokeChannels) {
    const [domain, method] = invokeMethods[channel]
    const group = (domains[domain] ??= {})
    group[method] = (...args: unknown[]) => invoke(ipc, channel, args)
  }
  const api: Record<string, unknown> = {}
  for (const [domain, group] of Object.entries(domains)) api[domain] = Object.freeze(group)
  for (const channel of eventChannels) {
    api[eventMethods[channel]] = (listener: unknown) => subscribe(ipc, channel, listener)
  }
  return Object.freeze(api) as unknown as AcrApi
}

async function invoke(ipc: IpcRendererLike, channel: string, args: readonly unknown[]): Promise<Result<unknown>> {
  if (!isInvokeChannel(channel)) return { ok: false, error: { code: 'FORBIDDEN', message: `${channel} is not an ACR Bridge channel.` } }
  try {
    // Only the request crosses; extra arguments are dropped (TypeScript lets callers pass them).
    const answer = args.length === 0 || args[0] === undefined ? await ipc.invoke(channel) : await ipc.invoke(channel, args[0])
    return answer as Result<unknown>
  } catch (error) {
    // Only when main has no handler or the IPC itself broke: handlers answer Results and never throw.
    return { ok: false, error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } }
  }
}

function subscribe(ipc: IpcRendererLike, channel: string, listener: unknown): () => void {
  if (!isEventChannel(channel)) throw new Error(`${channel} is not an ACR Bridge event channel.`)
  if (typeof listener !== 'function') throw new TypeError('The listener must be a function.')
  // The callback gets the payload only, never the IpcRendererEvent (which exposes ipcRenderer itself).
  const wrapped = (_event: unknown, payload: unknown): void => {
    ;(listener as (payload: unknown) => void)(payload)
  }
  ipc.on(channel, wrapped)
  let subscribed = true
  return () => {
    if (!subscribed) return
    subscribed = false
    ipc.removeListener(channel, wrapped)
  }
}
