// The desktop app's saved state under app.getPath('userData'):
//   config.json    the config format (DESIGN.md "Config") WITHOUT secrets
//   secrets.bin    the secrets, encrypted with Electron's safeStorage (OS keychain); never written in the clear
//   settings.json  the app's own preferences (start at login, language, theme, notifications,
//                 connect at start)
// Every file is written atomically (temp file in the same folder, then rename) with mode 0600.

import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import {
  languageSettings,
  secretNames,
  themeSettings,
  type AppSettings,
  type AppSettingsPatch,
  type SecretName,
} from '../common/ipc-contract.js'
import type { Config } from '../core/config/types.js'
import { BridgeError, errnoCode } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { SafeStorageLike } from './electron-surface.js'
import { secretFields, splitSecrets, withSecrets, type SecretValues } from './secrets.js'

export const defaultAppSettings: AppSettings = {
  startAtLogin: false,
  language: 'system',
  theme: 'system',
  notifications: true,
  connectAtStart: false,
}

/** Encrypts secrets at rest; `available` false means secrets cannot be saved at all. */
export interface SecretCipher {
  available(): boolean
  encrypt(plainText: string): Buffer
  decrypt(encrypted: Buffer): string
}

/**
 * safeStorage as a SecretCipher. On Linux without a keyring Electron falls back to `basic_text`, a fixed key that
 * protects nothing: that counts as unavailable.
 */
