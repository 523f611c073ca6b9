import { describe, expect, it, vi } from 'vitest'
import {
  classifyEndpoint,
  detectContainerEngines,
  engineWarnings,
  isLoopbackAddress,
  parseContextInspect,
  parseDockerInfo,
  type CommandRunner,
} from '../../../electron/core/probes/container-engine.js'

// `docker context inspect` and `docker info --format '{{json .}}'` as docker 28.2.2 prints them with no daemon running
const contextDefault = `[
    {
        "Name": "default",
        "Metadata": {},
        "Endpoints": { "docker": { "Host": "unix:///var/run/docker.sock", "SkipTLSVerify": false } },
        "TLSMaterial": {},
        "Storage": { "MetadataPath": "\\u003cIN MEMORY\\u003e", "TLSPath": "\\u003cIN MEMORY\\u003e" }
    }
]`
const infoNoDaemon =
  '{"ID":"","Containers":0,"OperatingSystem":"","ServerVersion":"","Name":"","Labels":null,"SecurityOptions":null,"ClientInfo":{"Version":"28.2.2","Context":"default"}}'
const contextDesktop = JSON.stringify([{ Name: 'desktop-linux', Endpoints: { docker: { Host: 'unix:///Users/ann/.docker/run/docker.sock' } } }])
const infoDesktop = JSON.stringify({ ServerVersion: '27.3.1', OperatingSystem: 'Docker Desktop', Name: 'docker-desktop', SecurityOptions: ['name=seccomp,profile=unconfined'] })
const infoRootless = JSON.stringify({ ServerVersion: '27.3.1', OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', Name: 'box', SecurityOptions: ['name=seccomp,profile=builtin', 'name=rootless', 'name=cgroupns'] })
const infoNative = JSON.stringify({ ServerVersion: '27.3.1', OperatingSystem: 'Ubuntu 24.04.1 LTS', Name: 'box', SecurityOptions: ['name=apparmor'] })

describe('classifyEndpoint', () => {
  it.each([
    ['unix:///Users/ann/.colima/default/docker.sock', 'colima'],
    ['unix:///Users/ann/.lima/docker/sock/docker.sock', 'lima'],
    ['unix:///Users/ann/.rd/docker.sock', 'rancher-desktop'],
    ['unix:///Users/ann/.orbstack/run/docker.sock', 'orbstack'],
    ['unix:///Users/ann/.docker/run/docker.sock', 'docker-desktop'],
    ['npipe:////./pipe/docker_engine', 'docker-desktop'],
    ['npipe:////./pipe/podman-machine-default', 'podman-machine'],
    ['unix:///var/folders/x/T/podman/podman-machine-default-api.sock', 'podman-machine'],
    ['unix:///run/user/1000/docker.sock', 'rootless-docker'],
    ['unix:///var/run/docker.sock', 'native'],
    ['unix:///run/podman/podman.sock', 'native'],
    ['unix:///run/user/1000/podman/podman.sock', 'native'],
  ])('%s → %s', (endpoint, kind) => expect(classifyEndpoint(endpoint)).toBe(kind))

  it('says nothing about endpoints it cannot place', () => {
    expect(classifyEndpoint('tcp://10.0.0.5:2376')).toBeUndefined()
    expect(classifyEndpoint('')).toBeUndefined()
  })
})

describe('parseContextInspect / parseDockerInfo', () => {
  it('reads the current context', () => {
    expect(parseContextInspect(contextDefault)).toEqual({ name: 'default', host: 'unix:///var/run/docker.sock' })
    expect(parseContextInspect(contextDesktop)).toEqual({ name: 'desktop-linux', host: 'unix:///Users/ann/.docker/run/docker.sock' })
    expect(parseContextInspect('not json')).toBeUndefined()
  })

  it('no daemon (the client answers alone): nothing', () => {
    expect(parseDockerInfo(infoNoDaemon)).toBeUndefined()
    expect(parseDockerInfo('')).toBeUndefined()
  })

  it.each([
    [infoDesktop, 'docker-desktop'],
    [infoRootless, 'rootless-docker'],
    [infoNative, 'native'],
    [JSON.stringify({ ServerVersion: '26.1', OperatingSystem: 'Ubuntu 24.04 LTS', Name: 'colima' }), 'colima'],
    [JSON.stringify({ ServerVersion: '26.1', OperatingSystem: 'Ubuntu', Name: 'lima-default' }), 'lima'],
    [JSON.stringify({ ServerVersion: '26.1', OperatingSystem: 'OrbStack', Name: 'orbstack' }), 'orbstack'],
    [JSON.stringify({ ServerVersion: '26.1', OperatingSystem: 'Rancher Desktop WSL Distribution', Name: 'x' }), 'rancher-desktop'],
  ])('daemon info → %#', (text, kind) => expect(parseDockerInfo(text)?.kind).toBe(kind))
})

describe('detectContainerEngines', () => {
  const runner = (answers: Record<string, string | undefined>): CommandRunner =>
    vi.fn<CommandRunner>(async (_command, args) => answers[args[0] as string])

  it('no docker at all: nothing (and docker was asked with argument arrays)', async () => {
    const run = vi.fn<CommandRunner>(async () => undefined)
    expect(await detectContainerEngines({ platform: 'linux', env: {}, homeDir: '/home/u', run, exists: async () => false })).toEqual([])
    expect(run).toHaveBeenCalledWith('docker', ['context', 'inspect'], expect.objectContaining({ timeoutMs: 3000 }))
    expect(run).toHaveBeenCalledWith('docker', ['info', '--format', '{{json .}}'], expect.anything())
  })

  it('this machine (docker client, no daemon): native only, so no warning', async () => {
    const found = await detectContainerEngines({ platform: 'linux', env: {}, homeDir: '/root', run: runner({ context: contextDefault, info: infoNoDaemon }), exists: async () => false })
    expect(found).toEqual([{ kind: 'native', evidence: 'docker context default: unix:///var/run/docker.sock' }])
    expect(engineWarnings(found, '127.0.0.1')).toEqual([])
  })

  it('Docker Desktop by context and daemon, reported once', async () => {
    const found = await detectContainerEngines({ platform: 'darwin', env: {}, homeDir: '/Users/ann', run: runner({ context: contextDesktop, info: infoDesktop }), exists: async () => false })
    expect(found.map((f) => f.kind)).toEqual(['docker-desktop'])
  })

  it('the environment first: DOCKER_HOST, CONTAINER_HOST, COLIMA_*', async () => {
    const env = { DOCKER_HOST: 'unix:///Users/ann/.colima/work/docker.sock', CONTAINER_HOST: 'unix:///Users/ann/.local/share/containers/podman/machine/qemu/podman.sock', COLIMA_PROFILE: 'work' }
    const found = await detectContainerEngines({ platform: 'darwin', env, homeDir: '/Users/ann', run: runner({}), exists: async () => false })
    expect(found.map((f) => f.kind)).toEqual(['colima', 'podman-machine'])
    expect(found[0]?.evidence).toContain('DOCKER_HOST=')
  })

  it('well-known sockets: rootless Docker on Linux, VM engines on macOS', async () => {
    const linux = await detectContainerEngines({ platform: 'linux', env: { XDG_RUNTIME_DIR: '/run/user/1000' }, homeDir: '/home/u', run: runner({}), exists: async (p) => p === '/run/user/1000/docker.sock' })
    expect(linux.map((f) => f.kind)).toEqual(['rootless-docker'])
    const mac = await detectContainerEngines({ platform: 'darwin', env: {}, homeDir: '/Users/ann', run: runner({}), exists: async (p) => p.endsWith('.orbstack/run/docker.sock') })
    expect(mac.map((f) => f.kind)).toEqual(['orbstack'])
  })
})

describe('engineWarnings', () => {
  const desktop = { kind: 'docker-desktop' as const, evidence: 'docker context desktop-linux' }
  it('warns for a VM engine when the listen address is loopback, naming the engine and a fix', () => {
    const [warning, ...rest] = engineWarnings([desktop, { kind: 'native', evidence: 'x' }], '127.0.0.1')
    expect(rest).toEqual([])
    expect(warning?.message).toContain('Docker Desktop')
    expect(warning?.message).toContain('127.0.0.1')
    expect(warning?.hint).toContain('listen.address')
  })

  it('is quiet for a non-loopback listen address', () => {
    expect(engineWarnings([desktop], '10.200.10.1')).toEqual([])
  })

  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.10.0.3', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a)).toBe(true)
    for (const a of ['10.200.10.1', '192.168.65.254', '::', '128.0.0.1']) expect(isLoopbackAddress(a)).toBe(false)
  })
})
