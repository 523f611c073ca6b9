// A real OpenSSH sshd for tests, plus what tests around it need: key pairs (ssh-keygen), an ssh-agent, and a
// throw-away password account. Everything lives in a temp folder the helper creates and removes.
//
//   const sshd = await startSshd({ authorizedKeys: [client.publicKeyLine] })
//   … dial sshd.host:sshd.port; compare with sshd.hostKeys[0].fingerprint (from `ssh-keygen -lf`) …
//   await sshd.kill()      // SIGKILL sshd and its per-connection children: the ECS crashed
//   await sshd.restart()   // same address, port, host keys and config
//   await sshd.dispose()   // in afterAll / finally: stops it and removes its folder (idempotent)
//
// sshd runs as `/usr/sbin/sshd -D -e -f <config>` in its own process group; per-connection sshd processes call
// setsid(), so kill()/freeze()/dispose() signal the listener and every descendant found in /proc by pid. It runs with its own host keys, PidFile, AuthorizedKeysFile (one file for every account) in the temp folder,
// StrictModes no, UsePAM no, AllowTcpForwarding yes, LogLevel VERBOSE. It must run as root (privilege separation;
// /run/sshd is created if missing). `commandPrefix` runs it elsewhere, e.g. ['ip', 'netns', 'exec', ns] for a
// network namespace the test created (give `port` then: the free-port probe only sees this namespace).
// A missing binary or an sshd that does not come up throws an Error naming the cause (the test fails, never skips).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type SshKeyAlgorithm = 'ed25519' | 'ecdsa' | 'rsa'

export interface KeyPair {
  readonly privateKeyPath: string
  readonly publicKeyPath: string
  /** The private key file's contents. */
  readonly privateKey: Buffer
  /** `ssh-ed25519 AAAA… comment`, as in authorized_keys. */
  readonly publicKeyLine: string
  /** The key type as on the wire and in known_hosts (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`). */
  readonly keyType: string
  readonly keyBase64: string
  /** As `ssh-keygen -lf` prints it: `SHA256:…`. */
  readonly fingerprint: string
}

export interface StartSshdOptions {
  /** Default 127.0.0.1. */
  readonly listenAddress?: string
  /** Default: a port that is free on listenAddress right now. */
  readonly port?: number
  /** Host keys to generate, default ['ed25519']. */
  readonly hostKeyAlgorithms?: readonly SshKeyAlgorithm[]
  /** authorized_keys lines, for every account (more with addAuthorizedKey). */
  readonly authorizedKeys?: readonly string[]
  /** Default false. */
  readonly passwordAuthentication?: boolean
  /** AllowUsers; default: anyone. */
  readonly allowUsers?: readonly string[]
  /** sshd_config lines written BEFORE the helper's defaults, so they win (sshd keeps a keyword's first value). */
  readonly extraConfig?: readonly string[]
  /** Lines written at the end (Match blocks). */
  readonly trailingConfig?: readonly string[]
  /** Run sshd through this, e.g. ['ip', 'netns', 'exec', ns]. */
  readonly commandPrefix?: readonly string[]
  /** How long start/restart wait for "Server listening" (default 15 s). */
  readonly startTimeoutMs?: number
}

export interface Sshd {
  readonly host: string
  readonly port: number
  /** The temp folder with the config, host keys, authorized_keys and pid file. */
  readonly dir: string
  readonly configPath: string
  readonly authorizedKeysPath: string
  /** One per generated host key, in the order of hostKeyAlgorithms. */
  readonly hostKeys: readonly KeyPair[]
  /** True between a successful start/restart and kill/stop/dispose. */
  readonly running: boolean
  /** Everything sshd wrote to stderr (-e) since the helper started it, across restarts. */
  log(): string
  /** Resolves when the log matches `pattern`; rejects after timeoutMs (default 10 s) with the log attached. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>
  addAuthorizedKey(publicKeyLine: string): Promise<void>
  /** SIGKILL to sshd and all its session processes, and wait for the listener to go: the ECS crashed. */
  kill(): Promise<void>
  /** SIGSTOP / SIGCONT the process group: a server that stops answering without closing anything. */
  freeze(): void
  thaw(): void
  /** Starts sshd again (after kill) with the same address, port, keys and config. */
  restart(): Promise<void>
  /** Kills sshd and its session processes like kill(), then removes the folder. Safe to call twice. */
  dispose(): Promise<void>
}

