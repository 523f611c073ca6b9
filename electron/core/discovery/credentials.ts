// Registry credentials for discovery (and doctor's pull check), the way `docker login` / `docker pull` find them:
// given explicitly, from ACR_BRIDGE_REGISTRY_USERNAME / ACR_BRIDGE_REGISTRY_PASSWORD, or from Docker's own
// config.json (`credHelpers` for the host, else `credsStore`, else a plain `auths` entry). A credential helper runs
// as `docker-credential-<helper> get` with the registry host on stdin: an argument array, never a shell, and a
// helper name that must match ^[a-zA-Z0-9._-]+$. Secrets never reach a log line or an error message.

import { spawn } from 'node:child_process'
import { readFile as fsReadFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BridgeError, errnoCode } from '../errors.js'
import { nullLogger, type Logger } from '../logger.js'

export type CredentialSource = 'command line' | 'environment' | 'docker config' | 'credential helper' | 'prompt'

export interface RegistryCredentials {
  readonly username: string
  readonly password: string
  /** Where they came from, for one line of output (never the values). */
  readonly source: CredentialSource
}

export const registryCredentialVariables = {
  username: 'ACR_BRIDGE_REGISTRY_USERNAME',
  password: 'ACR_BRIDGE_REGISTRY_PASSWORD',
} as const

const helperNamePattern = /^[a-zA-Z0-9._-]+$/

/** What Docker's config.json says about one registry host. */
export type DockerConfigLookup =
  | { readonly kind: 'auth'; readonly username: string; readonly password: string; readonly key: string }
  | { readonly kind: 'helper'; readonly helper: string; readonly from: 'credHelpers' | 'credsStore' }
  | { readonly kind: 'identity-token'; readonly key: string }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'none' }

/** `https://host/v1/` → `host`, as docker's ConvertToHostname does for auths keys. */
export function registryKeyHost(key: string): string {
  let rest = key.trim()
  if (rest.startsWith('http://')) rest = rest.slice(7)
  else if (rest.startsWith('https://')) rest = rest.slice(8)
  const slash = rest.indexOf('/')
  return (slash === -1 ? rest : rest.slice(0, slash)).toLowerCase()
}

/**
 * Looks `registry` up in the text of a Docker config.json: credHelpers[registry] wins, then credsStore (docker then
 * asks only the helper), then auths (exact key, else a key whose host part is the registry). Pure; never throws.
 */
export function lookupDockerConfig(text: string, registry: string): DockerConfigLookup {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { kind: 'invalid', reason: 'is not valid JSON' }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { kind: 'invalid', reason: 'is not a JSON object' }
  const doc = json as Record<string, unknown>
  const host = registry.toLowerCase()
  const helpers = doc['credHelpers']
  if (typeof helpers === 'object' && helpers !== null && !Array.isArray(helpers)) {
    for (const [key, helper] of Object.entries(helpers)) {
      if (registryKeyHost(key) !== host || typeof helper !== 'string' || helper === '') continue
      if (!helperNamePattern.test(helper)) return { kind: 'invalid', reason: `names a credential helper that is not a plain name (credHelpers["${key}"])` }
      return { kind: 'helper', helper, from: 'credHelpers' }
    }
  }
  const store = doc['credsStore']
  if (typeof store === 'string' && store !== '') {
    if (!helperNamePattern.test(store)) return { kind: 'invalid', reason: 'names a credential helper that is not a plain name (credsStore)' }
    return { kind: 'helper', helper: store, from: 'credsStore' }
  }
  const auths = doc['auths']
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) return { kind: 'none' }
  const entries = Object.entries(auths as Record<string, unknown>)
  const exact = entries.find(([key]) => key.toLowerCase() === host)
  const match = exact ?? entries.find(([key]) => registryKeyHost(key) === host)
  if (match === undefined) return { kind: 'none' }
  const [key, entry] = match
  if (typeof entry !== 'object' || entry === null) return { kind: 'none' }
  const record = entry as Record<string, unknown>
  if (typeof record['identitytoken'] === 'string' && record['identitytoken'] !== '') return { kind: 'identity-token', key }
  if (typeof record['auth'] === 'string' && record['auth'] !== '') {
    const decoded = Buffer.from(record['auth'], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon <= 0) return { kind: 'invalid', reason: `has an auths["${key}"].auth that is not base64 of user:password` }
    return { kind: 'auth', username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, ''), key }
  }
  if (typeof record['username'] === 'string' && typeof record['password'] === 'string' && record['username'] !== '') {
    return { kind: 'auth', username: record['username'], password: record['password'], key }
  }
  return { kind: 'none' }
}

/** Runs `docker-credential-<helper> get`, writing `input` to its stdin; resolves with its exit code and stdout. */
export type HelperRunner = (command: string, args: readonly string[], input: string, options: { readonly timeoutMs: number; readonly env: NodeJS.ProcessEnv }) => Promise<{ readonly code: number | null; readonly stdout: string }>

const maxHelperOutput = 64 * 1024

export const spawnHelper: HelperRunner = (command, args, input, options) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { env: options.env, stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true, shell: false })
    let stdout = ''
    let overflow = false
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    timer.unref?.()
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length + chunk.length > maxHelperOutput) {
        overflow = true
        child.kill('SIGKILL')
        return
      }
      stdout += chunk
    })
    child.stdin.on('error', () => {})
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (overflow) reject(new Error('the helper printed more than 64 KiB'))
      else if (signal !== null) reject(new Error(`the helper did not finish within ${options.timeoutMs} ms`))
      else resolve({ code, stdout })
    })
    child.stdin.end(`${input}\n`)
  })

