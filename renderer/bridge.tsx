/// <reference path="./env.d.ts" />
import { createContext, useContext, type ReactNode } from 'react'
import type { AcrApi, Result, SerializedError } from '../electron/common/ipc-contract.js'

const BridgeContext = createContext<AcrApi | undefined>(undefined)

/**
 * The one way the window reaches the app: `api` when given (tests, a test host), else `window.acr` from the
 * preload. Components call useBridge() and never touch window.acr.
 */
export function BridgeProvider({ api, children }: { readonly api?: AcrApi; readonly children: ReactNode }) {
  const value = api ?? window.acr
  if (value === undefined) throw new Error('window.acr is missing: the preload did not run and no api was given')
  return <BridgeContext.Provider value={value}>{children}</BridgeContext.Provider>
}

export function useBridge(): AcrApi {
  const api = useContext(BridgeContext)
  if (api === undefined) throw new Error('useBridge() needs a <BridgeProvider> above it')
  return api
}

/**
 * NOT in the contract yet (see the renderer report): trusting an unknown SSH host key, i.e. core's
 * `trustHostKey(knownHostsPath, host, port, keyType, keyBase64)` behind a channel such as `ssh:trust-host-key`.
 * The window uses it when the bridge offers it, and otherwise shows the key and the error's hint only.
 */
export interface HostKeyTrustRequest {
  readonly host: string
  readonly port: number
  /** As the SSH_HOST_KEY_UNKNOWN error reported it, e.g. `SHA256:…`; main should check it against `key`. */
  readonly fingerprint: string
  /** `ssh-ed25519`, … and the key itself (base64), when the error carried them (core's details do). */
  readonly keyType?: string
  readonly key?: string
}
export interface HostKeyTrustApi {
  readonly ssh?: { readonly trustHostKey: (request: HostKeyTrustRequest) => Promise<Result<null>> }
}

/** The bridge's host key trust function, when it has one. */
export function hostKeyTrust(api: AcrApi): ((request: HostKeyTrustRequest) => Promise<Result<null>>) | undefined {
  const extended = api as AcrApi & HostKeyTrustApi
  return extended.ssh?.trustHostKey
}

export interface HostKeyDetails {
  readonly fingerprint: string
  readonly keyType?: string
  readonly key?: string
}

/**
 * The key an SSH_HOST_KEY_UNKNOWN error carries. SerializedError has no `details` yet (see the report); core's
 * BridgeError.details (`fingerprint`, `keyType`, `key`) are read here when a bridge passes them through.
 */
export function hostKeyDetails(error: SerializedError): HostKeyDetails | undefined {
  const details = (error as SerializedError & { readonly details?: Readonly<Record<string, unknown>> }).details
  const text = (name: string): string | undefined => {
    const value = details?.[name]
    return typeof value === 'string' && value.length > 0 ? value : undefined
  }
  const fingerprint = text('fingerprint')
  if (fingerprint === undefined) return undefined
  const keyType = text('keyType')
  const key = text('key')
  return { fingerprint, ...(keyType === undefined ? {} : { keyType }), ...(key === undefined ? {} : { key }) }
}

/** A call that threw (a broken bridge, a dropped connection) becomes a Result like any other failure. */
export async function settle<T>(call: () => Promise<Result<T>>): Promise<Result<T>> {
  try {
    return await call()
  } catch (error) {
    return { ok: false, error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } }
  }
}
