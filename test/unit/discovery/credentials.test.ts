import { describe, expect, it, vi } from 'vitest'
import {
  credentialsFromHelper,
  dockerConfigPath,
  findRegistryCredentials,
  lookupDockerConfig,
  registryKeyHost,
  type HelperRunner,
} from '../../../electron/core/discovery/credentials.js'
import { isBridgeError } from '../../../electron/core/errors.js'
import type { Logger } from '../../../electron/core/logger.js'

const registry = 'registry-vpc.cn-beijing.aliyuncs.com'
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64')
const enoent = (): Error => Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })

function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, error: (m) => lines.push(m), warn: (m) => lines.push(m), info: (m) => lines.push(m), debug: (m) => lines.push(m) }
}

describe('registryKeyHost', () => {
  it.each([
    ['registry-vpc.cn-beijing.aliyuncs.com', registry],
    ['https://registry-vpc.cn-beijing.aliyuncs.com', registry],
    ['https://Registry-VPC.cn-beijing.aliyuncs.com/v1/', registry],
    ['http://localhost:5000/v2/', 'localhost:5000'],
  ])('%s', (key, host) => expect(registryKeyHost(key)).toBe(host))
})

describe('lookupDockerConfig', () => {
  it('a plain auths entry: base64 user:password, split at the first colon', () => {
    const text = JSON.stringify({ auths: { [registry]: { auth: b64('acr-user@example.com:pa:ss:word') } } })
    expect(lookupDockerConfig(text, registry)).toEqual({ kind: 'auth', username: 'acr-user@example.com', password: 'pa:ss:word', key: registry })
  })

  it('matches keys written with a scheme and a path, case-insensitively', () => {
    const text = JSON.stringify({ auths: { 'https://REGISTRY-VPC.cn-beijing.aliyuncs.com/v1/': { auth: b64('u:p') }, 'other.example': { auth: b64('x:y') } } })
    expect(lookupDockerConfig(text, registry)).toMatchObject({ kind: 'auth', username: 'u', password: 'p' })
  })

  it('an exact key wins over a key that only matches by host', () => {
    const text = JSON.stringify({ auths: { [`https://${registry}`]: { auth: b64('loose:1') }, [registry]: { auth: b64('exact:2') } } })
    expect(lookupDockerConfig(text, registry)).toMatchObject({ username: 'exact', password: '2' })
  })

  it('credHelpers for the host win over credsStore, which wins over auths (docker then asks only the helper)', () => {
    const all = { auths: { [registry]: { auth: b64('u:p') } }, credsStore: 'desktop', credHelpers: { [registry]: 'acr-helper' } }
    expect(lookupDockerConfig(JSON.stringify(all), registry)).toEqual({ kind: 'helper', helper: 'acr-helper', from: 'credHelpers' })
    const { credHelpers: _, ...storeOnly } = all
    expect(lookupDockerConfig(JSON.stringify(storeOnly), registry)).toEqual({ kind: 'helper', helper: 'desktop', from: 'credsStore' })
    expect(lookupDockerConfig(JSON.stringify({ ...storeOnly, credsStore: '' }), registry)).toMatchObject({ kind: 'auth' })
    // a credHelpers entry for another host does not apply
    expect(lookupDockerConfig(JSON.stringify({ auths: all.auths, credHelpers: { 'other.example': 'x' } }), registry)).toMatchObject({ kind: 'auth' })
  })

  it('refuses helper names that are not plain names (they become a command name)', () => {
    for (const helper of ['../../bin/sh', 'a b', 'x;rm -rf /', 'x/y', '$(id)']) {
      expect(lookupDockerConfig(JSON.stringify({ credsStore: helper }), registry)).toMatchObject({ kind: 'invalid' })
      expect(lookupDockerConfig(JSON.stringify({ credHelpers: { [registry]: helper } }), registry)).toMatchObject({ kind: 'invalid' })
    }
  })

  it.each([
    ['not JSON', '{', 'invalid'],
    ['an array', '[]', 'invalid'],
    ['no auths', '{}', 'none'],
    ['auths for other hosts', JSON.stringify({ auths: { 'index.docker.io': { auth: b64('a:b') } } }), 'none'],
    ['an identity token', JSON.stringify({ auths: { [registry]: { identitytoken: 'tok' } } }), 'identity-token'],
    ['auth without a colon', JSON.stringify({ auths: { [registry]: { auth: b64('nocolon') } } }), 'invalid'],
    ['an empty entry', JSON.stringify({ auths: { [registry]: {} } }), 'none'],
  ])('%s → %s', (_label, text, kind) => {
    expect(lookupDockerConfig(text, registry).kind).toBe(kind)
  })

  it('never puts the secret into a reason', () => {
    const found = lookupDockerConfig(JSON.stringify({ auths: { [registry]: { auth: b64('nocolon-secret') } } }), registry)
    expect(JSON.stringify(found)).not.toContain('nocolon-secret')
  })
})

