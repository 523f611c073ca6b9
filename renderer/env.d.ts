import type { AcrApi } from '../electron/common/ipc-contract.js'

declare global {
  interface Window {
    /** Exposed by the preload (or by a test host); the renderer reaches it only through useBridge(). */
    readonly acr?: AcrApi
  }
}

export {}
