// The session controller's `discover` dependency (SessionControllerDeps.discover): a DiscoveryRequest from the window
// run through the session's dialer. The registry is the one `repository` names (`host/ns/name`), else the only
// registry name of the active set.

import type { HostEntry } from '../catalog/types.js'
import { BridgeError } from '../errors.js'
import type { Logger } from '../logger.js'
import { nameRole } from '../probes/name-role.js'
import type { OpenOptions } from '../probes/through.js'
import type { DiscoveryRequest } from '../session/types.js'
import type { Dialer } from '../tunnel/types.js'
import { discoverHosts, type DiscoveryReport } from './discover.js'
import { parseRepositoryRef } from './manifest.js'

export interface SessionDiscoveryContext {
  readonly entries: readonly HostEntry[]
  readonly dialer: Dialer
  readonly logger: Logger
}

/**
 * Runs discovery for the controller. Throws USAGE for a bad repository or an ambiguous registry, and the flow's own
 * BridgeError (DISCOVERY_FAILED, CREDENTIALS_MISSING) when it stopped before the blob redirect.
 */
export async function discoverForSession(context: SessionDiscoveryContext, request: DiscoveryRequest, options: { readonly ca?: OpenOptions['ca'] } = {}): Promise<DiscoveryReport> {
  const ref = parseRepositoryRef(request.repository)
  const registries = context.entries.filter((e) => nameRole(e) === 'registry' && e.ports.includes(443)).map((e) => e.name)
  const registry = ref.registry ?? (registries.length === 1 ? registries[0] : undefined)
  if (registry === undefined) {
    throw new BridgeError('USAGE', registries.length === 0 ? 'The active set has no registry name.' : `The active set has ${registries.length} registry names; the repository must say which one.`, {
      hint: 'Write the repository with its registry host: registry-vpc.<region>.aliyuncs.com/NAMESPACE/NAME.',
      field: 'repository',
    })
  }
  const hasCredentials = request.username !== undefined && request.username !== '' && request.password !== undefined && request.password !== ''
  const report = await discoverHosts({
    dialer: context.dialer,
    entries: context.entries,
    registry,
    repository: ref.repository,
    reference: request.reference ?? ref.reference,
    logger: context.logger,
    ...(hasCredentials ? { credentials: { username: request.username as string, password: request.password as string } } : {}),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  })
  if (report.incomplete !== undefined) {
    throw new BridgeError(report.incomplete.code, report.incomplete.message, { hint: report.incomplete.hint })
  }
  return report
}
