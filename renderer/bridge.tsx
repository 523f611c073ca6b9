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
 * What the window knows when it offers to trust an SSH host key: the tunnel's host and port, and the fingerprint,
 * key type and key an SSH_HOST_KEY_UNKNOWN error carries in its `details`. Main checks the fingerprint against the
 * key and the host and port against the saved tunnel before it writes anything (`ssh:trust-host-key`).
 */
export interface HostKeyTrustRequest {
  readonly host: string
  readonly port: number
  /** `SHA256:…`, as the error reported it. */
  readonly fingerprint: string
  /** `ssh-ed25519`, … and the key itself (base64), when the error carried them (core's details do). */
  readonly keyType?: string
  readonly key?: string
}

/** The bridge's host key trust function (`api.ssh.trustHostKey`), when it has one. */
export function hostKeyTrust(api: AcrApi): ((request: HostKeyTrustRequest) => Promise<Result<null>>) | undefined {
  // A bridge built before the channel existed has no `ssh`: the window then shows the key and the hint only.
  const trust = (api as Partial<Pick<AcrApi, 'ssh'>>).ssh?.trustHostKey
  if (trust === undefined) return undefined
  return async (request) => {
    const { host, port, fingerprint, keyType, key } = request
    if (keyType === undefined || key === undefined) {
      return {
        ok: false,
        error: {
          code: 'USAGE',
          message: 'The error did not carry the key itself, so it cannot be trusted from here.',
          hint: 'Add the key to your known_hosts file yourself (ssh-keyscan on a trusted network), then test again.',
        },
      }
    }
    return trust({ host, port, fingerprint, keyType, key })
  }
}

export interface HostKeyDetails {
  readonly fingerprint: string
  readonly keyType?: string
  readonly key?: string
}

/** The key an SSH_HOST_KEY_UNKNOWN error carries in its details (core's BridgeError.details, passed through). */
export function hostKeyDetails(error: SerializedError): HostKeyDetails | undefined {
  const details = error.details
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
