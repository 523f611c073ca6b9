// `acr-bridge up` as users run it: the BUILT CLI as a child process, on loopback, with a temp data folder
// (ACR_BRIDGE_DATA_DIR) and free high ports. `up` runs in a private mount namespace whose /etc/hosts is the test's
// temp file (and whose resolver knows only 127.0.0.1), so it writes "the OS hosts file" for real, its health probes
// resolve through it, and nothing leaves loopback. The "ECS" is a pair of plain TCP servers that record what the
// tunnel forwards to them (sni mode: the ClientHello as the client sent it; port 80: the request head). The probes
// dial them too: the test marks its own connections (an ALPN value, a request path) to tell them apart.

import { existsSync, promises as fs } from 'node:fs'
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freePort } from '../../helpers/sshd.js'
import { randomBytes } from 'node:crypto'
import {
  buildCli,
  cliPath,
  killAllCli,
  loopbackResolvConf,
  privateResolverCommand,
  runCliOnce,
  spawnCli,
  type CliProcess,
} from './cli-process.js'
import { builtCliTimeoutMs } from '../../helpers/cli.js'

const registry = 'registry-vpc.cn-beijing.aliyuncs.com'
const auth = 'dockerauth-vpc.cn-beijing.aliyuncs.com'
const bucket = 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com'
const originalHosts = '127.0.0.1\tlocalhost\r\n# a line of the user, CRLF on purpose\r\n::1 localhost ip6-localhost\r\n'

interface RecordingServer {
  readonly port: number
  /** Everything received, per connection. */
  readonly received: Buffer[]
  close(): Promise<void>
}

/** A TCP server on 127.0.0.1 that records what it gets; `reply` (if any) is sent once a request head arrived. */
async function recordingServer(reply?: string): Promise<RecordingServer> {
  const received: Buffer[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    const index = received.push(Buffer.alloc(0)) - 1
    socket.on('data', (chunk: Buffer) => {
      received[index] = Buffer.concat([received[index]!, chunk])
      if (reply !== undefined && received[index]!.includes('\r\n\r\n')) socket.end(reply)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

let root: string
let hostsPath: string
let resolvPath: string
let dataDir: string
let configPath: string
let env: NodeJS.ProcessEnv
let ports: { tls: number; http: number }
let ecs: RecordingServer
let ecsHttp: RecordingServer

async function writeConfig(overrides: Record<string, unknown> = {}): Promise<void> {
  const config = {
    regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc'] }],
    extraHosts: [{ name: bucket, ports: [80] }],
    tunnel: { mode: 'sni', host: '127.0.0.1', port: ecs.port, httpPort: ecsHttp.port },
    listen: { address: '127.0.0.1', port: ports.tls, httpPort: ports.http },
    ...overrides,
  }
  await fs.writeFile(configPath, JSON.stringify(config, null, 2))
}

/** `up` on "the OS hosts file" of its private mount namespace, which is the test's temp file. */
function upArgs(...extra: string[]): string[] {
  return ['up', '--config', configPath, '--hosts-file', '/etc/hosts', ...extra]
}

function isolated(): { command: string[] } {
  return { command: privateResolverCommand(hostsPath, resolvPath) }
}

async function hostsBytes(): Promise<Buffer> {
  return fs.readFile(hostsPath)
}

/** Starts `up` and waits for its first state line (the probes decide which: this fake ECS speaks no TLS). */
async function startUp(...extra: string[]): Promise<CliProcess> {
  const up = spawnCli(upArgs(...extra), env, isolated())
  await up.waitFor(/^state: (starting|healthy|degraded|down)/m)
  return up
}

/** One TLS handshake attempt with this SNI (and ALPN `marker`); resolves when the connection ends either way. */
function tlsAttempt(servername: string, marker: string, untilBytes?: () => boolean): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: ports.tls, servername, ALPNProtocols: [marker], rejectUnauthorized: false })
    let settled = false
    const done = (what: string): void => {
      if (settled) return
      settled = true
      clearInterval(poll)
      socket.destroy()
      resolve(what)
    }
    // The fake ECS never answers the handshake: stop once it has the ClientHello.
    const poll = setInterval(() => {
      if (untilBytes?.() === true) done('forwarded')
    }, 20)
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message))
    socket.on('close', () => done('closed'))
    setTimeout(() => done('timeout'), 10_000)
  })
}

