// The config: schema and validation, file I/O, secrets, extraHosts editing. Types live in ./types.js.

export type * from './types.js'
export { validateHostName } from './host-name.js'
export { ConfigValidationError, configLimits, defaultTunnelPorts, issueText, parseConfig } from './schema.js'
export type { ConfigIssue } from './schema.js'
export { loadConfig, maxConfigFileBytes, saveConfig } from './config-store.js'
export { expandHome, redactConfig, redactedSecret, resolveSecrets, secretEnvironmentVariables, stripSecrets } from './secrets.js'
export { addExtraHosts } from './extra-hosts.js'
