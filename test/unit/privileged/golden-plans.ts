// The plans the golden scripts are built from: one install-file step and one flush step, with staging paths shaped
// like the real ones (the data folder has a space in it on every OS).

import type { Platform } from '../../../electron/core/paths.js'
import type { PrivilegedPlan } from '../../../electron/core/privileged/types.js'

const stagingDirs: Record<Platform, { dir: string; sep: string }> = {
  linux: { dir: '/home/dev/.config/ACR Bridge/elevate-AbC123', sep: '/' },
  darwin: { dir: '/Users/dev/Library/Application Support/ACR Bridge/elevate-AbC123', sep: '/' },
  win32: { dir: 'C:\\Users\\dev\\AppData\\Roaming\\ACR Bridge\\elevate-AbC123', sep: '\\' },
}

export function goldenPlan(platform: Platform, flush = true): PrivilegedPlan {
  const { dir, sep } = stagingDirs[platform]
  return {
    steps: [
      { kind: 'install-file', source: `${dir}${sep}content.new`, expected: `${dir}${sep}content.expected`, targetPathFile: `${dir}${sep}target-path` },
      ...(flush ? [{ kind: 'flush-resolver-cache' } as const] : []),
    ],
  }
}

export const goldenFiles: Record<Platform, string> = { linux: 'linux.sh', darwin: 'darwin.sh', win32: 'win32.ps1' }
