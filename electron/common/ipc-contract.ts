// The one typed IPC contract between the window (renderer), the preload and the main process.
// Every invoke channel answers a Result<T> (never a thrown error); every event carries a payload only.
// Main, preload and renderer all derive from this file, so a renamed field fails to compile on every side.
// Plain data only: nothing from node:, 'electron' or the DOM. The Config and catalog types are re-exported from
// core (type-only; those files import nothing), never duplicated; the session's plain data lives in session-data.ts.

import type { Result } from './result.js'
import type { CheckResult, SessionState } from './status.js'
import type { Config } from '../core/config/types.js'
import type { EndpointKindInfo, Region } from '../core/catalog/types.js'
import type { DiscoveryRequest, DiscoveryResult, HostsPreview, StaleLease } from './session-data.js'

export type { Result, SerializedError } from './result.js'
export type { CheckResult, HopKind, NameTraffic, SessionState, SessionStateKind } from './status.js'
export type {
  Config,
  ConnectOptions,
  EndpointKind,
  EnterpriseInstance,
  ExtraHost,
  HostsOptions,
  ListenConfig,
  Network,
  PersonalInstance,
  RegionSelection,
  SshOptions,
  TunnelConfig,
  TunnelMode,
} from '../core/config/types.js'
export type { EndpointKindInfo, HostEntry, HostOrigin, Region, RegionStatus } from '../core/catalog/types.js'
export type { DiscoveredHost, DiscoveryRequest, DiscoveryResult, HostsPreview, StaleLease } from './session-data.js'

// ---------------------------------------------------------------------------------------------------------------
// Payload types

/** `catalog:get`: what the window offers to pick from. */
export interface CatalogView {
  readonly regions: readonly Region[]
  readonly endpointKinds: readonly EndpointKindInfo[]
}

/** The secrets the desktop app keeps out of config.json (encrypted with the OS keychain via safeStorage). */
export type SecretName = 'proxyPassword' | 'sshPassphrase' | 'sshPassword'
export const secretNames = ['proxyPassword', 'sshPassphrase', 'sshPassword'] as const satisfies readonly SecretName[]

/** `config:get` / `config:set` / `config:changed`. */
export interface ConfigView {
  /** The saved config WITHOUT secrets: `tunnel.connect.password`, `tunnel.ssh.passphrase`, `tunnel.ssh.password` are never sent to the window. */
  readonly config: Config
  /** Which secrets are stored (encrypted); the window shows "saved" instead of the value. */
  readonly storedSecrets: Readonly<Record<SecretName, boolean>>
  /** false when the OS offers no encrypted storage (e.g. Linux without a keyring): secrets cannot be saved. */
  readonly secretStorageAvailable: boolean
  /** false on first run: nothing saved yet, `config` is a placeholder (no regions, proxy 192.0.2.1) to fill in. */
  readonly saved?: boolean
}

/**
 * `config:set`: validated by the core's config schema (error INVALID_CONFIG with `field`), then saved.
 * A secret present in `config` (e.g. `tunnel.connect.password`) is a NEW value and is stored encrypted; a secret
 * absent from `config` keeps the stored one, unless it is named in `clearSecrets`.
 */
export interface ConfigSetRequest {
  readonly config: Config
  readonly clearSecrets?: readonly SecretName[]
}