const sshdPath = '/usr/sbin/sshd'

/** Generates a key pair with ssh-keygen in `dir` (`name`, `name.pub`). */
export async function generateKeyPair(
  dir: string,
  name: string,
  options: { readonly algorithm?: SshKeyAlgorithm; readonly passphrase?: string; readonly comment?: string } = {},
): Promise<KeyPair> {
  const algorithm = options.algorithm ?? 'ed25519'
  const privateKeyPath = join(dir, name)
  const args = ['-q', '-t', algorithm, '-N', options.passphrase ?? '', '-C', options.comment ?? `acr-bridge-test-${name}`, '-f', privateKeyPath]
  if (algorithm === 'rsa') args.unshift('-b', '2048')
  await runChecked('ssh-keygen', args)
  return describeKeyPair(privateKeyPath)
}

async function describeKeyPair(privateKeyPath: string): Promise<KeyPair> {
  const publicKeyPath = `${privateKeyPath}.pub`
  const publicKeyLine = (await readFile(publicKeyPath, 'utf8')).trim()
  const [keyType, keyBase64] = publicKeyLine.split(/\s+/)
  if (keyType === undefined || keyBase64 === undefined) throw new Error(`unexpected public key file ${publicKeyPath}`)
  return { privateKeyPath, publicKeyPath, privateKey: await readFile(privateKeyPath), publicKeyLine, keyType, keyBase64, fingerprint: await fingerprintOf(publicKeyPath) }
}

