// The privileged-write port and the plan of steps one elevated run performs: file installs, the resolver flush, and
// (issue 6) loopback aliases and port redirects.

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

/** One port mapping: connections to `address:port` go to the tunnel's listener on `toPort` (same machine). */
export interface PortRedirect {
  /** Canonical IPv4 address the hosts block points at. */
  readonly address: string
  /** The port clients dial (443, 80). */
  readonly port: number
  /** The port the unprivileged tunnel listens on. */
  readonly toPort: number
}

/**
 * Put an IPv4 address on the loopback interface (Linux `lo` as a /32, macOS `lo0` alias) when it is not there, or
 * take it off when it is. Both directions are idempotent. Not used on Windows.
 */
export interface LoopbackAliasStep {
  readonly kind: 'loopback-alias'
  readonly action: 'add' | 'remove'
  readonly address: string
}

/**
 * Install the port redirects as a whole, replacing earlier ones: Linux our own nft table `ip acr_bridge` (a nat
 * chain on the output hook); macOS our own pf anchor `com.apple/acr-bridge` plus one pf enable reference, whose
 * token the script prints as `acr-bridge: pf-token=N`. Not used on Windows (no privileged ports there).
 */
export interface PortRedirectAddStep {
  readonly kind: 'port-redirect-add'
  readonly redirects: readonly PortRedirect[]
  /** macOS: the enable reference an earlier apply took, released before a new one is taken. */
  readonly releasePfToken?: string
}

/** Remove every redirect of ours (the nft table, or the pf anchor's rules and our enable references); idempotent. */
export interface PortRedirectRemoveStep {
  readonly kind: 'port-redirect-remove'
  /** macOS: the enable references to release (the lease's, and any a killed run left in its staging folder). */
  readonly pfTokens?: readonly string[]
}

export type PrivilegedStep = InstallFileStep | FlushResolverCacheStep | LoopbackAliasStep | PortRedirectAddStep | PortRedirectRemoveStep

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
  /** The privileged run's stdout, when companion steps ran with the write: they report through it (pf token). */
  readonly output?: string
}

/**
 * Privileged steps that ride along with a file install in the SAME elevated run (one prompt): `before` run ahead
 * of the install (apply: alias, redirects), `after` behind it and the resolver flush (revert: redirects, alias).
 * A failing companion step fails the install call even when the file was written.
 */
export interface CompanionSteps {
  readonly before: readonly PrivilegedStep[]
  readonly after: readonly PrivilegedStep[]
}

/** Writes a file directly when this process may, else through one elevated run. */
export interface PrivilegedWriter {
  /** With companion steps the write always goes through the (one) privileged run, together with them. */
  install(request: FileInstallRequest, companions?: CompanionSteps): Promise<FileInstallResult>
}
