import { BridgeError, isBridgeError } from '../errors.js'

/** @vscode/sudo-prompt's message when the user cancels the prompt (or, on Windows, for any elevation failure). */
export const sudoPromptPermissionDenied = 'User did not grant permission.'
/** @vscode/sudo-prompt's message on Linux when no polkit agent can show a prompt. */
export const sudoPromptNoPolkitAgent = 'No polkit authentication agent found.'
/** @vscode/sudo-prompt's message on Linux when neither /usr/bin/pkexec nor /usr/bin/kdesudo exists. */
export const sudoPromptNoPromptProgram = 'Unable to find pkexec or kdesudo.'

function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((part) => part.trim().length > 0) ?? ''
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}

/** Maps whatever an Elevator rejected with to ELEVATION_DENIED (prompt cancelled) or ELEVATION_FAILED. */
export function toElevationError(error: unknown, stderr?: string): BridgeError {
  if (isBridgeError(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  if (message === sudoPromptPermissionDenied) {
    return new BridgeError('ELEVATION_DENIED', 'The administrator prompt was cancelled, so nothing was changed.', {
      hint: 'Approve the prompt to let acr-bridge change the file, or run the command with sudo (as administrator on Windows).',
      cause: error,
    })
  }
  if (message === sudoPromptNoPolkitAgent) {
    return new BridgeError('ELEVATION_FAILED', 'No polkit agent is running to show the administrator prompt.', {
      hint: 'Start a polkit authentication agent for your desktop session, or run the command with sudo.',
      cause: error,
      details: { promptShown: false },
    })
  }
  if (message === sudoPromptNoPromptProgram) {
    return new BridgeError('ELEVATION_FAILED', 'No program to show the administrator prompt is installed (pkexec or kdesudo).', {
      hint: 'Install polkit (the pkexec command) and an authentication agent, or run the command with sudo.',
      cause: error,
      details: { promptShown: false },
    })
  }
  const detail = firstLine(stderr !== undefined && stderr.trim() !== '' ? stderr : message)
  return new BridgeError('ELEVATION_FAILED', `The privileged step failed${detail === '' ? '' : `: ${detail}`}.`, {
    hint: 'See the acr-bridge log for the full error; running the command with sudo (as administrator on Windows) avoids the prompt.',
    cause: error,
  })
}

/** The elevation never got as far as running anything: the prompt was cancelled, or no prompt could be shown. */
export function elevationNeverRan(error: unknown): boolean {
  if (isBridgeError(error, 'ELEVATION_DENIED')) return true
  return isBridgeError(error, 'ELEVATION_FAILED') && error.details?.['promptShown'] === false
}
