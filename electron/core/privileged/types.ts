// The privileged-write port and the plan of steps one elevated run performs (issue 6 adds more step kinds).

/**
 * Runs one command line with administrator rights behind ONE OS prompt. The app implements it with
 * @vscode/sudo-prompt (createSudoPromptElevator); tests use a fake that runs the command as the current user.
 * A cancelled prompt rejects with BridgeError('ELEVATION_DENIED') (or sudo-prompt's 'User did not grant permission.').
 */
export interface Elevator {
  run(command: string, options: { readonly name: string }): Promise<{ readonly stdout: string; readonly stderr: string }>
}

/**
 * Replace the content of a file crash-safely (temp file in the target's folder + rename, or an in-place rewrite where
 * the target is a mount point), keeping its owner, mode and (Windows) read-only attribute.
 * Every path here is a file the app wrote itself in its staging folder: the target's own path (a user value, e.g.
 * `--hosts-file`) is never put into the script, only read from `targetPathFile` at run time.
 */
export interface InstallFileStep {
  readonly kind: 'install-file'
  /** The candidate content. */
  readonly source: string
  /** The bytes the target must still hold; if it holds anything else the step changes nothing and exits 75. */
  readonly expected: string
  /** A file whose whole content is the target's absolute path (UTF-8, no line break). */
  readonly targetPathFile: string
}

/** Flush the OS resolver cache where there is one; a missing cache service is not an error. */
export interface FlushResolverCacheStep {
  readonly kind: 'flush-resolver-cache'
}

export type PrivilegedStep = InstallFileStep | FlushResolverCacheStep

export interface PrivilegedPlan {
  readonly steps: readonly PrivilegedStep[]
}

/** Exit code of the script when the target no longer holds the expected bytes (EX_TEMPFAIL: plan again). */
export const targetChangedExitCode = 75

export interface FileInstallRequest {
  /** Absolute path of a regular file (symlinks already resolved by the caller). */
  readonly target: string
  /** What the target held when the caller planned; a different content refuses the write (HOSTS_CHANGED_BEHIND_US). */
  readonly expected: Uint8Array
  readonly content: Uint8Array
  /** Flush the OS resolver cache after the write (only for the real OS hosts file). */
  readonly flushResolverCache: boolean
}

export type InstallMethod = 'rename' | 'in-place' | 'unknown'

export interface FileInstallResult {
  /** The write went through the elevation prompt. */
  readonly elevated: boolean
  /** rename: atomic replace; in-place: the target is a mount point, rewritten in place (journal-protected). */
  readonly method: InstallMethod
}

/** Writes a file directly when this process may, else through one elevated run. */
export interface PrivilegedWriter {
  install(request: FileInstallRequest): Promise<FileInstallResult>
}
