// The built CLI for tests: `builtCli()` compiles electron/ once (tsc, the same compiler and tsconfig as
// `npm run build:electron`) into a private, content-addressed folder, and `runBuiltCli` / `spawnBuiltCli` run it as
// a child process with an argument array, an environment and optional stdin.
//
// Why a private folder and not dist/: test files run in parallel and other suites (or a developer) rebuild dist/
// while they run; tsc rewrites files in place, so a CLI started at that moment could load a half-written module.
// The private build is keyed by a hash of every source file, built by one process at a time (a lock folder), and
// published with one rename, so every test process either reuses a complete build or makes one.
//
// Safety: apply, revert, up and doctor refuse to run without --hosts-file and ACR_BRIDGE_DATA_DIR, so a test can
// never reach the real hosts file or the user's data folder by forgetting a flag.

import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, promises as fs } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const sourceRoot = join(repoRoot, 'electron')
const cacheRoot = join(repoRoot, 'node_modules', '.cache', 'acr-bridge-test-cli')
const completeMarker = '.complete'

/** How long one process waits for another one's build (2 busy cores: tsc alone can take a minute). */
const buildWaitMs = 8 * 60_000

async function listSources(dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (path !== join(sourceRoot, 'preload')) await listSources(path, out)
    } else if (entry.name.endsWith('.ts') || entry.name === 'tsconfig.json') {
      out.push(path)
    }
  }
  return out
}

/** A hash of every file tsc compiles (path and content), plus the lock file (dependency versions). */
async function sourceHash(): Promise<string> {
  const hash = createHash('sha256')
  const files = (await listSources(sourceRoot)).sort()
  for (const file of [...files, join(repoRoot, 'package-lock.json')]) {
    if (!existsSync(file)) continue
    hash.update(relative(repoRoot, file)).update('\0').update(await fs.readFile(file)).update('\0')
  }
  return hash.digest('hex').slice(0, 16)
}