/**
 * Asks `docker-credential-<helper> get` for the registry's credentials. undefined when the helper has none (or keeps
 * an identity token, which ACR does not use). BridgeError CREDENTIALS_MISSING when the helper cannot be run or
 * answers nonsense; the message never quotes what the helper printed.
 */
export async function credentialsFromHelper(
  helper: string,
  registry: string,
  options: { readonly env: NodeJS.ProcessEnv; readonly run?: HelperRunner; readonly timeoutMs?: number; readonly logger?: Logger },
): Promise<RegistryCredentials | undefined> {
  if (!helperNamePattern.test(helper)) {
    throw new BridgeError('CREDENTIALS_MISSING', 'The Docker credential helper name is not a plain name.', {
      hint: 'Fix credsStore / credHelpers in your Docker config.json, or pass --username and --password-stdin.',
    })
  }
  const command = `docker-credential-${helper}`
  const run = options.run ?? spawnHelper
  let answer: { code: number | null; stdout: string }
  try {
    answer = await run(command, ['get'], registry, { timeoutMs: options.timeoutMs ?? 10_000, env: options.env })
  } catch (error) {
    const missing = errnoCode(error) === 'ENOENT'
    throw new BridgeError('CREDENTIALS_MISSING', missing ? `The Docker credential helper ${command} is not installed.` : `The Docker credential helper ${command} failed (${error instanceof Error ? error.message : 'error'}).`, {
      hint: missing ? `Install ${command}, or pass --username and --password-stdin.` : 'Run `docker login` for this registry again, or pass --username and --password-stdin.',
    })
  }
  if (answer.code !== 0) {
    // "credentials not found in native keychain": nothing stored for this host
    options.logger?.debug(`[discover] ${command} has no credentials for ${registry} (exit ${answer.code})`)
    return undefined
  }
  let json: unknown
  try {
    json = JSON.parse(answer.stdout)
  } catch {
    throw new BridgeError('CREDENTIALS_MISSING', `The Docker credential helper ${command} did not answer JSON.`, {
      hint: 'Run `docker login` for this registry again, or pass --username and --password-stdin.',
    })
  }
  const record = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {}
  const username = record['Username']
  const secret = record['Secret']
  if (typeof username !== 'string' || typeof secret !== 'string' || username === '' || secret === '') return undefined
  if (username === '<token>') {
    options.logger?.warn(`[discover] ${command} keeps an identity token for ${registry}, which ACR does not use; ignoring it`)
    return undefined
  }
  return { username, password: secret, source: 'credential helper' }
}

/** Docker's config folder: $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigPath(env: NodeJS.ProcessEnv, homeDir: string): string {
  const dir = env['DOCKER_CONFIG']
  return join(dir !== undefined && dir !== '' ? dir : join(homeDir, '.docker'), 'config.json')
}

export interface CredentialOptions {
  /** The registry host the credentials are for. */
  readonly registry: string
  /** Given on the command line (`--username`, `--password-stdin`); both or neither. */
  readonly explicit?: { readonly username: string; readonly password: string }
  readonly env: NodeJS.ProcessEnv
  readonly homeDir: string
  readonly readFile?: (path: string) => Promise<string>
  readonly runHelper?: HelperRunner
  /** Last resort (a TTY prompt); undefined: none. */
  readonly prompt?: () => Promise<{ readonly username: string; readonly password: string } | undefined>
  readonly logger?: Logger
}

/**
 * The first credentials found: explicit, environment, Docker config (helper or auths), prompt. undefined when there
 * are none (discovery then tries anonymously). BridgeError USAGE when only one of the two variables is set.
 */
export async function findRegistryCredentials(options: CredentialOptions): Promise<RegistryCredentials | undefined> {
  const logger = options.logger ?? nullLogger
  if (options.explicit !== undefined) return { ...options.explicit, source: 'command line' }
  const username = options.env[registryCredentialVariables.username]
  const password = options.env[registryCredentialVariables.password]
  const hasUser = username !== undefined && username !== ''
  const hasPassword = password !== undefined && password !== ''
  if (hasUser !== hasPassword) {
    throw new BridgeError('USAGE', `${hasUser ? registryCredentialVariables.username : registryCredentialVariables.password} is set but ${hasUser ? registryCredentialVariables.password : registryCredentialVariables.username} is not.`, {
      hint: 'Set both registry credential variables, or neither.',
    })
  }
  if (hasUser && hasPassword) return { username: username as string, password: password as string, source: 'environment' }

  const path = dockerConfigPath(options.env, options.homeDir)
  const read = options.readFile ?? ((p: string) => fsReadFile(p, 'utf8'))
  let text: string | undefined
  try {
    text = await read(path)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') logger.warn(`[discover] cannot read the Docker config ${path} (${errnoCode(error) ?? 'error'})`)
  }
  if (text !== undefined) {
    const found = lookupDockerConfig(text, options.registry)
    switch (found.kind) {
      case 'auth':
        return { username: found.username, password: found.password, source: 'docker config' }
      case 'helper': {
        const fromHelper = await credentialsFromHelper(found.helper, options.registry, {
          env: options.env,
          ...(options.runHelper === undefined ? {} : { run: options.runHelper }),
          logger,
        })
        if (fromHelper !== undefined) return fromHelper
        break
      }
      case 'identity-token':
        logger.warn(`[discover] the Docker config keeps an identity token for ${options.registry}, which ACR does not use; ignoring it`)
        break
      case 'invalid':
        logger.warn(`[discover] the Docker config ${path} ${found.reason}; ignoring it`)
        break
      case 'none':
        break
    }
  }
  const prompted = await options.prompt?.()
  if (prompted !== undefined) return { ...prompted, source: 'prompt' }
  return undefined
}
