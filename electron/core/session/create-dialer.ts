// The one place that turns a config's `tunnel` section into a Dialer: the session controller, the probes and
// discovery all build theirs here, so every caller reads the same files and applies the same defaults.

import { readFile } from 'node:fs/promises'
import type { Config } from '../config/types.js'
import { expandHome, resolveSecrets } from '../config/secrets.js'
import { BridgeError, errnoCode } from '../errors.js'
import type { Logger } from '../logger.js'
import { createConnectDialer } from '../tunnel/connect-dialer.js'
import { createSniDialer } from '../tunnel/sni-dialer.js'
import { createSshDialer, type SshDialer } from '../tunnel/ssh-dialer.js'
import type { Dialer } from '../tunnel/types.js'

/** known_hosts when tunnel.ssh.knownHostsPath is left out (OpenSSH's own default). */
export const defaultKnownHostsPath = '~/.ssh/known_hosts'

export interface DialerFactoryOptions {
  /** Secrets the file leaves out come from here (resolveSecrets); `agent: true` reads SSH_AUTH_SOCK here. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** `~` in tunnel.ssh.privateKeyPath, knownHostsPath, agent and tunnel.connect.caFile expands to this. */
  readonly homeDir: string
  readonly logger?: Logger
}

/**
 * Builds the dialer for `config.tunnel.mode`: sni (raw TCP to the ECS's SNI router, port-80 names to its HTTP
 * port), connect (HTTP CONNECT, Basic auth and TLS to the proxy as configured, tunnel.connect.caFile read here) or
 * ssh (the private key file read here, known_hosts defaulting to ~/.ssh/known_hosts, `agent: true` = SSH_AUTH_SOCK).
 * Nothing connects yet. Throws INVALID_CONFIG naming the field when a file cannot be read or no way to log in is
 * left.
 */
export async function createDialerForConfig(config: Config, options: DialerFactoryOptions): Promise<Dialer> {
  const tunnel = resolveSecrets(config, options.env).tunnel
  const logger = options.logger
  switch (tunnel.mode) {
    case 'sni':
      return createSniDialer({ host: tunnel.host, port: tunnel.port, ...(tunnel.httpPort === undefined ? {} : { httpPort: tunnel.httpPort }) })
    case 'connect': {
      const connect = tunnel.connect ?? {}
      const ca = connect.tls === true && connect.caFile !== undefined
        ? await readConfigFile(expandHome(connect.caFile, options.homeDir), 'tunnel.connect.caFile', 'the CA certificate (PEM) of the proxy')
        : undefined
      return createConnectDialer({
        host: tunnel.host,
        port: tunnel.port,
        ...(connect.username === undefined ? {} : { username: connect.username }),
        ...(connect.password === undefined ? {} : { password: connect.password }),
        ...(connect.tls === undefined ? {} : { tls: connect.tls }),
        ...(ca === undefined ? {} : { ca }),
      })
    }
    case 'ssh': {
      const ssh = tunnel.ssh
      if (ssh === undefined) {
        throw new BridgeError('INVALID_CONFIG', 'tunnel.ssh is required when tunnel.mode is "ssh".', {
          field: 'tunnel.ssh',
          hint: 'Add "ssh": { "username": "…", "privateKeyPath": "…" } to tunnel.',
        })
      }
      const privateKey = ssh.privateKeyPath === undefined
        ? undefined
        : await readConfigFile(expandHome(ssh.privateKeyPath, options.homeDir), 'tunnel.ssh.privateKeyPath', 'the SSH private key')
      const agent = agentSocket(ssh.agent, options, privateKey !== undefined || ssh.password !== undefined)
      return createSshDialer({
        host: tunnel.host,
        port: tunnel.port,
        username: ssh.username,
        knownHostsPath: expandHome(ssh.knownHostsPath ?? defaultKnownHostsPath, options.homeDir),
        ...(privateKey === undefined ? {} : { privateKey }),
        ...(ssh.passphrase === undefined ? {} : { passphrase: ssh.passphrase }),
        ...(ssh.password === undefined ? {} : { password: ssh.password }),
        ...(agent === undefined ? {} : { agent }),
        ...(ssh.keepaliveIntervalMs === undefined ? {} : { keepaliveIntervalMs: ssh.keepaliveIntervalMs }),
        ...(logger === undefined ? {} : { logger }),
      })
    }
  }
}

/** The dialer is the ssh one (it has a connection state to watch). */
export function isSshDialer(dialer: Dialer): dialer is SshDialer {
  return dialer.mode === 'ssh' && 'onDidChangeState' in dialer
}

function agentSocket(agent: boolean | string | undefined, options: DialerFactoryOptions, hasOtherAuth: boolean): string | undefined {
  if (agent === undefined || agent === false) return undefined
  if (typeof agent === 'string') return expandHome(agent, options.homeDir)
  const socket = options.env['SSH_AUTH_SOCK']
  if (socket !== undefined && socket !== '') return socket
  if (hasOtherAuth) {
    options.logger?.warn('[tunnel] tunnel.ssh.agent is true but SSH_AUTH_SOCK is not set; logging in without the agent')
    return undefined
  }
  throw new BridgeError('INVALID_CONFIG', 'tunnel.ssh.agent is true, but no SSH agent is running (SSH_AUTH_SOCK is not set).', {
    field: 'tunnel.ssh.agent',
    hint: 'Start an SSH agent and add your key (ssh-add), or set tunnel.ssh.privateKeyPath.',
  })
}

async function readConfigFile(path: string, field: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = errnoCode(error)
    throw new BridgeError('INVALID_CONFIG', `${field}: cannot read ${what} at ${path} (${code ?? 'error'}).`, {
      field,
      cause: error,
      hint: code === 'ENOENT' ? `Check ${field}: the file does not exist.` : `Check ${field} and the file's permissions.`,
    })
  }
}
