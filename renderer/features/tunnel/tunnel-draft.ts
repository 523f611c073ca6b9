// The tunnel form's draft: text as typed (ports included), turned into a Config only when every field is valid.
import type { Config, ConnectOptions, ConfigView, ListenConfig, SecretName, SshOptions, TunnelMode } from '../../../electron/common/ipc-contract.js'
import type { MessageKey } from '../../i18n/en.js'
import { parsePort, validateHost, validatePort } from '../regions/validation.js'

export interface TunnelDraft {
  readonly mode: TunnelMode
  readonly host: string
  readonly port: string
  readonly httpPort: string
  readonly connectUsername: string
  /** A NEW password; empty keeps the saved one. */
  readonly connectPassword: string
  readonly connectTls: boolean
  readonly sshUsername: string
  readonly sshKeyPath: string
  readonly sshKnownHosts: string
  readonly sshAgent: boolean
  readonly sshPassword: string
  readonly sshPassphrase: string
  readonly listenAddress: string
  readonly listenPort: string
  /** Empty turns the HTTP listener off. */
  readonly listenHttpPort: string
  /** Empty: no local CONNECT proxy. */
  readonly proxyPort: string
  /** listen.alias: 'auto' = absent, 'always' = true, 'never' = false. */
  readonly listenAlias: AliasChoice
  /** listen.mechanism ('auto' = absent). */
  readonly listenMechanism: ListenMechanismSetting
  /** listen.highPorts: both empty = absent (the OS picks free ports). */
  readonly highTlsPort: string
  readonly highHttpPort: string
  readonly clearSecrets: readonly SecretName[]
}

export type AliasChoice = 'auto' | 'always' | 'never'
/** listen.mechanism's values (the renderer knows only electron/common, which re-exports ListenConfig). */
export type ListenMechanismSetting = NonNullable<ListenConfig['mechanism']>
export const aliasChoices: readonly AliasChoice[] = ['auto', 'always', 'never']
export const mechanismChoices: readonly ListenMechanismSetting[] = ['auto', 'direct', 'redirect']

export type DraftField = Exclude<keyof TunnelDraft, 'clearSecrets'>

export const defaultPorts: Readonly<Record<TunnelMode, string>> = { sni: '443', connect: '3128', ssh: '22' }

export function draftFrom(view: ConfigView): TunnelDraft {
  const { tunnel, listen } = view.config
  return {
    mode: tunnel.mode,
    host: tunnel.host,
    port: String(tunnel.port),
    httpPort: tunnel.httpPort === undefined ? '' : String(tunnel.httpPort),
    connectUsername: tunnel.connect?.username ?? '',
    connectPassword: '',
    connectTls: tunnel.connect?.tls ?? false,
    sshUsername: tunnel.ssh?.username ?? '',
    sshKeyPath: tunnel.ssh?.privateKeyPath ?? '',
    sshKnownHosts: tunnel.ssh?.knownHostsPath ?? '',
    sshAgent: tunnel.ssh?.agent === undefined ? false : tunnel.ssh.agent !== false,
    sshPassword: '',
    sshPassphrase: '',
    listenAddress: listen.address,
    listenPort: String(listen.port),
    listenHttpPort: listen.httpPort === null ? '' : String(listen.httpPort),
    proxyPort: listen.proxyPort === undefined ? '' : String(listen.proxyPort),
    listenAlias: listen.alias === undefined ? 'auto' : listen.alias ? 'always' : 'never',
    listenMechanism: listen.mechanism ?? 'auto',
    highTlsPort: listen.highPorts === undefined ? '' : String(listen.highPorts.tls),
    highHttpPort: listen.highPorts === undefined ? '' : String(listen.highPorts.http),
    clearSecrets: [],
  }
}

/** Switching mode moves the port to the new mode's usual one when it still had the old mode's. */
export function withMode(draft: TunnelDraft, mode: TunnelMode): TunnelDraft {
  const port = draft.port === defaultPorts[draft.mode] || draft.port === '' ? defaultPorts[mode] : draft.port
  return { ...draft, mode, port }
}

