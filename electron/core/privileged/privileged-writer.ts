// The privileged write: directly when this process may write the file and its folder, else ONE elevated run of a
// fixed script (install-file [+ flush-resolver-cache]) on files the app staged itself.

import { execFile } from 'node:child_process'
import { constants, promises as fs } from 'node:fs'
import { dirname } from 'node:path'
import { BridgeError, errnoCode, isBridgeError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Platform } from '../paths.js'
import { replaceFileContent } from './atomic-file.js'
import { runPrivileged } from './run-privileged.js'
import type {
  CompanionSteps,
  Elevator,
  FileInstallRequest,
  FileInstallResult,
  InstallMethod,
  PrivilegedStep,
  PrivilegedWriter,
} from './types.js'

export interface PrivilegedWriterOptions {
  readonly dataDir: string
  readonly platform: Platform
  readonly elevator: Elevator
  readonly logger?: Logger
  /** The name the OS prompt shows. */
  readonly promptName?: string
  /** Whether to write without elevation; default: fs.access W_OK on the file and on its folder. */
  readonly canWriteDirectly?: (target: string) => Promise<boolean>
  /** Flushes the resolver cache after a direct write; default: the platform's commands, best effort. */
  readonly flushResolverCache?: () => Promise<void>
}

/** May this process replace `target` itself? Needs write access to the file and to its folder (temp + rename). */
export async function canWriteDirectly(target: string): Promise<boolean> {
  try {
    await fs.access(target, constants.W_OK)
    await fs.access(dirname(target), constants.W_OK)
    return true
  } catch {
    return false
  }
}

function runQuietly(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000, windowsHide: true }, () => resolve())
  })
}

/** The resolver flush without elevation (the process is privileged already); failures and absent tools are ignored. */
export async function flushResolverCacheDirectly(platform: Platform): Promise<void> {
  switch (platform) {
    case 'darwin':
      await runQuietly('dscacheutil', ['-flushcache'])
      await runQuietly('killall', ['-HUP', 'mDNSResponder'])
      return
    case 'win32':
      await runQuietly('ipconfig', ['/flushdns'])
      return
    case 'linux':
      await runQuietly('resolvectl', ['flush-caches'])
      await runQuietly('nscd', ['-i', 'hosts'])
      return
  }
}

function parseMethod(stdout: string): InstallMethod {
  const match = /acr-bridge: method=(rename|in-place)/.exec(stdout)
  return match === null ? 'unknown' : (match[1] as InstallMethod)
}

async function readOrUndefined(path: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(path)
  } catch {
    return undefined
  }
}

export function createPrivilegedWriter(options: PrivilegedWriterOptions): PrivilegedWriter {
  const { platform, logger } = options
  const mayWrite = options.canWriteDirectly ?? canWriteDirectly
  const flush = options.flushResolverCache ?? (() => flushResolverCacheDirectly(platform))

  async function installDirectly(request: FileInstallRequest): Promise<FileInstallResult> {
    const method = await replaceFileContent(request.target, request.expected, request.content, { platform })
    if (request.flushResolverCache) await flush()
    return { elevated: false, method }
  }

  async function installElevated(request: FileInstallRequest, companions?: CompanionSteps): Promise<FileInstallResult> {
    const hasCompanions = companions !== undefined && companions.before.length + companions.after.length > 0
    let output: { stdout: string } | undefined
    let failure: BridgeError | undefined
    try {
      output = await runPrivileged(
        { dataDir: options.dataDir, platform, elevator: options.elevator, ...(logger ? { logger } : {}), ...(options.promptName ? { promptName: options.promptName } : {}) },
        async (staging) => {
          const steps: PrivilegedStep[] = [
            ...(companions?.before ?? []),
            {
              kind: 'install-file',
              source: await staging.stage('content.new', request.content),
              expected: await staging.stage('content.expected', request.expected),
              targetPathFile: await staging.stage('target-path', request.target),
            },
          ]
          if (request.flushResolverCache) steps.push({ kind: 'flush-resolver-cache' })
          steps.push(...(companions?.after ?? []))
          return { steps }
        },
      )
    } catch (error) {
      if (!isBridgeError(error)) throw error
      failure = error
    }
    // Whatever the elevator said, the file decides what happened.
    const current = await readOrUndefined(request.target)
    if (current !== undefined && current.equals(request.content)) {
      // A companion step (redirect, alias) that failed after the write still fails the call: its caller must know.
      if (failure !== undefined && hasCompanions) throw failure
      if (failure !== undefined) logger?.warn('[hosts] the privileged run reported a failure after writing the file', failure)
      return {
        elevated: true,
        method: output === undefined ? 'unknown' : parseMethod(output.stdout),
        ...(hasCompanions && output !== undefined ? { output: output.stdout } : {}),
      }
    }
    if (current !== undefined && !current.equals(request.expected) && failure?.code !== 'ELEVATION_DENIED') {
      throw new BridgeError('HOSTS_CHANGED_BEHIND_US', `${request.target} changed while acr-bridge was waiting for the administrator prompt.`, {
        hint: 'Try again; acr-bridge plans the change afresh from the current file.',
        details: { path: request.target },
        ...(failure ? { cause: failure } : {}),
      })
    }
    if (failure !== undefined) throw failure
    throw new BridgeError('ELEVATION_FAILED', `The privileged step ran but ${request.target} was not changed.`, {
      hint: 'See the acr-bridge log; running the command with sudo (as administrator on Windows) avoids the prompt.',
      details: { path: request.target },
    })
  }

  return {
    async install(request, companions) {
      // Companion steps need the privileged run anyway: the file goes with them, so there is one prompt, not two.
      if (companions !== undefined && companions.before.length + companions.after.length > 0) {
        return installElevated(request, companions)
      }
      if (await mayWrite(request.target)) {
        try {
          return await installDirectly(request)
        } catch (error) {
          if (isBridgeError(error)) throw error
          // access() said yes but the OS said no (Windows: access() ignores ACLs). replaceFileContent fails before it
          // changes anything when it is refused, so the elevated path starts from the same file.
          const code = errnoCode(error)
          if (code === 'EACCES' || code === 'EPERM') {
            logger?.info(`[hosts] writing ${request.target} directly was refused (${code}); asking for administrator rights`)
            return installElevated(request)
          }
          throw new BridgeError('HOSTS_WRITE_FAILED', `Could not write ${request.target}.`, {
            hint: 'Check that the disk is not full or read-only, then try again.',
            cause: error,
            details: { path: request.target },
          })
        }
      }
      return installElevated(request)
    },
  }
}
