// A fake Elevator that is still real where it matters: it runs the command exactly the way @vscode/sudo-prompt does
// on Linux (through a shell, inside `/bin/bash -c "echo SUDOPROMPT; <command with " escaped>"`), only without the
// password prompt and as the current user. `deny` answers like a cancelled prompt.

import { exec } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { Elevator } from '../../../electron/core/privileged/types.js'

export interface RecordedRun {
  readonly command: string
  readonly name: string
  /** The script file's text at the moment the command ran (the command names it last, in quotes). */
  readonly script: string
}

export interface FakeElevator extends Elevator {
  readonly runs: RecordedRun[]
}

function scriptPathOf(command: string): string {
  const match = /^\/bin\/sh '([^']+)'$/.exec(command) ?? /-File "([^"]+)"$/.exec(command)
  if (match?.[1] === undefined) throw new Error(`fake elevator: unexpected command ${command}`)
  return match[1]
}

export function createFakeElevator(options: { deny?: boolean; execute?: boolean } = {}): FakeElevator {
  const runs: RecordedRun[] = []
  return {
    runs,
    run(command, { name }) {
      runs.push({ command, name, script: readFileSync(scriptPathOf(command), 'utf8') })
      if (options.deny === true) return Promise.reject(new Error('User did not grant permission.'))
      if (options.execute === false) return Promise.resolve({ stdout: '', stderr: '' })
      const wrapped = `/bin/bash -c "echo SUDOPROMPT; ${command.replace(/"/g, '\\"')}"`
      return new Promise((resolve, reject) => {
        exec(wrapped, { encoding: 'utf8' }, (error, stdout, stderr) => {
          const out = stdout.startsWith('SUDOPROMPT\n') ? stdout.slice('SUDOPROMPT\n'.length) : stdout
          if (error) {
            reject(Object.assign(new Error(`Command failed: ${stderr.trim()}`), { code: error.code, stdout: out, stderr }))
            return
          }
          resolve({ stdout: out, stderr })
        })
      })
    },
  }
}
