// Which config fields are secrets, and moving them out of / back into a Config. Pure.

import type { SecretName } from '../common/ipc-contract.js'
import { stripSecrets } from '../core/config/secrets.js'
import type { Config } from '../core/config/types.js'

export type SecretValues = Partial<Record<SecretName, string>>

/** The config field each secret lives in (for messages and `field`). */
export const secretFields: Record<SecretName, string> = {
  proxyPassword: 'tunnel.connect.password',
  sshPassphrase: 'tunnel.ssh.passphrase',
  sshPassword: 'tunnel.ssh.password',
}

/** The config without any secret, and the secrets it held. */
export function splitSecrets(config: Config): { readonly config: Config; readonly secrets: SecretValues } {
  const secrets: SecretValues = {}
  const { tunnel } = config
  let connect = tunnel.connect
  let ssh = tunnel.ssh
  if (connect !== undefined && connect.password !== undefined) {
    const { password, ...rest } = connect
    secrets.proxyPassword = password
    connect = rest
  }
  if (ssh !== undefined && (ssh.passphrase !== undefined || ssh.password !== undefined)) {
    const { passphrase, password, ...rest } = ssh
    if (passphrase !== undefined) secrets.sshPassphrase = passphrase
    if (password !== undefined) secrets.sshPassword = password
    ssh = rest
  }
  return {
    config: {
      ...config,
      tunnel: {
        ...tunnel,
        ...(connect === undefined ? {} : { connect }),
        ...(ssh === undefined ? {} : { ssh }),
      },
    },
    secrets,
  }
}

/** The config without secrets (what the window and an exported profile get). */
export function withoutSecrets(config: Config): Config {
  return stripSecrets(config)
}

/** Puts stored secrets back where their section exists (a passphrase without an `ssh` section has nowhere to go). */
export function withSecrets(config: Config, secrets: SecretValues): Config {
  const { tunnel } = config
  const connect =
    tunnel.connect !== undefined && secrets.proxyPassword !== undefined
      ? { ...tunnel.connect, password: secrets.proxyPassword }
      : tunnel.connect
  let ssh = tunnel.ssh
  if (ssh !== undefined && secrets.sshPassphrase !== undefined) ssh = { ...ssh, passphrase: secrets.sshPassphrase }
  if (ssh !== undefined && secrets.sshPassword !== undefined) ssh = { ...ssh, password: secrets.sshPassword }
  return {
    ...config,
    tunnel: {
      ...tunnel,
      ...(connect === undefined ? {} : { connect }),
      ...(ssh === undefined ? {} : { ssh }),
    },
  }
}
