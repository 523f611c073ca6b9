// The hosts engine: pure text part (codec, document, block, plan) and file part (apply/revert/state/repair).

export { canEncode, decodeHosts, describeEncoding, encodeHosts } from './codec.js'
export type { DecodedHosts, HostsCharset, HostsEncoding } from './codec.js'
export { dominantLineEnding, parseHosts, parseMappingLine, platformLineEnding, serializeHosts } from './document.js'
export type { HostsDocument, HostsLine, HostsMappingLine, LineEnding } from './document.js'
export {
  analyzeHosts,
  dockerDesktopOwner,
  HOSTS_BLOCK_BEGIN,
  HOSTS_BLOCK_END,
  HOSTS_TAKEOVER_PREFIX,
  inspectHosts,
  revertHosts,
} from './hosts-block.js'
export type { HostsBlockEntry, HostsInspection, HostsMalformation, HostsMapping, HostsRevert, TakenOverLine } from './hosts-block.js'
export { assertNoBlockingConflicts, planHosts, planHostsBytes, renderBlockLines, revertHostsBytes, validateEntries } from './hosts-plan.js'
export type { HostsBytesPlan, HostsBytesRevert, HostsConflict, HostsPlan, HostsPlanOptions } from './hosts-plan.js'
export { applyHostsBlock, backupPath, previewHostsBlock, readHostsState, repairHosts, revertHostsBlock } from './hosts-manager.js'
export type {
  ApplyHostsOptions,
  HostsApplyResult,
  HostsFileOptions,
  HostsFilePreview,
  HostsRepairResult,
  HostsRepairStatus,
  HostsRevertResult,
  HostsState,
} from './hosts-manager.js'
export { backupFileName, journalFileName } from './journal.js'
