// Privileged writes: directly when allowed, else ONE elevated run of a fixed, generated script.
// The sudo-prompt adapter is NOT re-exported here: import './sudo-prompt-elevator.js' only where the real prompt is
// wanted (app main, CLI), so tests and pure code never load @vscode/sudo-prompt.

export { fsyncDirectory, replaceFileContent, rewriteInPlace, writeFileAtomic } from './atomic-file.js'
export { sudoPromptNoPolkitAgent, sudoPromptPermissionDenied, toElevationError } from './elevation-error.js'
export { createDirectElevator, isProcessPrivileged } from './direct-elevator.js'
export {
  nftTableName,
  parsePfToken,
  pfAnchorName,
  pfHookMissingExitCode,
  pfTokenFileName,
  renderNftRuleset,
  renderPfRules,
  toolMissingExitCode,
} from './network-steps.js'
export { canWriteDirectly, createPrivilegedWriter, flushResolverCacheDirectly } from './privileged-writer.js'
export type { PrivilegedWriterOptions } from './privileged-writer.js'
export { runPrivileged } from './run-privileged.js'
export type { PrivilegedRunOptions, PrivilegedRunOutput, Staging } from './run-privileged.js'
export { assertSafeAppPath, buildElevatedCommand, buildPrivilegedScript, isSafeAppPath, scriptFileName } from './script.js'
export { targetChangedExitCode } from './types.js'
export type {
  CompanionSteps,
  Elevator,
  FileInstallRequest,
  FileInstallResult,
  FlushResolverCacheStep,
  InstallFileStep,
  InstallMethod,
  LoopbackAliasStep,
  PortRedirect,
  PortRedirectAddStep,
  PortRedirectRemoveStep,
  PrivilegedPlan,
  PrivilegedStep,
  PrivilegedWriter,
} from './types.js'