/** The fingerprint `ssh-keygen -lf` prints for a public key file (or a known_hosts line written to a file). */
export async function fingerprintOf(publicKeyPath: string): Promise<string> {
  const { stdout } = await runChecked('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyPath])
  const match = /^\d+ (SHA256:[A-Za-z0-9+/]+) /.exec(stdout)
  if (match?.[1] === undefined) throw new Error(`ssh-keygen -lf printed something unexpected: ${stdout}`)
  return match[1]
}

/** A port that nothing listens on at `host` right now (the kernel's choice for port 0). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export async function startSshd(options: StartSshdOptions = {}): Promise<Sshd> {
  if (!existsSync(sshdPath)) throw new Error(`${sshdPath} is missing: install openssh-server (apt-get install -y openssh-server)`)
  if (process.getuid?.() !== 0) throw new Error('sshd for tests must be started as root (privilege separation)')
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const host = options.listenAddress ?? '127.0.0.1'
  const dir = await mkdtemp(join(tmpdir(), 'acrb-sshd-'))
  const instance = new SshdProcess(host, dir, options)
  try {
    await instance.prepare()
    await instance.restart()
  } catch (error) {
    await instance.dispose()
    throw error
  }
  return instance
}

const liveGroups = new Set<number>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Last resort when a test run dies without its afterAll: no sshd, agent or account outlives the worker.
  process.once('exit', () => {
    for (const pid of liveGroups) signalTree(pid, 'SIGKILL')
    for (const name of liveUsers) spawnSync('userdel', [name], { stdio: 'ignore' })
  })
}

class SshdProcess implements Sshd {
  readonly configPath: string
  readonly authorizedKeysPath: string
  hostKeys: KeyPair[] = []
  port = 0
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private output = ''
  private disposed = false

  constructor(
    readonly host: string,
    readonly dir: string,
    private readonly options: StartSshdOptions,
  ) {
    this.configPath = join(dir, 'sshd_config')
    this.authorizedKeysPath = join(dir, 'authorized_keys')
  }

  get running(): boolean {
    return this.child !== undefined
  }

  async prepare(): Promise<void> {
    this.port = this.options.port ?? (await freePort(this.host))
    for (const algorithm of this.options.hostKeyAlgorithms ?? ['ed25519']) {
      this.hostKeys.push(await generateKeyPair(this.dir, `ssh_host_${algorithm}_key`, { algorithm, comment: `acr-bridge-test-host-${algorithm}` }))
    }
    await writeFile(this.authorizedKeysPath, (this.options.authorizedKeys ?? []).map((line) => `${line}\n`).join(''), { mode: 0o600 })
    const lines = [
      ...(this.options.extraConfig ?? []),
      `Port ${this.port}`,
      `ListenAddress ${this.host}`,
      ...this.hostKeys.map((key) => `HostKey ${key.privateKeyPath}`),
      `PidFile ${join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${this.authorizedKeysPath}`,
      'StrictModes no',
      'UsePAM no',
      'AllowTcpForwarding yes',
      `PasswordAuthentication ${this.options.passwordAuthentication === true ? 'yes' : 'no'}`,
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'X11Forwarding no',
      'PrintMotd no',
      'PrintLastLog no',
      'UseDNS no',
      'LogLevel VERBOSE',
      ...(this.options.allowUsers === undefined ? [] : [`AllowUsers ${this.options.allowUsers.join(' ')}`]),
      ...(this.options.trailingConfig ?? []),
    ]
    await writeFile(this.configPath, lines.join('\n') + '\n', { mode: 0o600 })
    await runChecked(sshdPath, ['-t', '-f', this.configPath])
  }

  log(): string {
    return this.output
  }

  async waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs
    while (!pattern.test(this.output)) {
      if (Date.now() > until) throw new Error(`sshd log never matched ${pattern}; log:\n${this.output}`)
      await sleep(25)
    }
  }

  async addAuthorizedKey(publicKeyLine: string): Promise<void> {
    await appendFile(this.authorizedKeysPath, `${publicKeyLine}\n`)
  }

  async restart(): Promise<void> {
    if (this.disposed) throw new Error('sshd helper: restart after dispose')
    if (this.child !== undefined) throw new Error('sshd helper: restart while running (kill it first)')
    installExitHook()
    const prefix = this.options.commandPrefix ?? []
    const argv = [...prefix, sshdPath, '-D', '-e', '-f', this.configPath]
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
    this.child = child
    if (child.pid !== undefined) liveGroups.add(child.pid)
    const startedAt = this.output.length
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (text: string) => {
      if (this.output.length < 4_000_000) this.output += text
    })
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.once('error', (error) => {
        this.output += `\n[helper] spawn failed: ${error.message}\n`
        resolve()
      })
    })
    const exited = this.exited.then(() => 'exited' as const)
    const listening = (async () => {
      const until = Date.now() + (this.options.startTimeoutMs ?? 15_000)
      const pattern = new RegExp(`Server listening on ${escapeRegExp(this.host)} port ${this.port}`)
      while (!pattern.test(this.output.slice(startedAt))) {
        if (Date.now() > until) return 'timeout' as const
        await sleep(20)
      }
      return 'listening' as const
    })()
    const outcome = await Promise.race([exited, listening])
    if (outcome !== 'listening') {
      await this.kill()
      throw new Error(`sshd did not start on ${this.host}:${this.port} (${outcome}); log:\n${this.output.slice(startedAt)}`)
    }
  }

  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL')
  }

  freeze(): void {
    this.signal('SIGSTOP')
  }

  thaw(): void {
    this.signal('SIGCONT')
  }

  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    await this.signalAndWait('SIGKILL')
    await rm(this.dir, { recursive: true, force: true })
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid
    if (pid !== undefined) signalTree(pid, signal)
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (child === undefined) return
    this.signal(signal)
    await this.exited
    if (child.pid !== undefined) liveGroups.delete(child.pid)
    this.child = undefined
  }
}

/**
 * Sends `signal` to `root`'s process group, to `root` and to every descendant of it (by parent pid in /proc),
 * children before parents are looked up so a dying parent does not orphan them first.
 */
function signalTree(root: number, signal: NodeJS.Signals): void {
  const pids = [...descendantsOf(root), root]
  for (const pid of [-root, ...pids]) {
    try {
      process.kill(pid, signal)
    } catch {
      // gone already
    }
  }
}

function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>()
  let entries: string[] = []
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = []
  const queue = [root]
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child)
      queue.push(child)
    }
  }
  return found
}