function runTsc(outDir: string): Promise<{ code: number | null; output: string }> {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', join(sourceRoot, 'tsconfig.json'), '--outDir', outDir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', (error) => resolve({ code: -1, output: `${output}\n${error.message}` }))
    child.on('close', (code) => resolve({ code, output }))
  })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the build lock (a folder holding the owner's pid); a lock whose owner died is taken over. */
async function tryLock(lock: string): Promise<boolean> {
  try {
    await fs.mkdir(lock)
    await fs.writeFile(join(lock, 'pid'), String(process.pid))
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const owner = Number(await fs.readFile(join(lock, 'pid'), 'utf8').catch(() => ''))
  const info = await fs.stat(lock).catch(() => undefined)
  const orphaned = Number.isInteger(owner) && owner > 0 ? !isAlive(owner) : info !== undefined && Date.now() - info.mtimeMs > 60_000
  if (orphaned) await fs.rm(lock, { recursive: true, force: true })
  return false
}

/** Removes builds of older sources (not touched for a day) so the cache stays small. */
async function pruneOldBuilds(keep: string): Promise<void> {
  const entries = await fs.readdir(cacheRoot).catch(() => [] as string[])
  for (const name of entries) {
    if (name === keep || name.endsWith('.lock')) continue
    const path = join(cacheRoot, name)
    const info = await fs.stat(path).catch(() => undefined)
    if (info !== undefined && Date.now() - info.mtimeMs > 24 * 3600_000) await fs.rm(path, { recursive: true, force: true })
  }
}

async function buildOnce(): Promise<string> {
  const hash = await sourceHash()
  const final = join(cacheRoot, hash)
  const cli = join(final, 'electron', 'cli', 'index.js')
  const lock = `${final}.lock`
  await fs.mkdir(cacheRoot, { recursive: true })
  const until = Date.now() + buildWaitMs
  for (;;) {
    if (existsSync(join(final, completeMarker))) return cli
    if (await tryLock(lock)) {
      try {
        if (existsSync(join(final, completeMarker))) return cli
        const temp = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
        try {
          const result = await runTsc(join(temp, 'electron'))
          if (result.code !== 0) {
            throw new Error(`building the CLI (tsc -p electron/tsconfig.json) failed with exit ${result.code}:\n${result.output.slice(-4000)}`)
          }
          if (!existsSync(join(temp, 'electron', 'cli', 'index.js'))) throw new Error('tsc -p electron/tsconfig.json produced no cli/index.js')
          // node_modules/.cache is outside the project's package scope for ESM: say that these files are modules.
          await fs.writeFile(join(temp, 'package.json'), '{ "type": "module", "private": true }\n')
          await fs.writeFile(join(temp, completeMarker), new Date().toISOString())
          await fs.rm(final, { recursive: true, force: true })
          await fs.rename(temp, final)
        } finally {
          await fs.rm(temp, { recursive: true, force: true })
        }
        await pruneOldBuilds(hash)
        return cli
      } finally {
        await fs.rm(lock, { recursive: true, force: true })
      }
    }
    if (Date.now() > until) throw new Error(`timed out after ${buildWaitMs / 1000} s waiting for another process to build the CLI (lock ${lock})`)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

let building: Promise<string> | undefined

/**
 * The path of the built CLI entry (`electron/cli/index.js` of a private build of the current sources). Builds at
 * most once per test process; fails with tsc's output when the build fails. Call it in beforeAll with a generous
 * timeout (see builtCliTimeoutMs).
 */
export function builtCli(): Promise<string> {
  building ??= buildOnce().catch((error: unknown) => {
    building = undefined
    throw error
  })
  return building
}

/** A beforeAll timeout that covers a cold build on a busy machine. */
export const builtCliTimeoutMs = buildWaitMs + 60_000

export interface CliOptions {
  /** Added to a minimal environment (PATH, HOME); ACR_BRIDGE_DATA_DIR is required by commands that write. */
  readonly env?: NodeJS.ProcessEnv
  /** Written to stdin, then stdin is closed; without it stdin is closed at once. */
  readonly stdin?: string | Uint8Array
  /** The run is killed (SIGKILL) after this long and the result says so; default 60 s. */
  readonly timeoutMs?: number
  readonly cwd?: string
}

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** True when the run hit timeoutMs and was killed by the helper. */
  readonly timedOut: boolean
}

const writingCommands = new Set(['apply', 'revert', 'up', 'doctor', 'discover'])

/** Throws (a test bug) when a command that may write a hosts file or the data folder lacks its test targets. */
function assertSandboxed(args: readonly string[], env: NodeJS.ProcessEnv): void {
  const command = args[0]
  if (command === undefined || !writingCommands.has(command)) return
  const hasHostsFile = args.some((arg) => arg === '--hosts-file' || arg.startsWith('--hosts-file='))
  if (!hasHostsFile && command !== 'discover') {
    throw new Error(`test bug: \`acr-bridge ${command}\` without --hosts-file would use the real hosts file`)
  }
  const dataDir = env['ACR_BRIDGE_DATA_DIR']
  if (dataDir === undefined || dataDir === '') {
    throw new Error(`test bug: \`acr-bridge ${command}\` without ACR_BRIDGE_DATA_DIR would use the real data folder`)
  }
}

function childEnv(extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {}
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key]
    if (value !== undefined) base[key] = value
  }
  return { ...base, ...extra }
}

/**
 * Starts the built CLI (node <cli> ...args) with stdio piped. The caller owns the child: read its streams, kill it,
 * await its exit. Call builtCli() first (this takes the path it resolved).
 */
export function spawnBuiltCli(cliPath: string, args: readonly string[], options: Omit<CliOptions, 'timeoutMs' | 'stdin'> = {}): ChildProcess {
  const env = childEnv(options.env)
  assertSandboxed(args, env)
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: options.cwd ?? repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin?.on('error', () => {})
  return child
}

/** Runs the built CLI to completion (bounded by timeoutMs) and returns its exit code and output. */
export async function runBuiltCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const cliPath = await builtCli()
  const child = spawnBuiltCli(cliPath, args, options)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 60_000)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      stderr += `\n[spawn] ${error.message}`
      resolve({ code: null, signal: null })
    })
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  if (options.stdin !== undefined) child.stdin?.end(options.stdin)
  else child.stdin?.end()
  try {
    const { code, signal } = await exited
    return { code, signal, stdout, stderr, timedOut }
  } finally {
    clearTimeout(timer)
  }
}
