// Probes: doctor's checks per name and per hop, the HealthMonitor that runs them during a session, and the container
// engine detection. Everything dials through the tunnel's own Dialer.

export { fail, hopOrder, pass, sortChecks, tunnelHops } from './check-result.js'
export {
  classifyEndpoint,
  detectContainerEngines,
  engineLabel,
  engineWarnings,
  isIsolatedEngine,
  isLoopbackAddress,
  parseContextInspect,
  parseDockerInfo,
  runCommand,
} from './container-engine.js'
export type { CommandRunner, DetectEngineOptions, EngineFinding, EngineKind, EngineWarning } from './container-engine.js'
export { runDoctor } from './doctor.js'
export type { DoctorOptions, DoctorReport } from './doctor.js'
export { createHealthMonitor, nextDelay } from './health-monitor.js'
export type { HealthMonitorOptions, MonitorTimers } from './health-monitor.js'
export { nameRole, roleFromShape } from './name-role.js'
export type { NameRole } from './name-role.js'
export { hostsFileMappings, probeResolve, readHostsText, systemLookup } from './resolve.js'
export type { Lookup, NameInHostsFile } from './resolve.js'
export { defaultProbeTimeoutMs, runChecks } from './run-checks.js'
export type { PullProbe, RunChecksOptions } from './run-checks.js'
export { fetchThrough, openThrough, requestOver, ThroughError, urlHost, urlPort } from './through.js'
export type { FetchAnswer, HttpAnswer, OpenOptions, ThroughFailure } from './through.js'
export { createListenerDialer, listenerPorts, probeListeners, probeTcp, probeUpstream } from './tunnel-probes.js'
export { bearerChallenge, parseWwwAuthenticate } from './www-authenticate.js'
export type { AuthChallenge, BearerChallenge } from './www-authenticate.js'