export interface SshAgent {
  /** SSH_AUTH_SOCK for this agent. */
  readonly socketPath: string
  /** `ssh-add` a private key file (it must not have a passphrase). */
  add(privateKeyPath: string): Promise<void>
  /** Stops the agent and removes its folder. Safe to call twice. */
  dispose(): Promise<void>
}

/** Starts `ssh-agent -D -a <socket>` in a temp folder. */
export async function startSshAgent(): Promise<SshAgent> {
  const dir = await mkdtemp(join(tmpdir(), 'acrb-agent-'))
  const socketPath = join(dir, 'agent.sock')
  const child = spawn('ssh-agent', ['-D', '-a', socketPath], { stdio: ['ignore', 'ignore', 'pipe'] })
  installExitHook()
  let output = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (text: string) => (output += text))
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', (error) => {
      output += error.message
      resolve()
    })
  })
  let disposed = false
  const dispose = async (): Promise<void> => {
    if (disposed) return
    disposed = true
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    await rm(dir, { recursive: true, force: true })
  }
  const until = Date.now() + 10_000
  for (;;) {
    const ready = await stat(socketPath).then(
      (info) => info.isSocket(),
      () => false,
    )
    if (ready) break
    if (child.exitCode !== null || Date.now() > until) {
      await dispose()
      throw new Error(`ssh-agent did not start: ${output}`)
    }
    await sleep(20)
  }
  return {
    socketPath,
    add: async (privateKeyPath) => {
      await runChecked('ssh-add', ['-q', privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socketPath } })
    },
    dispose,
  }
}

export interface TestUser {
  readonly name: string
  readonly password: string
  /** userdel; safe to call twice. */
  dispose(): Promise<void>
}

const liveUsers = new Set<string>()

/**
 * Creates a throw-away local account with a random password for password-auth tests: a unique name (`acrb` + 8 hex),
 * no home folder, login shell /usr/sbin/nologin (so it can forward but not run commands). Remove it with dispose()
 * in afterAll; a worker that exits without doing so removes it on exit.
 */
export async function createPasswordUser(): Promise<TestUser> {
  if (process.getuid?.() !== 0) throw new Error('creating a test account needs root')
  const name = `acrb${randomBytes(4).toString('hex')}`
  const password = randomBytes(18).toString('base64url')
  installExitHook()
  await runChecked('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '-N', '--comment', 'acr-bridge test', name])
  liveUsers.add(name)
  let disposed = false
  const dispose = async (): Promise<void> => {
    if (disposed) return
    disposed = true
    await runChecked('userdel', [name])
    liveUsers.delete(name)
  }
  try {
    await runChecked('chpasswd', [], { input: `${name}:${password}\n` })
  } catch (error) {
    await dispose()
    throw error
  }
  return { name, password, dispose }
}

/** Runs a command (no shell) and resolves with its output; rejects with the output when it exits non-zero. */
export function runChecked(
  command: string,
  args: readonly string[],
  options: { readonly input?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text))
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text))
    child.on('error', (error) => reject(new Error(`${command} could not run (${error.message}); is it installed?`)))
    // A command that exits without reading its input closes the pipe first (EPIPE): its exit code says what happened.
    child.stdin.on('error', () => {})
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr })
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}): ${stderr}${stdout}`))
    })
    child.stdin.end(options.input ?? '')
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