/** `hosts:preview`: the block a config would yield; without `config`, the saved one. */
export interface HostsPreviewRequest {
  readonly config?: Config
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'

/** One log line as the window shows it (already redacted). */
export interface LogEntry {
  /** ISO time. */
  readonly time: string
  readonly level: LogLevel
  readonly message: string
}

/** `log:tail`: the most recent entries, oldest first. */
export interface LogTailRequest {
  /** Default 200, at most 1000. */
  readonly limit?: number
}

/**
 * `ssh:trust-host-key`: add an SSH host key to the known_hosts file of the saved ssh tunnel, after the user compared
 * its fingerprint (an SSH_HOST_KEY_UNKNOWN error carries all five values in its `details`). Main refuses unless
 * `host`/`port` are the saved tunnel's and `fingerprint` is the SHA-256 fingerprint of `key` (`keyType` its type).
 */
export interface HostKeyTrustRequest {
  readonly host: string
  readonly port: number
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, … */
  readonly keyType: string
  /** The public key blob, base64 (as in a known_hosts line). */
  readonly key: string
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string
}

/** `log:write`: the window's own errors (window.onerror, unhandledrejection) for the main log. */
export interface RendererLogRequest {
  readonly level: 'error' | 'warn'
  /** One message; at most 4096 characters. */
  readonly message: string
  /** Where: a script URL with line and column, at most 1024 characters. */
  readonly source?: string
  /** The stack, at most 16384 characters (the log keeps the first lines). */
  readonly stack?: string
}

/** `log:write`: false when the line was dropped because the window wrote too many lines too fast. */
export interface RendererLogResult {
  readonly written: boolean
}

/** `profile:export`: a save dialog, then the config format with every secret removed. */
export type ProfileExportResult =
  | { readonly saved: true; readonly path: string }
  | { readonly saved: false }

/**
 * `profile:import`: an open dialog, then the file is validated by the core's config schema. The config is
 * returned for review; it is NOT saved (the window calls `config:set` to keep it). Secrets written in the file
 * (headless configs may hold them) are kept, so `config:set` stores them encrypted.
 */
export type ProfileImportResult =
  | { readonly imported: true; readonly path: string; readonly config: Config }
  | { readonly imported: false }

export type ThemeSetting = 'system' | 'light' | 'dark'
export type LanguageSetting = 'system' | 'en' | 'zh-CN'
export const themeSettings = ['system', 'light', 'dark'] as const satisfies readonly ThemeSetting[]
export const languageSettings = ['system', 'en', 'zh-CN'] as const satisfies readonly LanguageSetting[]

/** `app:settings` / `app:set-settings`: the desktop app's own preferences (not part of the config format). */
export interface AppSettings {
  readonly startAtLogin: boolean
  readonly language: LanguageSetting
  readonly theme: ThemeSetting
  /** OS notifications when the state changes (rate-limited). */
  readonly notifications: boolean
  /**
   * Connect when the app starts; a lease left by a crash or a reboot is taken over in the same privileged run
   * (hosts block kept, loopback alias and port redirects re-created) instead of offering to revert it.
   */
  readonly connectAtStart: boolean
}

/** `app:set-settings`: only the fields given change; the answer is the full, saved settings. */
export type AppSettingsPatch = Partial<AppSettings>

/** `app:info`. */
export interface AppInfo {
  readonly version: string
  /** process.platform of the main process: 'darwin' | 'win32' | 'linux' | … */
  readonly platform: string
  readonly packaged: boolean
}

// ---------------------------------------------------------------------------------------------------------------
// Channels

/** Request and response of every invoke channel. `void` request: the method takes no argument. */
export interface InvokeContract {
  'catalog:get': { request: void; response: CatalogView }
  'config:get': { request: void; response: ConfigView }
  'config:set': { request: ConfigSetRequest; response: ConfigView }
  'hosts:preview': { request: HostsPreviewRequest; response: HostsPreview }
  'session:connect': { request: void; response: SessionState }
  'session:disconnect': { request: void; response: SessionState }
  'session:state': { request: void; response: SessionState }
  'diagnostics:run': { request: void; response: readonly CheckResult[] }
  'discover:run': { request: DiscoveryRequest; response: DiscoveryResult }
  /** `null` when nothing was left behind. */
  'lease:find': { request: void; response: StaleLease | null }
  'lease:revert': { request: void; response: null }
  'log:tail': { request: LogTailRequest; response: readonly LogEntry[] }
  'log:write': { request: RendererLogRequest; response: RendererLogResult }
  'ssh:trust-host-key': { request: HostKeyTrustRequest; response: null }
  'profile:export': { request: void; response: ProfileExportResult }
  'profile:import': { request: void; response: ProfileImportResult }
  'app:settings': { request: void; response: AppSettings }
  'app:set-settings': { request: AppSettingsPatch; response: AppSettings }
  'app:info': { request: void; response: AppInfo }
}

/** Payload of every event channel (main → window). */
export interface EventContract {
  'session:state-changed': SessionState
  'log:appended': LogEntry
  /** The saved config changed outside the window (tray Regions menu, profile import). */
  'config:changed': ConfigView
  /** Diagnostics finished (also when started from the tray). */
  'diagnostics:completed': readonly CheckResult[]
}

export type InvokeChannel = keyof InvokeContract
export type EventChannel = keyof EventContract
export type InvokeRequest<C extends InvokeChannel> = InvokeContract[C]['request']
export type InvokeResponse<C extends InvokeChannel> = InvokeContract[C]['response']

/** The runtime allow-lists: main registers exactly these, the preload exposes exactly these. */
export const invokeChannels = [
  'catalog:get',
  'config:get',
  'config:set',
  'hosts:preview',
  'session:connect',
  'session:disconnect',
  'session:state',
  'diagnostics:run',
  'discover:run',
  'lease:find',
  'lease:revert',
  'log:tail',
  'log:write',
  'ssh:trust-host-key',
  'profile:export',
  'profile:import',
  'app:settings',
  'app:set-settings',
  'app:info',
] as const satisfies readonly InvokeChannel[]

export const eventChannels = [
  'session:state-changed',
  'log:appended',
  'config:changed',
  'diagnostics:completed',
] as const satisfies readonly EventChannel[]

// Both lists must name every channel of their contract (a missing one is a compile error here).
type Missing<All, Listed> = Exclude<All, Listed>
const allInvokeListed: Missing<InvokeChannel, (typeof invokeChannels)[number]> extends never ? true : false = true
const allEventsListed: Missing<EventChannel, (typeof eventChannels)[number]> extends never ? true : false = true
void allInvokeListed
void allEventsListed

export function isInvokeChannel(value: unknown): value is InvokeChannel {
  return typeof value === 'string' && (invokeChannels as readonly string[]).includes(value)
}

export function isEventChannel(value: unknown): value is EventChannel {
  return typeof value === 'string' && (eventChannels as readonly string[]).includes(value)
}

// ---------------------------------------------------------------------------------------------------------------
// window.acr

/** An invoke channel as a function: `() => …` when its request is void. */
export type InvokeFunction<C extends InvokeChannel> = [InvokeRequest<C>] extends [void]
  ? () => Promise<Result<InvokeResponse<C>>>
  : (request: InvokeRequest<C>) => Promise<Result<InvokeResponse<C>>>

/** Subscribes to an event; the listener gets the payload only; call the returned function to unsubscribe. */
export type EventSubscriber<C extends EventChannel> = (listener: (payload: EventContract[C]) => void) => () => void

/** Where each invoke channel sits on `window.acr`: `[domain, method]`. The preload builds the object from this. */
export const invokeMethods = {
  'catalog:get': ['catalog', 'get'],
  'config:get': ['config', 'get'],
  'config:set': ['config', 'set'],
  'hosts:preview': ['hosts', 'preview'],
  'session:connect': ['session', 'connect'],
  'session:disconnect': ['session', 'disconnect'],
  'session:state': ['session', 'state'],
  'diagnostics:run': ['diagnostics', 'run'],
  'discover:run': ['discover', 'run'],
  'lease:find': ['lease', 'find'],
  'lease:revert': ['lease', 'revert'],
  'log:tail': ['log', 'tail'],
  'log:write': ['log', 'write'],
  'ssh:trust-host-key': ['ssh', 'trustHostKey'],
  'profile:export': ['profile', 'export'],
  'profile:import': ['profile', 'import'],
  'app:settings': ['app', 'settings'],
  'app:set-settings': ['app', 'setSettings'],
  'app:info': ['app', 'info'],
} as const satisfies { readonly [C in InvokeChannel]: readonly [string, string] }

/** Where each event channel sits on `window.acr`. */
export const eventMethods = {
  'session:state-changed': 'onSessionStateChanged',
  'log:appended': 'onLogAppended',
  'config:changed': 'onConfigChanged',
  'diagnostics:completed': 'onDiagnosticsCompleted',
} as const satisfies { readonly [C in EventChannel]: string }

/** `window.acr`, exposed by the preload. Every call answers a Result; listeners return an unsubscribe function. */
export interface AcrApi {
  readonly catalog: { readonly get: InvokeFunction<'catalog:get'> }
  readonly config: {
    readonly get: InvokeFunction<'config:get'>
    readonly set: InvokeFunction<'config:set'>
  }
  readonly hosts: { readonly preview: InvokeFunction<'hosts:preview'> }
  readonly session: {
    readonly connect: InvokeFunction<'session:connect'>
    readonly disconnect: InvokeFunction<'session:disconnect'>
    readonly state: InvokeFunction<'session:state'>
  }
  readonly diagnostics: { readonly run: InvokeFunction<'diagnostics:run'> }
  readonly discover: { readonly run: InvokeFunction<'discover:run'> }
  readonly lease: {
    readonly find: InvokeFunction<'lease:find'>
    readonly revert: InvokeFunction<'lease:revert'>
  }
  readonly log: {
    readonly tail: InvokeFunction<'log:tail'>
    readonly write: InvokeFunction<'log:write'>
  }
  readonly ssh: { readonly trustHostKey: InvokeFunction<'ssh:trust-host-key'> }
  readonly profile: {
    readonly export: InvokeFunction<'profile:export'>
    readonly import: InvokeFunction<'profile:import'>
  }
  readonly app: {
    readonly settings: InvokeFunction<'app:settings'>
    readonly setSettings: InvokeFunction<'app:set-settings'>
    readonly info: InvokeFunction<'app:info'>
  }
  readonly onSessionStateChanged: EventSubscriber<'session:state-changed'>
  readonly onLogAppended: EventSubscriber<'log:appended'>
  readonly onConfigChanged: EventSubscriber<'config:changed'>
  readonly onDiagnosticsCompleted: EventSubscriber<'diagnostics:completed'>
}

// The layout tables and AcrApi agree (a drift is a compile error here).
type Methods = typeof invokeMethods
type ApiFromLayout = {
  [C in InvokeChannel as Methods[C][0]]: { [K in InvokeChannel as Methods[K][0] extends Methods[C][0] ? Methods[K][1] : never]: InvokeFunction<K> }
} & { [C in EventChannel as (typeof eventMethods)[C]]: EventSubscriber<C> }
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Loose<T> = { -readonly [K in keyof T]: T[K] extends (...args: never[]) => unknown ? T[K] : { -readonly [M in keyof T[K]]: T[K][M] } }
const layoutMatchesApi: Same<Loose<AcrApi>, Loose<ApiFromLayout>> = true
void layoutMatchesApi

/** Codes an IPC call can fail with besides the core's ErrorCode values. */
export type IpcErrorCode =
  /** The call did not come from the app's own top-level window. */
  | 'FORBIDDEN'
  /** The request did not have the contract's shape (config payloads fail with INVALID_CONFIG instead). */
  | 'USAGE'
  /** A bug in the app: the message says what; the log has the rest. */
  | 'INTERNAL'
