// The real Elevator: @vscode/sudo-prompt shows the OS prompt (polkit/pkexec on Linux, the macOS authorization dialog,
// UAC on Windows) and runs the one fixed command line. Never used by tests: they inject a fake.

import { exec } from '@vscode/sudo-prompt'
import { toElevationError } from './elevation-error.js'
import type { Elevator } from './types.js'

function asText(value: string | Buffer | undefined): string {
  return value === undefined ? '' : value.toString()
}

export function createSudoPromptElevator(): Elevator {
  return {
    run(command, options) {
      return new Promise((resolve, reject) => {
        exec(command, { name: options.name }, (error, stdout, stderr) => {
          if (error) {
            const mapped = toElevationError(error, asText(stderr))
            reject(mapped)
            return
          }
          resolve({ stdout: asText(stdout), stderr: asText(stderr) })
        })
      })
    },
  }
}
