// The services behind the IPC handlers besides the controller itself: the saved config and settings, the log,
// profiles, SSH host key trust and the window's own error reports. Plain Node (no 'electron' at run time): the
// desktop app (app.ts) and the test host (test/e2e/host) build this same object, so both answer every channel with
// the same code; only the dialogs, the store's cipher and where events go differ.

import type {
  AppInfo,
  AppSettings,
  AppSettingsPatch,
  CatalogView,
  ConfigSetRequest,
  ConfigView,
  EventChannel,
  EventContract,
  HostKeyTrustRequest,
  LogEntry,
  RendererLogRequest,
  RendererLogResult,
} from '../common/ipc-contract.js'
import { expandHome } from '../core/config/secrets.js'
import type { Config } from '../core/config/types.js'
import { BridgeError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { defaultKnownHostsPath } from '../core/session/create-dialer.js'
import type { SessionController } from '../core/session/types.js'
import { sshKeyFingerprint, sshKeyType, trustHostKey as coreTrustHostKey } from '../core/tunnel/known-hosts.js'
import type { DialogLike } from './electron-surface.js'
import type { IpcServices } from './ipc-handlers.js'
import type { ParseConfig } from './ipc-schemas.js'
import { exportProfile, importProfile } from './profile.js'
import { createRateLimiter } from './rate-limiter.js'
import { withoutSecrets } from './secrets.js'
import type { SettingsStore } from './settings-store.js'

/** Sends an event to the window (Electron: webContents.send; the test host: its event stream). */
export type Broadcast = <C extends EventChannel>(channel: C, payload: EventContract[C]) => void

export interface IpcServicesDeps {
  readonly controller: SessionController
  readonly store: SettingsStore
  readonly catalog: () => CatalogView
  readonly parseConfig: ParseConfig
  readonly logger: Logger & { tail(limit: number): readonly LogEntry[] }
  /** Profile export/import ask where through these (Electron's dialog module in the app). */
  readonly dialog: Pick<DialogLike, 'showSaveDialog' | 'showOpenDialog'>
  readonly appInfo: () => AppInfo
  /** `~` in tunnel.ssh.knownHostsPath expands to this. */
  readonly homeDir: string
  readonly broadcast: Broadcast
  /** After a config was saved (the tray re-renders). */
  readonly onConfigSaved?: () => void
  /** After the app settings were saved (start at login is applied). */
  readonly onAppSettingsSaved?: (saved: AppSettings, patch: AppSettingsPatch) => void
  readonly now?: () => number
  /** At most this many window log lines per minute (default 30); more are dropped and counted. */
  readonly rendererLogPerMinute?: number
  /** Core's trustHostKey (tests may watch it). */
  readonly trustHostKey?: typeof coreTrustHostKey
}

export function createIpcServices(deps: IpcServicesDeps): IpcServices {
  const { controller, store, logger } = deps
  const trust = deps.trustHostKey ?? coreTrustHostKey
  const writeRendererLog = createRendererLogWriter(logger, {
    perMinute: deps.rendererLogPerMinute ?? 30,
    now: deps.now ?? Date.now,
  })

  function configView(): ConfigView {
    return {
      config: withoutSecrets(controller.getConfig()),
      storedSecrets: store.storedSecrets(),
      secretStorageAvailable: store.secretStorageAvailable(),
      saved: store.config() !== undefined,
    }
  }

  return {
    controller,
    catalog: () => deps.catalog(),
    configView,
    async saveConfig(request: ConfigSetRequest): Promise<ConfigView> {
      const full = await store.saveConfig(request.config, request.clearSecrets)
      await controller.setConfig(full)
      const view = configView()
      deps.broadcast('config:changed', view)
      deps.onConfigSaved?.()
      return view
    },
    logTail: (limit) => deps.logger.tail(limit),
    exportProfile: () => exportProfile(deps.dialog, controller.getConfig()),
    importProfile: () => importProfile(deps.dialog, deps.parseConfig),
    appSettings: () => store.appSettings(),
    async setAppSettings(patch: AppSettingsPatch): Promise<AppSettings> {
      const saved = await store.saveAppSettings(patch)
      deps.onAppSettingsSaved?.(saved, patch)
      return saved
    },
    appInfo: () => deps.appInfo(),
    diagnosticsCompleted: (results) => deps.broadcast('diagnostics:completed', results),
    async trustHostKey(request: HostKeyTrustRequest): Promise<void> {
      const { knownHostsPath } = checkTrustRequest(controller.getConfig(), deps.homeDir, request)
      const result = await trust(knownHostsPath, request.host, request.port, request.keyType, request.key)
      logger.info(
        result.added
          ? `[ssh] trusted the ${request.keyType} host key ${request.fingerprint} of ${request.host}:${request.port} (added to ${knownHostsPath})`
          : `[ssh] the ${request.keyType} host key ${request.fingerprint} of ${request.host}:${request.port} was already in ${knownHostsPath}`,
      )
    },
    writeRendererLog,
  }
}

/**
 * What main checks before it writes a host key: the saved tunnel is ssh and goes to exactly this host and port, the
 * key blob is of `keyType`, and `fingerprint` (what the user compared) is that blob's SHA-256 fingerprint. Returns
 * the known_hosts file the session reads. Throws USAGE, naming what did not match; nothing is written then.
 */
export function checkTrustRequest(config: Config, homeDir: string, request: HostKeyTrustRequest): { readonly knownHostsPath: string } {
  const tunnel = config.tunnel
  const again = 'Save the SSH tunnel settings, test the connection again, and trust the key it then shows.'
  if (tunnel.mode !== 'ssh' || tunnel.ssh === undefined) {
    throw new BridgeError('USAGE', 'The saved tunnel does not use SSH, so there is no host key to trust.', { hint: again })
  }
  if (request.host.toLowerCase() !== tunnel.host.toLowerCase() || request.port !== tunnel.port) {
    throw new BridgeError('USAGE', `The key is for ${request.host}:${request.port}, but the saved SSH tunnel goes to ${tunnel.host}:${tunnel.port}.`, {
      hint: again,
      field: 'tunnel.host',
    })
  }
  const blob = Buffer.from(request.key, 'base64')
  if (sshKeyType(blob) !== request.keyType) {
    throw new BridgeError('USAGE', `The key sent is not a ${request.keyType} public key; nothing was trusted.`, { hint: again })
  }
  if (sshKeyFingerprint(blob) !== request.fingerprint) {
    throw new BridgeError('USAGE', 'The fingerprint shown does not belong to the key sent; nothing was trusted.', { hint: again })
  }
  return { knownHostsPath: expandHome(tunnel.ssh.knownHostsPath ?? defaultKnownHostsPath, homeDir) }
}

/** Control characters other than tab and line feed would let a message forge or garble log lines. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/g, ' ')
}

const stackLines = 12
const stackLineChars = 300

/**
 * The window's own errors into the main log (`[renderer] …`), bounded: at most `perMinute` lines a minute (the rest
 * are dropped and the next written line says how many), messages printable only, stacks cut to their first lines.
 */
export function createRendererLogWriter(
  logger: Logger,
  options: { readonly perMinute: number; readonly now: () => number },
): (request: RendererLogRequest) => RendererLogResult {
  const limiter = createRateLimiter({ max: options.perMinute, windowMs: 60_000, now: options.now })
  let dropped = 0
  return (request) => {
    if (!limiter.tryAcquire()) {
      dropped++
      return { written: false }
    }
    const parts = [`[renderer] ${printable(request.message).trim() || '(no message)'}`]
    if (request.source !== undefined && request.source !== '') parts.push(`(at ${printable(request.source)})`)
    if (dropped > 0) parts.push(`(${dropped} earlier line${dropped === 1 ? '' : 's'} dropped: the window wrote too many)`)
    dropped = 0
    let line = parts.join(' ')
    if (request.stack !== undefined && request.stack.trim() !== '') {
      const stack = printable(request.stack)
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
        .slice(0, stackLines)
        .map((l) => (l.length > stackLineChars ? `${l.slice(0, stackLineChars)}…` : l))
      line += `\n${stack.join('\n')}`
    }
    if (request.level === 'error') logger.error(line)
    else logger.warn(line)
    return { written: true }
  }
}
