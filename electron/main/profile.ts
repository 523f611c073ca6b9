// Profile export/import: the config format through the OS file dialogs. Exports never carry secrets.

import { readFile, stat } from 'node:fs/promises'
import type { ProfileExportResult, ProfileImportResult } from '../common/ipc-contract.js'
import type { Config } from '../core/config/types.js'
import { BridgeError } from '../core/errors.js'
import type { DialogLike } from './electron-surface.js'
import { withoutSecrets } from './secrets.js'
import { writeAtomic } from './settings-store.js'

const filters = [{ name: 'ACR Bridge profile', extensions: ['json'] }]
const maxProfileBytes = 1024 * 1024

/** The exported file's content: the config format, pretty-printed, without secrets. */
export function profileText(config: Config): string {
  return `${JSON.stringify(withoutSecrets(config), null, 2)}\n`
}

export async function exportProfile(dialog: Pick<DialogLike, 'showSaveDialog'>, config: Config): Promise<ProfileExportResult> {
  const choice = await dialog.showSaveDialog({ title: 'Export profile', defaultPath: 'acr-bridge-profile.json', filters })
  if (choice.canceled || choice.filePath === undefined || choice.filePath === '') return { saved: false }
  try {
    await writeAtomic(choice.filePath, profileText(config))
  } catch (error) {
    throw new BridgeError('CONFIG_WRITE_FAILED', 'The profile could not be written.', {
      hint: 'Choose a folder you can write to.',
      cause: error,
    })
  }
  return { saved: true, path: choice.filePath }
}

/** Reads and validates a profile; secrets in the file are kept (config:set stores them encrypted). Nothing is saved. */
export async function importProfile(
  dialog: Pick<DialogLike, 'showOpenDialog'>,
  parseConfig: (input: unknown) => Config,
): Promise<ProfileImportResult> {
  const choice = await dialog.showOpenDialog({ title: 'Import profile', filters, properties: ['openFile'] })
  const path = choice.filePaths[0]
  if (choice.canceled || path === undefined) return { imported: false }
  return { imported: true, path, config: await readProfile(path, parseConfig) }
}

export async function readProfile(path: string, parseConfig: (input: unknown) => Config): Promise<Config> {
  let text: string
  try {
    if ((await stat(path)).size > maxProfileBytes) {
      throw new BridgeError('INVALID_CONFIG', 'The profile is larger than 1 MiB, so it is not an ACR Bridge profile.', {
        hint: 'Choose the .json file exported by ACR Bridge or written in its config format.',
      })
    }
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof BridgeError) throw error
    throw new BridgeError('CONFIG_NOT_FOUND', 'The profile could not be read.', { hint: 'Check that the file exists and you may read it.', cause: error })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new BridgeError('INVALID_CONFIG', 'The profile is not valid JSON.', {
      hint: 'Choose the .json file exported by ACR Bridge or written in its config format.',
      cause: error,
    })
  }
  return parseConfig(json)
}
