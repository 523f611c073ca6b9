// The ACR endpoint catalog: regions, endpoint kinds, and the host names a config yields.

export type { EndpointKindInfo, HostEntry, HostOrigin, Region, RegionStatus } from './types.js'
export { findRegion, regions } from './regions.js'
export { defaultEndpointsFor, endpointKindInfo, endpointKinds, isEndpointKind } from './endpoint-kinds.js'
export { hostEntriesForConfig } from './host-entries.js'
export type { HostCandidate } from './host-entries.js'
export { catalogListing } from './listing.js'
export type { CatalogListing, CatalogListingInstanceHost, CatalogListingKind, CatalogListingRegion } from './listing.js'
