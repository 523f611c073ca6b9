// Per-OS decisions (issue 6): where the tunnel listens and what the privileged step changes for it, and Windows'
// port-holder diagnosis. docs/platforms.md explains the table.

export {
  assertCanonicalIpv4,
  assertPort,
  canonicalIpv4,
  defaultAliasAddress,
  isLinkLocalIpv4,
  isLoopbackIpv4,
  isPort,
} from './addresses.js'
export { chooseListenStrategy, concreteRedirects, engineReach } from './listen-strategy.js'
export type { EngineReach, ListenMechanism, ListenOverrides, ListenStrategy, ListenStrategyInput, RedirectRequest } from './listen-strategy.js'
export {
  dockerDesktopHostAddress,
  externalIpv4Addresses,
  localIpv4Addresses,
  readDockerDesktopHostAddress,
  readUnprivilegedPortStart,
} from './machine-facts.js'
export {
  describePortHolders,
  excludedPortError,
  findWindowsPortHolder,
  parseExcludedPortRanges,
  parseHttpServiceState,
  parseNetstatListeners,
  parseTasklistCsv,
  portHeldError,
  runProgram,
  systemPid,
  urlPrefixPort,
} from './windows-ports.js'
export type { HttpSysQueue, PortHolder, PortRange, RunProgram, TaskInfo, TcpListener } from './windows-ports.js'