export function checkDraft(draft: TunnelDraft): Partial<Record<DraftField, MessageKey>> {
  const errors: Partial<Record<DraftField, MessageKey>> = {}
  const put = (field: DraftField, key: MessageKey | undefined) => {
    if (key !== undefined) errors[field] = key
  }
  put('host', validateHost(draft.host.trim()))
  put('port', validatePort(draft.port))
  if (draft.mode === 'sni') put('httpPort', validatePort(draft.httpPort, { optional: true }))
  if (draft.mode === 'ssh' && draft.sshUsername.trim().length === 0) put('sshUsername', 'validate.usernameRequired')
  // The config refuses a proxy password without a user name.
  if (draft.mode === 'connect' && draft.connectPassword.length > 0 && draft.connectUsername.trim().length === 0) {
    put('connectUsername', 'validate.usernameRequired')
  }
  put('listenAddress', validateHost(draft.listenAddress.trim()))
  put('listenPort', validatePort(draft.listenPort))
  put('listenHttpPort', validatePort(draft.listenHttpPort, { optional: true }))
  put('proxyPort', validatePort(draft.proxyPort, { optional: true }))
  // The config's listen override rules (docs/config.md): aliases and redirects are IPv4-only, high ports come in pairs.
  const ipv6Address = draft.listenAddress.includes(':')
  if (draft.listenAlias === 'always' && ipv6Address) put('listenAlias', 'validate.aliasIpv6')
  if (draft.listenMechanism === 'redirect' && ipv6Address) put('listenMechanism', 'validate.redirectIpv6')
  const tls = draft.highTlsPort.trim()
  const http = draft.highHttpPort.trim()
  if (tls.length > 0 || http.length > 0) {
    if (draft.listenMechanism === 'direct') put('highTlsPort', 'validate.highPortsDirect')
    else {
      put('highTlsPort', validateHighPort(tls))
      put('highHttpPort', validateHighPort(http))
      if (errors.highTlsPort === undefined && errors.highHttpPort === undefined) {
        const taken = [draft.listenPort, draft.listenHttpPort, draft.proxyPort].map((p) => p.trim()).filter((p) => p.length > 0).map(Number)
        if (taken.includes(Number(tls))) put('highTlsPort', 'validate.portTaken')
        if (Number(http) === Number(tls) || taken.includes(Number(http))) put('highHttpPort', 'validate.portTaken')
      }
    }
  }
  return errors
}

/** A redirected listener's port: 1024 to 65535 (it is bound without privilege). */
export function validateHighPort(text: string): MessageKey | undefined {
  const port = parsePort(text)
  return port === undefined || port < 1024 ? 'validate.highPort' : undefined
}

/** The listen overrides of the draft, as the config stores them: nothing for "automatic". */
function listenOverridesOf(draft: TunnelDraft): Pick<ListenConfig, 'alias' | 'mechanism' | 'highPorts'> {
  const tls = parsePort(draft.highTlsPort)
  const http = parsePort(draft.highHttpPort)
  return {
    ...(draft.listenAlias === 'auto' ? {} : { alias: draft.listenAlias === 'always' }),
    ...(draft.listenMechanism === 'auto' ? {} : { mechanism: draft.listenMechanism }),
    ...(tls === undefined || http === undefined || draft.listenMechanism === 'direct' ? {} : { highPorts: { tls, http } }),
  }
}

function optionalPort(text: string): number | undefined {
  return text.trim().length === 0 ? undefined : parsePort(text)
}

function nonEmpty<K extends string>(key: K, text: string): { [P in K]?: string } {
  const value = text.trim()
  return (value.length === 0 ? {} : { [key]: value }) as { [P in K]?: string }
}

