// The apply and revert plans of one session per OS and container engine, built the way the app builds them:
// chooseListenStrategy → concreteRedirects → the lease's companion steps → the privileged writer's order
// (companions before, install-file, flush, companions after). The golden scripts in __golden__/platforms/ are
// rendered from these.

import type { EngineKind } from '../../../electron/core/probes/container-engine.js'
import { applyCompanionSteps, revertCompanionSteps } from '../../../electron/core/lease/steps.js'
import type { LeaseChange } from '../../../electron/core/lease/lease-journal.js'
import type { Platform } from '../../../electron/core/paths.js'
import { chooseListenStrategy, concreteRedirects, type ListenStrategy } from '../../../electron/core/platform/listen-strategy.js'
import type { CompanionSteps, PrivilegedPlan, PrivilegedStep } from '../../../electron/core/privileged/types.js'
import { goldenPlan } from './golden-plans.js'

export interface PlatformScenario {
  readonly name: string
  readonly platform: Platform
  readonly engines: readonly EngineKind[]
  readonly isPrivileged: boolean
  /** macOS: a second apply in the same session (releases the first pf enable reference). */
  readonly reapplyToken?: string
}

/** The ports the OS handed the unprivileged listeners (fixed here so the scripts are stable). */
export const boundPorts = { port: 38211, httpPort: 40111 }
/** The pf enable reference an apply got back (macOS). */
export const pfToken = '15671782873491853291'

export const platformScenarios: readonly PlatformScenario[] = [
  { name: 'linux-native-user', platform: 'linux', engines: ['native'], isPrivileged: false },
  { name: 'linux-native-root', platform: 'linux', engines: ['native'], isPrivileged: true },
  { name: 'linux-rootless-docker-user', platform: 'linux', engines: ['rootless-docker'], isPrivileged: false },
  { name: 'linux-rootless-docker-root', platform: 'linux', engines: ['rootless-docker'], isPrivileged: true },
  { name: 'darwin-none-user', platform: 'darwin', engines: [], isPrivileged: false },
  { name: 'darwin-docker-desktop-user', platform: 'darwin', engines: ['docker-desktop'], isPrivileged: false },
  { name: 'darwin-docker-desktop-user-reapply', platform: 'darwin', engines: ['docker-desktop'], isPrivileged: false, reapplyToken: pfToken },
  { name: 'darwin-docker-desktop-root', platform: 'darwin', engines: ['docker-desktop'], isPrivileged: true },
  { name: 'win32-native', platform: 'win32', engines: ['native'], isPrivileged: false },
  { name: 'win32-docker-desktop', platform: 'win32', engines: ['docker-desktop'], isPrivileged: false },
]

/** Engines whose scripts must equal docker-desktop's on the same OS (they all run in a VM). */
export const vmEngines: readonly EngineKind[] = ['docker-desktop', 'podman-machine', 'colima', 'lima', 'rancher-desktop', 'orbstack']

export function strategyFor(scenario: Pick<PlatformScenario, 'platform' | 'engines' | 'isPrivileged'>): ListenStrategy {
  return chooseListenStrategy({
    platform: scenario.platform,
    engines: scenario.engines,
    isPrivileged: scenario.isPrivileged,
    unprivilegedPortStart: scenario.platform === 'linux' ? 1024 : undefined,
    ports: { tls: 443, http: 80 },
    windows: { dockerDesktopHostAddress: '192.168.1.23' },
  })
}

/** The privileged writer's order around the hosts file install. */
function withInstall(platform: Platform, companions: CompanionSteps): PrivilegedPlan {
  const [install, flush] = goldenPlan(platform, true).steps as [PrivilegedStep, PrivilegedStep]
  return { steps: [...companions.before, install, flush, ...companions.after] }
}

export function scenarioPlans(scenario: PlatformScenario): { apply: PrivilegedPlan; revert: PrivilegedPlan; changes: LeaseChange[] } {
  const strategy = strategyFor(scenario)
  const redirects = concreteRedirects(strategy, boundPorts)
  const apply = applyCompanionSteps({
    platform: scenario.platform,
    redirects,
    ...(strategy.alias === undefined ? {} : { addAlias: strategy.alias }),
    ...(scenario.reapplyToken === undefined ? {} : { releasePfToken: scenario.reapplyToken }),
  })
  // The lease's records, in the order applySystemChanges writes them.
  const changes: LeaseChange[] = []
  if (strategy.alias !== undefined) changes.push({ kind: 'loopback-alias', address: strategy.alias })
  if (redirects.length > 0) {
    changes.push({ kind: 'port-redirect', mechanism: scenario.platform === 'darwin' ? 'pf' : 'nft', redirects, ...(scenario.platform === 'darwin' ? { pfToken } : {}) })
  }
  changes.push({ kind: 'hosts', hostsPath: '/etc/hosts', names: ['registry-vpc.cn-hangzhou.aliyuncs.com'], flushResolverCache: true })
  return { apply: withInstall(scenario.platform, apply), revert: withInstall(scenario.platform, revertCompanionSteps(changes, scenario.platform)), changes }
}

export function goldenName(scenario: PlatformScenario, direction: 'apply' | 'revert'): string {
  return `${scenario.name}.${direction}.${scenario.platform === 'win32' ? 'ps1' : 'sh'}`
}
