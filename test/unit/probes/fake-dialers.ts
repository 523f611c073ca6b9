// Dialers for probe unit tests: no network, each dial fails the way the test needs.

import type { Duplex } from 'node:stream'
import type { TunnelMode } from '../../../electron/core/config/types.js'
import type { Dialer } from '../../../electron/core/tunnel/types.js'

/** Every dial fails with `error`. */
export function failingDialer(error: unknown, mode: TunnelMode = 'connect'): Dialer {
  return {
    mode,
    dial: async (): Promise<Duplex> => {
      throw error
    },
    close: async () => {},
  }
}