function connectOptions(saved: ConnectOptions | undefined, draft: TunnelDraft): ConnectOptions {
  const { username: _u, password: _p, tls: _t, ...rest } = saved ?? {}
  return {
    ...rest,
    ...nonEmpty('username', draft.connectUsername),
    ...(draft.connectPassword.length === 0 ? {} : { password: draft.connectPassword }),
    tls: draft.connectTls,
  }
}

function sshOptions(saved: SshOptions | undefined, draft: TunnelDraft): SshOptions {
  const { username: _u, password: _p, passphrase: _q, privateKeyPath: _k, knownHostsPath: _h, agent, ...rest } = saved ?? {}
  return {
    ...rest,
    username: draft.sshUsername.trim(),
    ...nonEmpty('privateKeyPath', draft.sshKeyPath),
    ...nonEmpty('knownHostsPath', draft.sshKnownHosts),
    // A saved agent socket path stays while the agent is on.
    agent: draft.sshAgent ? (typeof agent === 'string' ? agent : true) : false,
    ...(draft.sshPassword.length === 0 ? {} : { password: draft.sshPassword }),
    ...(draft.sshPassphrase.length === 0 ? {} : { passphrase: draft.sshPassphrase }),
  }
}

/**
 * The config with this draft's tunnel and listener (call only when checkDraft found nothing). As the config schema
 * requires, only the chosen mode's options are kept (httpPort for sni, connect, ssh); a secret is included only when
 * a new one was typed.
 */
export function configWith(config: Config, draft: TunnelDraft): Config {
  const saved = config.tunnel
  const httpPort = optionalPort(draft.httpPort)
  const proxyPort = optionalPort(draft.proxyPort)
  const { proxyPort: _p, alias: _a, mechanism: _m, highPorts: _h, ...listen } = config.listen
  return {
    ...config,
    tunnel: {
      mode: draft.mode,
      host: draft.host.trim(),
      port: parsePort(draft.port) ?? saved.port,
      ...(draft.mode === 'sni' && httpPort !== undefined ? { httpPort } : {}),
      ...(draft.mode === 'connect' ? { connect: connectOptions(saved.connect, draft) } : {}),
      ...(draft.mode === 'ssh' ? { ssh: sshOptions(saved.ssh, draft) } : {}),
    },
    listen: {
      ...listen,
      address: draft.listenAddress.trim(),
      port: parsePort(draft.listenPort) ?? config.listen.port,
      httpPort: optionalPort(draft.listenHttpPort) ?? null,
      ...(proxyPort === undefined ? {} : { proxyPort }),
      ...listenOverridesOf(draft),
    },
  }
}

/** The draft field a refusal's `field` names (`tunnel.ssh.username` → sshUsername). */
export function draftFieldOf(field: string | undefined): DraftField | undefined {
  if (field === undefined) return undefined
  const table: readonly (readonly [string, DraftField])[] = [
    ['tunnel.connect.username', 'connectUsername'],
    ['tunnel.connect.password', 'connectPassword'],
    ['tunnel.connect.tls', 'connectTls'],
    ['tunnel.ssh.username', 'sshUsername'],
    ['tunnel.ssh.privateKeyPath', 'sshKeyPath'],
    ['tunnel.ssh.knownHostsPath', 'sshKnownHosts'],
    ['tunnel.ssh.agent', 'sshAgent'],
    ['tunnel.ssh.password', 'sshPassword'],
    ['tunnel.ssh.passphrase', 'sshPassphrase'],
    ['tunnel.mode', 'mode'],
    ['tunnel.host', 'host'],
    ['tunnel.httpPort', 'httpPort'],
    ['tunnel.port', 'port'],
    ['listen.address', 'listenAddress'],
    ['listen.httpPort', 'listenHttpPort'],
    ['listen.proxyPort', 'proxyPort'],
    ['listen.alias', 'listenAlias'],
    ['listen.mechanism', 'listenMechanism'],
    ['listen.highPorts.http', 'highHttpPort'],
    ['listen.highPorts', 'highTlsPort'],
    ['listen.port', 'listenPort'],
  ]
  return table.find(([path]) => field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[`))?.[1]
}
