// An Elevator for a process that already has the rights (root, or an elevated Administrator shell, e.g. the CLI
// under sudo): it runs the same fixed command line without a prompt. The command comes from buildElevatedCommand,
// whose only variable part is a checked staging path, so nothing else reaches the shell.

import { exec } from 'node:child_process'
import type { Elevator } from './types.js'

export function createDirectElevator(options: { readonly timeoutMs?: number } = {}): Elevator {
  return {
    run(command) {
      return new Promise((resolve, reject) => {
        exec(command, { encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, windowsHide: true }, (error, stdout, stderr) => {
          if (error) {
            // The first stderr line is what toElevationError shows; keep the script's own words.
            const detail = stderr.trim() === '' ? error.message : stderr.trim()
            reject(Object.assign(new Error(`Command failed: ${detail}`), { code: error.code, stdout, stderr }))
            return
          }
          resolve({ stdout, stderr })
        })
      })
    },
  }
}

/** Does this process already have the rights a privileged run needs? (POSIX: uid 0. Windows: the caller knows.) */
export function isProcessPrivileged(processLike: { getuid?: () => number } = process): boolean {
  return typeof processLike.getuid === 'function' && processLike.getuid() === 0
}