function httpGet(host: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port: ports.http })
    let data = ''
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()))
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: test\r\n\r\n`)
  })
}

beforeAll(async () => {
  await buildCli()
}, builtCliTimeoutMs)

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-cli-up-'))
  hostsPath = join(root, 'hosts')
  resolvPath = join(root, 'resolv.conf')
  await fs.writeFile(resolvPath, loopbackResolvConf)
  dataDir = join(root, 'data')
  configPath = join(root, 'config.json')
  await fs.writeFile(hostsPath, originalHosts)
  ecs = await recordingServer()
  ecsHttp = await recordingServer('HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nfrom the ecs')
  ports = { tls: await freePort(), http: await freePort() }
  await writeConfig()
  env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: root,
    ACR_BRIDGE_DATA_DIR: dataDir,
    ACR_BRIDGE_LOG: 'info',
    LANG: 'C.UTF-8',
  }
})

afterEach(async () => {
  await killAllCli()
  await ecs.close()
  await ecsHttp.close()
  await fs.rm(root, { recursive: true, force: true })
})

afterAll(async () => {
  await killAllCli()
})

describe('acr-bridge up (built CLI, loopback)', () => {
  it('maps the names, forwards by SNI and Host, refuses others, and SIGINT gives the file back byte for byte', async () => {
    expect(existsSync(cliPath())).toBe(true)
    const up = await startUp()
    const out = up.stdout()
    expect(out).toContain('acr-bridge up: 3 names in /etc/hosts, mode sni')
    expect(out).toMatch(new RegExp(`^  ${registry.replace(/\./g, '\\.')} +→ 127\\.0\\.0\\.1:${ports.tls} via sni 127\\.0\\.0\\.1:${ecs.port}$`, 'm'))
    expect(out).toMatch(new RegExp(`^  ${bucket.replace(/\./g, '\\.')} +→ 127\\.0\\.0\\.1:${ports.http} via sni 127\\.0\\.0\\.1:${ecsHttp.port}$`, 'm'))

    const during = (await hostsBytes()).toString('latin1')
    expect(during.startsWith(originalHosts)).toBe(true)
    expect(during).toContain(`127.0.0.1 ${registry}\r\n127.0.0.1 ${auth}\r\n127.0.0.1 ${bucket}\r\n`) // the file's own CRLF
    const lock = JSON.parse(await fs.readFile(join(dataDir, 'session.lock'), 'utf8')) as { pid: number; hostsPath: string }
    expect(lock).toMatchObject({ pid: up.pid, hostsPath: '/etc/hosts' })

    // SNI in the set: our ClientHello reaches the ECS unchanged (name and ALPN marker in clear, from its first byte)
    const marker = `acr-test-${randomBytes(6).toString('hex')}`
    const ours = (): Buffer | undefined => ecs.received.find((b) => b.includes(marker))
    expect(await tlsAttempt(registry, marker, () => ours() !== undefined)).toBe('forwarded')
    expect(ours()![0]).toBe(0x16) // a TLS handshake record, replayed from its first byte
    expect(ours()!.includes(registry)).toBe(true)
    // Host in the set, on the HTTP listener: the request head reaches the ECS's HTTP port and the answer comes back
    const path = `/docker/registry/v2/blobs/${marker}`
    const answer = await httpGet(bucket, path)
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(answer.endsWith('from the ecs')).toBe(true)
    const head = ecsHttp.received.find((b) => b.includes(marker))
    expect(head?.toString('latin1')).toMatch(new RegExp(`^GET ${path} HTTP/1.1\r\nHost: ${bucket}\r\n`))
    // a name not in the set: refused in TLS's own words, logged, never forwarded
    expect(await tlsAttempt('evil.example.com', `${marker}-evil`)).toMatch(/ERR_SSL_TLSV1_UNRECOGNIZED_NAME|ECONNRESET|closed/)
    await up.waitFor(/\[tunnel\] refused 127\.0\.0\.1:\d+: name-not-allowed \(evil\.example\.com\)/, { stream: 'stderr' })
    expect(ecs.received.some((b) => b.includes('evil.example.com'))).toBe(false)

    // a second `up` on the same data folder fails clearly and changes nothing
    const second = await runCliOnce(upArgs(), env, 30_000, isolated())
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(`acr-bridge: acr-bridge is already running (pid ${up.pid} since `)
    expect(second.stderr).toContain(`kill ${up.pid}`)
    expect((await hostsBytes()).toString('latin1')).toBe(during)

    up.signal('SIGINT')
    const exit = await up.exited
    expect(exit, up.stderr()).toEqual({ code: 0, signal: null })
    expect(up.stdout()).toContain('Stopping (SIGINT): draining open connections for up to 3 s, then removing the hosts block.')
    const stopped = /^Stopped: (\d+) connections, .*, (\d+) refused \(([^)]*)\); removed the acr-bridge block from \/etc\/hosts\.$/m.exec(up.stdout())
    expect(stopped, up.stdout()).not.toBeNull()
    expect(Number(stopped![1])).toBeGreaterThanOrEqual(2) // ours; the probes' own connections come on top
    expect(stopped![3]!.split(', ')).toContain('name-not-allowed 1')
    expect((await hostsBytes()).equals(Buffer.from(originalHosts, 'latin1'))).toBe(true)
    expect(existsSync(join(dataDir, 'session.lock'))).toBe(false)
    expect(existsSync(join(dataDir, 'hosts.backup'))).toBe(false)
  })

  it('after kill -9 the block stays; the next up removes it first, then SIGTERM stops cleanly', async () => {
    const crashed = await startUp()
    crashed.signal('SIGKILL')
    await crashed.exited
    const left = (await hostsBytes()).toString('latin1')
    expect(left).toContain(`127.0.0.1 ${registry}`)
    expect(existsSync(join(dataDir, 'session.lock'))).toBe(true) // the dead process's lock

    const next = await startUp()
    expect(next.stdout()).toContain('Removed what an earlier session left behind (it did not stop cleanly): the acr-bridge block in /etc/hosts (3 names).')
    expect(next.stdout().indexOf('Removed what')).toBeLessThan(next.stdout().indexOf('acr-bridge up:'))
    expect(JSON.parse(await fs.readFile(join(dataDir, 'session.lock'), 'utf8'))).toMatchObject({ pid: next.pid })
    next.signal('SIGTERM')
    expect(await next.exited).toEqual({ code: 0, signal: null })
    expect(next.stdout()).toContain('Stopping (SIGTERM)')
    expect((await hostsBytes()).equals(Buffer.from(originalHosts, 'latin1'))).toBe(true)
  })

  it('after kill -9, `revert` removes the stale block too, and the next up starts clean over the dead lock', async () => {
    const crashed = await startUp()
    crashed.signal('SIGKILL')
    await crashed.exited
    expect((await hostsBytes()).toString('latin1')).toContain(`127.0.0.1 ${registry}`)

    // The lease names the hosts file as `up` saw it (/etc/hosts of its mount namespace): revert runs there too.
    const revert = await runCliOnce(['revert', '--hosts-file', '/etc/hosts', '--yes'], env, 30_000, isolated())
    expect(revert.code, revert.stderr).toBe(0)
    expect(revert.stdout).toContain('Undid 1 change(s) left by an earlier session:\n  - the acr-bridge block in /etc/hosts (3 names)\n')
    expect(existsSync(join(dataDir, 'lease.json'))).toBe(false)
    expect((await hostsBytes()).equals(Buffer.from(originalHosts, 'latin1'))).toBe(true)

    const next = await startUp()
    expect(next.stdout()).not.toContain('Removed what an earlier session left behind')
    expect(JSON.parse(await fs.readFile(join(dataDir, 'session.lock'), 'utf8'))).toMatchObject({ pid: next.pid })
    next.signal('SIGINT')
    expect(await next.exited).toEqual({ code: 0, signal: null })
    expect((await hostsBytes()).equals(Buffer.from(originalHosts, 'latin1'))).toBe(true)
  })

  it('a port in use fails with PORT_IN_USE, writes nothing and leaves no lock', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(ports.http, '127.0.0.1', () => resolve()))
    try {
      const run = await runCliOnce(upArgs(), env, 30_000, isolated())
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`acr-bridge: Another program already listens on 127.0.0.1:${ports.http}.`)
      expect(run.stderr).toContain('listen.httpPort')
      expect((await hostsBytes()).toString('latin1')).toBe(originalHosts)
      expect(existsSync(join(dataDir, 'session.lock'))).toBe(false)
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
  })

  it('as an ordinary user with no way to elevate: high ports, one elevation asked for, nothing changed; a root-owned data folder is named', async () => {
    // A network namespace of its own (its sysctl starts at the kernel default; nothing can leave it), and the CLI
    // run as nobody. The shell runs a fixed script; the CLI's arguments reach it as arguments.
    const command = [
      'unshare', '--net', '--', 'sh', '-c',
      'ip link set lo up && exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"',
      'sh', process.execPath, cliPath(),
    ]
    await fs.chmod(root, 0o755)
    await writeConfig({ listen: { address: '127.0.0.1', port: 443, httpPort: 80 } })
    await fs.mkdir(dataDir, { mode: 0o700 })
    await fs.chown(dataDir, 65534, 65534)
    // Ports 443/80 are privileged here, so up binds high ports and asks for ONE elevation for the nft redirect and
    // the block (docs/platforms.md); this machine shows no prompt to nobody (no polkit agent, usually no pkexec), so
    // it fails before anything changed. test/integration/platform/up-unprivileged.test.ts runs it with a prompt.
    const low = await runCliOnce(['up', '--config', configPath, '--hosts-file', hostsPath], env, 30_000, { command })
    expect(low.code, low.stderr).toBe(1)
    expect(low.stderr).toMatch(/\[tunnel\] listening on 127\.0\.0\.1:\d{4,5} \(TLS\), 127\.0\.0\.1:\d{4,5} \(HTTP\)/)
    expect(low.stderr).toContain('[hosts] asking for administrator rights to run port-redirect-add, install-file')
    expect(low.stderr).toMatch(
      /acr-bridge: (No program to show the administrator prompt is installed \(pkexec or kdesudo\)\.|No polkit agent is running to show the administrator prompt\.|The administrator prompt was cancelled, so nothing was changed\.)/,
    )
    expect(low.stderr).toContain('or run the command with sudo')
    expect((await hostsBytes()).toString('latin1')).toBe(originalHosts)
    // No lease, lock or staging folder left; the hosts engine keeps its backup of the untouched file (as after a
    // cancelled prompt of `apply`).
    expect((await fs.readdir(dataDir)).filter((name) => name !== 'hosts.backup')).toEqual([])

    await fs.chown(dataDir, 0, 0)
    const locked = await runCliOnce(['up', '--config', configPath, '--hosts-file', hostsPath], env, 30_000, { command })
    expect(locked.code, locked.stderr).toBe(1)
    expect(locked.stderr).toContain(`acr-bridge: The acr-bridge data folder ${dataDir} cannot be used (EACCES), so no hosts change would be safe.`)
    expect(locked.stderr).toContain('sudo chown -R')
    expect((await hostsBytes()).toString('latin1')).toBe(originalHosts)
  })

  it('bad usage and invalid configs exit 2 and touch nothing', async () => {
    const noConfig = await runCliOnce(['up', '--hosts-file', hostsPath], env)
    expect(noConfig.code).toBe(2)
    expect(noConfig.stderr).toContain('--config is required')
    const missing = await runCliOnce(['up', '--config', join(root, 'nope.json'), '--hosts-file', hostsPath], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('does not exist')
    await writeConfig({ listen: { address: '127.0.0.1', port: 70_000, httpPort: ports.http } })
    const invalid = await runCliOnce(upArgs(), env, 30_000, isolated())
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain('listen.port')
    expect((await hostsBytes()).toString('latin1')).toBe(originalHosts)
    expect(existsSync(join(dataDir, 'session.lock'))).toBe(false)
  })

  it('on a terminal it asks once before writing: no changes nothing; yes runs until Ctrl-C', async () => {
    // `script` gives the CLI a real pseudo-terminal; the paths reach the fixed command lines as variables only.
    const inner = 'mount --bind "$HOSTS" /etc/hosts && mount --bind "$RESOLV" /etc/resolv.conf && exec "$NODE" "$CLI" up --config "$CFG" --hosts-file /etc/hosts'
    const command = ['script', '-qec', `exec unshare --mount --propagation private -- sh -c '${inner}'`, '/dev/null']
    const ttyEnv = { ...env, NODE: process.execPath, CLI: cliPath(), CFG: configPath, HOSTS: hostsPath, RESOLV: resolvPath }
    const declined = spawnCli([], ttyEnv, { command })
    await declined.waitFor(/Write 3 names to \/etc\/hosts\? \[y\/N\] /)
    declined.child.stdin!.write('n\n')
    expect((await declined.exited).code).toBe(1)
    expect(declined.stdout()).toContain('Nothing changed.')
    expect((await hostsBytes()).toString('latin1')).toBe(originalHosts)

    const accepted = spawnCli([], ttyEnv, { command })
    await accepted.waitFor(/\[y\/N\] /)
    accepted.child.stdin!.write('y\n')
    await accepted.waitFor(/^state: (starting|healthy|degraded|down)/m)
    expect((await hostsBytes()).toString('latin1')).toContain(registry)
    accepted.child.stdin!.write('\u0003') // Ctrl-C on the terminal: SIGINT to the foreground process
    expect((await accepted.exited).code).toBe(0)
    expect(accepted.stdout()).toContain('Stopping (SIGINT)')
    expect((await hostsBytes()).toString('latin1')).toBe(originalHosts)
  })
})