describe('credentialsFromHelper', () => {
  const env = { PATH: '/usr/bin' }

  it('runs docker-credential-<helper> get with the host on stdin (an argument array)', async () => {
    const run = vi.fn<HelperRunner>(async () => ({ code: 0, stdout: JSON.stringify({ ServerURL: registry, Username: 'u', Secret: 's3cret' }) }))
    expect(await credentialsFromHelper('desktop', registry, { env, run })).toEqual({ username: 'u', password: 's3cret', source: 'credential helper' })
    expect(run).toHaveBeenCalledWith('docker-credential-desktop', ['get'], registry, expect.objectContaining({ env }))
  })

  it('nothing stored (non-zero exit), an identity token, or empty fields: no credentials', async () => {
    const logger = collectingLogger()
    const answers = [
      { code: 1, stdout: 'credentials not found in native keychain' },
      { code: 0, stdout: JSON.stringify({ Username: '<token>', Secret: 'refresh-secret' }) },
      { code: 0, stdout: JSON.stringify({ Username: '', Secret: '' }) },
    ]
    for (const answer of answers) {
      expect(await credentialsFromHelper('pass', registry, { env, run: async () => answer, logger })).toBeUndefined()
    }
    expect(logger.lines.join('\n')).not.toContain('refresh-secret')
  })

  it('a missing helper, a failing one, or nonsense: CREDENTIALS_MISSING without quoting its output', async () => {
    const missing = credentialsFromHelper('nope', registry, { env, run: async () => Promise.reject(enoent()) })
    await expect(missing).rejects.toSatisfy((e) => isBridgeError(e, 'CREDENTIALS_MISSING') && /not installed/.test((e as Error).message))
    let error: unknown
    try {
      await credentialsFromHelper('odd', registry, { env, run: async () => ({ code: 0, stdout: 'Secret=hunter2 not json' }) })
    } catch (e) {
      error = e
    }
    expect(isBridgeError(error, 'CREDENTIALS_MISSING')).toBe(true)
    expect(`${(error as Error).message} ${(error as { hint?: string }).hint}`).not.toContain('hunter2')
  })

  it('refuses a helper name that is not a plain name before running anything', async () => {
    const run = vi.fn<HelperRunner>()
    await expect(credentialsFromHelper('../evil', registry, { env, run })).rejects.toSatisfy((e) => isBridgeError(e, 'CREDENTIALS_MISSING'))
    expect(run).not.toHaveBeenCalled()
  })
})

describe('findRegistryCredentials', () => {
  const home = '/home/u'
  const config = JSON.stringify({ auths: { [registry]: { auth: b64('from-file:file-pass') } } })
  const readFile = vi.fn(async (path: string) => {
    if (path === '/home/u/.docker/config.json' || path === '/custom/config.json') return config
    throw enoent()
  })

  it('in order: command line, environment, Docker config, prompt', async () => {
    const prompt = vi.fn(async () => ({ username: 'typed', password: 'typed-pass' }))
    const base = { registry, homeDir: home, readFile, prompt }
    expect(await findRegistryCredentials({ ...base, env: { ACR_BRIDGE_REGISTRY_USERNAME: 'e', ACR_BRIDGE_REGISTRY_PASSWORD: 'ep' }, explicit: { username: 'c', password: 'cp' } })).toEqual({ username: 'c', password: 'cp', source: 'command line' })
    expect(await findRegistryCredentials({ ...base, env: { ACR_BRIDGE_REGISTRY_USERNAME: 'e', ACR_BRIDGE_REGISTRY_PASSWORD: 'ep' } })).toEqual({ username: 'e', password: 'ep', source: 'environment' })
    expect(await findRegistryCredentials({ ...base, env: {} })).toEqual({ username: 'from-file', password: 'file-pass', source: 'docker config' })
    expect(prompt).not.toHaveBeenCalled()
    expect(await findRegistryCredentials({ ...base, registry: 'other.example', env: {} })).toEqual({ username: 'typed', password: 'typed-pass', source: 'prompt' })
    expect(await findRegistryCredentials({ registry: 'other.example', homeDir: home, readFile, env: {} })).toBeUndefined()
  })

  it('DOCKER_CONFIG moves the Docker config folder', async () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/custom' }, home)).toBe('/custom/config.json')
    expect(dockerConfigPath({}, home)).toBe('/home/u/.docker/config.json')
    expect(await findRegistryCredentials({ registry, homeDir: '/nowhere', readFile, env: { DOCKER_CONFIG: '/custom' } })).toMatchObject({ source: 'docker config' })
  })

  it('one of the two variables alone is a usage error naming the variables, not the value', async () => {
    let error: unknown
    try {
      await findRegistryCredentials({ registry, homeDir: home, readFile, env: { ACR_BRIDGE_REGISTRY_PASSWORD: 'lonely-secret' } })
    } catch (e) {
      error = e
    }
    expect(isBridgeError(error, 'USAGE')).toBe(true)
    expect((error as Error).message).toContain('ACR_BRIDGE_REGISTRY_USERNAME')
    expect((error as Error).message).not.toContain('lonely-secret')
  })

  it('a helper with nothing stored falls through to the prompt; an unreadable or broken config is a warning', async () => {
    const logger = collectingLogger()
    const helperConfig = JSON.stringify({ credsStore: 'secretservice' })
    const runHelper: HelperRunner = async () => ({ code: 1, stdout: 'credentials not found' })
    const prompt = async () => ({ username: 't', password: 'tp' })
    expect(await findRegistryCredentials({ registry, homeDir: home, env: {}, readFile: async () => helperConfig, runHelper, prompt, logger })).toMatchObject({ source: 'prompt' })
    expect(await findRegistryCredentials({ registry, homeDir: home, env: {}, readFile: async () => '{not json', logger })).toBeUndefined()
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES' })
    expect(await findRegistryCredentials({ registry, homeDir: home, env: {}, readFile: async () => Promise.reject(eacces), logger })).toBeUndefined()
    expect(logger.lines.some((l) => l.includes('is not valid JSON'))).toBe(true)
    expect(logger.lines.some((l) => l.includes('EACCES'))).toBe(true)
  })
})
