// One elevated run: stage the files a plan needs in a private folder under the data dir, write the script there,
// run the fixed command through the Elevator (ONE prompt), and remove the folder whatever happens.

import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { BridgeError } from '../errors.js'
import type { Logger } from '../logger.js'
import { appName, type Platform } from '../paths.js'
import { toElevationError } from './elevation-error.js'
import { buildElevatedCommand, buildPrivilegedScript, isSafeAppPath, scriptFileName } from './script.js'
import type { Elevator, PrivilegedPlan } from './types.js'

export interface PrivilegedRunOptions {
  readonly dataDir: string
  readonly platform: Platform
  readonly elevator: Elevator
  readonly logger?: Logger
  /** The name the OS prompt shows (sudo-prompt: letters, digits and spaces). */
  readonly promptName?: string
}

/** Where a plan's builder puts the files its steps name: each call returns the path of a new 0600 file. */
export interface Staging {
  readonly dir: string
  stage(fileName: string, content: Uint8Array | string): Promise<string>
}

export interface PrivilegedRunOutput {
  readonly stdout: string
  readonly stderr: string
}

/** The BridgeError for a data folder whose path cannot be put on a command line without escaping. */
function unsafeDataDir(dataDir: string): BridgeError {
  return new BridgeError('ELEVATION_FAILED', 'The acr-bridge data folder path has characters the administrator command cannot carry safely.', {
    hint:
      'Set ACR_BRIDGE_DATA_DIR to a folder whose path has only ASCII letters, digits, spaces and . _ - + , @ = ~ ( ), ' +
      'or run the command with sudo (as administrator on Windows) so no prompt is needed.',
    details: { dataDir },
  })
}

/**
 * Stages files with `prepare`, builds the script for the plan it returns, and runs it elevated. Rejects with
 * ELEVATION_DENIED when the prompt is cancelled and ELEVATION_FAILED when the script fails; the staging folder is
 * removed in every case.
 */
export async function runPrivileged(
  options: PrivilegedRunOptions,
  prepare: (staging: Staging) => Promise<PrivilegedPlan>,
): Promise<PrivilegedRunOutput> {
  const { dataDir, platform } = options
  if (!isSafeAppPath(platform, dataDir)) throw unsafeDataDir(dataDir)
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 })
  const dir = await fs.mkdtemp(join(dataDir, 'elevate-'))
  try {
    await fs.chmod(dir, 0o700)
    const staging: Staging = {
      dir,
      async stage(fileName, content) {
        if (!/^[a-z0-9][a-z0-9.-]*$/.test(fileName)) throw new Error(`runPrivileged: bad staging file name ${JSON.stringify(fileName)}`)
        const path = join(dir, fileName)
        await fs.writeFile(path, content, { mode: 0o600, flag: 'wx' })
        return path
      },
    }
    const plan = await prepare(staging)
    const script = buildPrivilegedScript(platform, plan)
    const scriptPath = await staging.stage(scriptFileName(platform), script)
    const command = buildElevatedCommand(platform, scriptPath)
    options.logger?.info(`[hosts] asking for administrator rights to run ${plan.steps.map((step) => step.kind).join(', ')}`)
    try {
      const result = await options.elevator.run(command, { name: options.promptName ?? appName })
      return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') }
    } catch (error) {
      throw toElevationError(error)
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}
