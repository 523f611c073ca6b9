// Reading and writing the config file. Paths come in as parameters; writes are atomic and private (0600).

import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, realpath, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { BridgeError, errnoCode } from '../errors.js'
import { jsonErrorLocation } from './json-location.js'
import { parseConfig } from './schema.js'
import type { Config } from './types.js'

/** A config file larger than this is refused before parsing. */
export const maxConfigFileBytes = 1024 * 1024

/**
 * Reads, parses and validates a config file. CONFIG_NOT_FOUND when the file is missing or cannot be read;
 * INVALID_CONFIG when it is too large, not JSON (naming the line and column), or not a valid config.
 */
export async function loadConfig(path: string): Promise<Config> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (error) {
    const code = errnoCode(error)
    const missing = code === 'ENOENT' || code === 'ENOTDIR'
    throw new BridgeError('CONFIG_NOT_FOUND', missing ? `Config file ${path} does not exist.` : `Config file ${path} cannot be read (${code ?? 'error'}).`, {
      cause: error,
      hint: missing ? 'Check the --config path, or create the file (docs/config.md shows the format).' : 'Check the path and the file permissions.',
    })
  }
  if (bytes.length > maxConfigFileBytes) {
    throw new BridgeError('INVALID_CONFIG', `Config file ${path} is larger than ${maxConfigFileBytes} bytes.`, {
      field: '(config)',
      hint: 'Check that --config names the right file; a config is a few kilobytes at most.',
    })
  }
  let text = bytes.toString('utf8')
  if (text.startsWith('\uFEFF')) text = text.slice(1)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    const where = jsonErrorLocation(text)
    throw new BridgeError('INVALID_CONFIG', `Config file ${path} is not valid JSON${where === undefined ? '' : ` (line ${where.line}, column ${where.column})`}.`, {
      field: '(config)',
      cause: error,
      hint: 'Fix the JSON syntax at that place (no comments or trailing commas).',
      ...(where === undefined ? {} : { details: { line: where.line, column: where.column } }),
    })
  }
  return parseConfig(json)
}

/**
 * Validates `config` (INVALID_CONFIG, nothing written) and writes it atomically: a temp file in the same folder,
 * created with mode 0600 because the config may hold secrets, fsync'd, renamed over the target, then the folder
 * fsync'd. A symlinked target is replaced at its destination. The folder is created (0700) when missing.
 * CONFIG_WRITE_FAILED on any I/O error; the temp file is removed on every failure path.
 */
export async function saveConfig(path: string, config: Config): Promise<void> {
  const valid = parseConfig(config)
  const content = `${JSON.stringify(valid, null, 2)}\n`
  let target = path
  try {
    target = await realpath(path)
  } catch {
    // a new file (or a dangling link): write at the given path
  }
  const folder = dirname(target)
  const temp = join(folder, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
  let tempCreated = false
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 })
    const handle = await open(temp, 'wx', 0o600)
    tempCreated = true
    try {
      await handle.chmod(0o600)
      await handle.writeFile(content, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, target)
    tempCreated = false
    await syncFolder(folder)
  } catch (error) {
    if (tempCreated) await unlink(temp).catch(() => undefined)
    throw new BridgeError('CONFIG_WRITE_FAILED', `Cannot write the config file ${path} (${errnoCode(error) ?? 'error'}).`, {
      cause: error,
      hint: 'Check that the folder exists and is writable, and that the disk is not full.',
    })
  }
}

async function syncFolder(folder: string): Promise<void> {
  let handle
  try {
    handle = await open(folder, 'r')
    await handle.sync()
  } catch (error) {
    // Windows cannot open or fsync a directory; the rename itself is what matters there.
    const code = errnoCode(error)
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EINVAL') throw error
  } finally {
    await handle?.close()
  }
}
