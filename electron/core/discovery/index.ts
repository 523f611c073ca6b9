// Discovery: the real pull flow through the tunnel's dialer, the hosts it touches, and the credentials it uses.

export { credentialsFromHelper, dockerConfigPath, findRegistryCredentials, lookupDockerConfig, registryCredentialVariables, registryKeyHost, spawnHelper } from './credentials.js'
export type { CredentialOptions, CredentialSource, DockerConfigLookup, HelperRunner, RegistryCredentials } from './credentials.js'
export { discoverHosts, isCovered } from './discover.js'
export type { DiscoverOptions, DiscoveryReport, DiscoveryStep } from './discover.js'
export { describeTarget, parseLocation } from './location.js'
export type { LocationResult, RedirectTarget } from './location.js'
export { manifestAccept, mediaTypes, parseRepositoryRef, pickFromManifest } from './manifest.js'
export type { ManifestPick, RepositoryRef } from './manifest.js'
export { discoverForSession } from './session-discover.js'
export type { SessionDiscoveryContext } from './session-discover.js'