export function safeStorageCipher(safeStorage: SafeStorageLike & { getSelectedStorageBackend?: () => string }, platform: string): SecretCipher {
  return {
    available: () => {
      if (!safeStorage.isEncryptionAvailable()) return false
      if (platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') return false
      return true
    },
    encrypt: (text) => safeStorage.encryptString(text),
    decrypt: (bytes) => safeStorage.decryptString(bytes),
  }
}

export interface SettingsStoreOptions {
  readonly dir: string
  readonly parseConfig: (input: unknown) => Config
  readonly cipher: SecretCipher
  readonly logger: Logger
}

export interface SettingsStore {
  /** Reads all three files; a missing file is not an error, a broken one is logged and ignored. */
  load(): Promise<void>
  /** The saved config with its secrets put back, or undefined when nothing was saved yet. */
  config(): Config | undefined
  /** Splits the secrets off, stores them encrypted, writes config.json; returns the config with secrets. */
  saveConfig(config: Config, clearSecrets?: readonly SecretName[]): Promise<Config>
  storedSecrets(): Record<SecretName, boolean>
  /** Every stored secret value, for the log redactor. */
  secretValues(): string[]
  secretStorageAvailable(): boolean
  appSettings(): AppSettings
  saveAppSettings(patch: AppSettingsPatch): Promise<AppSettings>
}

const appSettingsSchema = z.object({
  startAtLogin: z.boolean().catch(defaultAppSettings.startAtLogin),
  language: z.enum(languageSettings).catch(defaultAppSettings.language),
  theme: z.enum(themeSettings).catch(defaultAppSettings.theme),
  notifications: z.boolean().catch(defaultAppSettings.notifications),
  connectAtStart: z.boolean().catch(defaultAppSettings.connectAtStart),
})

const secretsSchema = z.strictObject({
  proxyPassword: z.string().optional(),
  sshPassphrase: z.string().optional(),
  sshPassword: z.string().optional(),
})

export function createSettingsStore(options: SettingsStoreOptions): SettingsStore {
  const configPath = join(options.dir, 'config.json')
  const secretsPath = join(options.dir, 'secrets.bin')
  const settingsPath = join(options.dir, 'settings.json')
  let savedConfig: Config | undefined
  let secrets: SecretValues = {}
  let settings: AppSettings = defaultAppSettings

  async function loadConfigFile(): Promise<void> {
    const text = await readIfExists(configPath)
    if (text === undefined) return
    try {
      // A config.json written by hand may hold secrets; they are used, and moved out on the next save.
      const parsed = options.parseConfig(JSON.parse(text))
      const split = splitSecrets(parsed)
      savedConfig = split.config
      secrets = { ...split.secrets, ...secrets }
    } catch (error) {
      options.logger.warn(`[settings] ignoring ${configPath}: it is not a valid config`, error)
    }
  }

  async function loadSecretsFile(): Promise<void> {
    let bytes: Buffer
    try {
      bytes = await readFile(secretsPath)
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') options.logger.warn('[settings] cannot read the stored secrets', error)
      return
    }
    if (!options.cipher.available()) {
      options.logger.warn('[settings] stored secrets cannot be decrypted: the OS offers no encrypted storage now')
      return
    }
    try {
      secrets = secretsSchema.parse(JSON.parse(options.cipher.decrypt(bytes))) as SecretValues
    } catch (error) {
      options.logger.warn('[settings] the stored secrets cannot be decrypted; enter them again', error)
    }
  }

  async function loadSettingsFile(): Promise<void> {
    const text = await readIfExists(settingsPath)
    if (text === undefined) return
    try {
      settings = appSettingsSchema.parse(JSON.parse(text))
    } catch (error) {
      options.logger.warn(`[settings] ignoring ${settingsPath}: not valid`, error)
    }
  }

  return {
    async load() {
      await loadSecretsFile()
      await loadConfigFile()
      await loadSettingsFile()
    },

    config: () => (savedConfig === undefined ? undefined : withSecrets(savedConfig, secrets)),

    async saveConfig(config, clearSecrets = []) {
      const split = splitSecrets(config)
      const next: SecretValues = { ...secrets }
      for (const name of clearSecrets) delete next[name]
      for (const name of secretNames) {
        const value = split.secrets[name]
        if (value !== undefined) next[name] = value
      }
      const changed = secretNames.some((name) => next[name] !== secrets[name])
      const hasAny = secretNames.some((name) => next[name] !== undefined)
      if (changed && hasAny && !options.cipher.available()) {
        const name = secretNames.find((n) => split.secrets[n] !== undefined) ?? 'proxyPassword'
        throw new BridgeError('CONFIG_WRITE_FAILED', 'This system offers no encrypted storage, so the secret cannot be saved.', {
          hint:
            'Leave the field empty and set ACR_BRIDGE_PROXY_PASSWORD / ACR_BRIDGE_SSH_PASSPHRASE / ACR_BRIDGE_SSH_PASSWORD before starting the app, use an SSH agent, or unlock a keyring (GNOME Keyring, KWallet) and restart.',
          field: secretFields[name],
        })
      }
      try {
        await mkdir(options.dir, { recursive: true, mode: 0o700 })
        if (changed) {
          if (hasAny) await writeAtomic(secretsPath, options.cipher.encrypt(JSON.stringify(next)))
          else await rm(secretsPath, { force: true })
        }
        await writeAtomic(configPath, `${JSON.stringify(split.config, null, 2)}\n`)
      } catch (error) {
        throw new BridgeError('CONFIG_WRITE_FAILED', 'The settings could not be saved.', {
          hint: `Check that ${options.dir} is writable and the disk is not full.`,
          cause: error,
        })
      }
      secrets = next
      savedConfig = split.config
      return withSecrets(split.config, secrets)
    },

    storedSecrets: () => ({
      proxyPassword: secrets.proxyPassword !== undefined,
      sshPassphrase: secrets.sshPassphrase !== undefined,
      sshPassword: secrets.sshPassword !== undefined,
    }),

    secretValues: () => secretNames.map((name) => secrets[name]).filter((v): v is string => v !== undefined && v !== ''),

    secretStorageAvailable: () => options.cipher.available(),

    appSettings: () => settings,

    async saveAppSettings(patch) {
      const next: AppSettings = { ...settings, ...patch }
      try {
        await mkdir(options.dir, { recursive: true, mode: 0o700 })
        await writeAtomic(settingsPath, `${JSON.stringify(next, null, 2)}\n`)
      } catch (error) {
        throw new BridgeError('CONFIG_WRITE_FAILED', 'The app settings could not be saved.', {
          hint: `Check that ${options.dir} is writable and the disk is not full.`,
          cause: error,
        })
      }
      settings = next
      return settings
    },
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw error
  }
}

/** Temp file in the same folder, then rename: a crash leaves the old file or the new one, never half of one. */
export async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeFile(temp, data, { mode: 0o600, flush: true })
    await rename(temp, path)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}
