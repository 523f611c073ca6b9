import { join, win32 } from 'node:path'

export type Platform = 'linux' | 'darwin' | 'win32'

/** The platforms the product supports; anything else is treated as Linux-like POSIX. */
export function toPlatform(value: NodeJS.Platform): Platform {
  return value === 'darwin' || value === 'win32' ? value : 'linux'
}

export const appName = 'ACR Bridge'

/**
 * The app's data folder, shared by the desktop app and the CLI so either can undo what the other did (backup,
 * lease journal). It equals Electron's `app.getPath('userData')` for productName "ACR Bridge".
 * `ACR_BRIDGE_DATA_DIR` overrides it (tests, portable setups).
 */
export function defaultDataDir(platform: Platform, env: NodeJS.ProcessEnv, homeDir: string): string {
  const override = env['ACR_BRIDGE_DATA_DIR']
  if (override !== undefined && override !== '') return override
  switch (platform) {
    case 'darwin':
      return join(homeDir, 'Library', 'Application Support', appName)
    case 'win32':
      return win32.join(env['APPDATA'] ?? win32.join(homeDir, 'AppData', 'Roaming'), appName)
    case 'linux':
      return join(env['XDG_CONFIG_HOME'] ?? join(homeDir, '.config'), appName)
  }
}

/** The OS hosts file. macOS's /etc is a symlink to /private/etc; the writer follows it. */
export function defaultHostsPath(platform: Platform, env: NodeJS.ProcessEnv): string {
  if (platform === 'win32') {
    return win32.join(env['SystemRoot'] ?? 'C:\\Windows', 'System32', 'drivers', 'etc', 'hosts')
  }
  return '/etc/hosts'
}
