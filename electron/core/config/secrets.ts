// Secrets (proxy password, SSH passphrase, SSH password): filled from the environment, hidden from logs and export.

import { BridgeError } from '../errors.js'
import { configLimits } from './schema.js'
import type { Config, TunnelConfig } from './types.js'

/** The environment variables a secret may come from when the config file leaves it out. */
export const secretEnvironmentVariables = {
  proxyPassword: 'ACR_BRIDGE_PROXY_PASSWORD',
  sshPassphrase: 'ACR_BRIDGE_SSH_PASSPHRASE',
  sshPassword: 'ACR_BRIDGE_SSH_PASSWORD',
} as const

/** What redactConfig puts in place of a secret. */
export const redactedSecret = '***'

/**
 * A copy of `config` with each secret the file leaves out taken from the environment (an empty variable counts as
 * unset): tunnel.connect.password from ACR_BRIDGE_PROXY_PASSWORD (connect mode, and only with a
 * tunnel.connect.username, since Basic authentication needs both), tunnel.ssh.passphrase from
 * ACR_BRIDGE_SSH_PASSPHRASE and tunnel.ssh.password from ACR_BRIDGE_SSH_PASSWORD (ssh mode). A value in the file
 * wins. Throws INVALID_CONFIG (naming the variable, never its value) for a value with NUL or over 4096 characters.
 */
export function resolveSecrets(config: Config, env: Readonly<Record<string, string | undefined>>): Config {
  const fromEnv = (name: string): string | undefined => {
    const value = env[name]
    if (value === undefined || value === '') return undefined
    if (value.length > configLimits.maxSecret || value.includes('\u0000')) {
      throw new BridgeError('INVALID_CONFIG', `${name}: the environment variable is longer than ${configLimits.maxSecret} characters or contains NUL (value hidden).`, {
        field: name,
        hint: `Set ${name} to the secret itself, or unset it.`,
      })
    }
    return value
  }
  const tunnel = config.tunnel
  let resolved: TunnelConfig = tunnel
  if (tunnel.mode === 'connect' && tunnel.connect?.username !== undefined && tunnel.connect.password === undefined) {
    const password = fromEnv(secretEnvironmentVariables.proxyPassword)
    if (password !== undefined) resolved = { ...tunnel, connect: { ...tunnel.connect, password } }
  }
  if (tunnel.mode === 'ssh' && tunnel.ssh !== undefined) {
    const passphrase = tunnel.ssh.passphrase ?? fromEnv(secretEnvironmentVariables.sshPassphrase)
    const password = tunnel.ssh.password ?? fromEnv(secretEnvironmentVariables.sshPassword)
    if (passphrase !== tunnel.ssh.passphrase || password !== tunnel.ssh.password) {
      resolved = {
        ...tunnel,
        ssh: { ...tunnel.ssh, ...(passphrase === undefined ? {} : { passphrase }), ...(password === undefined ? {} : { password }) },
      }
    }
  }
  return resolved === tunnel ? config : { ...config, tunnel: resolved }
}

/** A copy with every secret present replaced by "***": for logs and profile export. */
export function redactConfig(config: Config): Config {
  return mapSecrets(config, () => redactedSecret)
}

/** A copy with every secret removed: what the window may see. */
export function stripSecrets(config: Config): Config {
  return mapSecrets(config, () => undefined)
}

function mapSecrets(config: Config, replace: (secret: string) => string | undefined): Config {
  const { connect, ssh } = config.tunnel
  const swap = <T extends object, K extends keyof T>(object: T, keys: readonly K[]): T => {
    const copy = { ...object } as Record<string, unknown>
    for (const key of keys) {
      const value = object[key]
      if (typeof value !== 'string') continue
      const replacement = replace(value)
      if (replacement === undefined) delete copy[key as string]
      else copy[key as string] = replacement
    }
    return copy as T
  }
  return {
    ...config,
    tunnel: {
      ...config.tunnel,
      ...(connect === undefined ? {} : { connect: swap(connect, ['password']) }),
      ...(ssh === undefined ? {} : { ssh: swap(ssh, ['passphrase', 'password']) }),
    },
  }
}

/**
 * Expands a leading `~` (alone, or followed by `/` or `\`) to `homeDir`; any other path is returned unchanged
 * (`~user/…` is not supported).
 */
export function expandHome(path: string, homeDir: string): string {
  if (path === '~') return homeDir
  if (path.startsWith('~/') || path.startsWith('~\\')) {
    const home = homeDir.replace(/[\\/]+$/, '')
    return `${home}${path.slice(1)}`
  }
  return path
}
