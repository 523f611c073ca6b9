// The built CLI as a child process: build it once per test file (`npm run build:electron`), spawn it, read its
// output as it comes, signal it, and make sure no child outlives the test file.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const cliPath = fileURLToPath(new URL('../../../dist/electron/cli/index.js', import.meta.url))

const buildLock = join(tmpdir(), 'acr-bridge-cli-build.lock')
const buildStamp = join(tmpdir(), 'acr-bridge-cli-build.stamp')

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs
  } catch {
    return 0
  }
}

/**
 * Runs `npm run build:electron` (tsc); fails with its output when it produces no CLI. Test files that
 * run in parallel workers share one build: one builds under a lock folder, the others wait for it and reuse it.
 */
export async function buildCli(): Promise<string> {
  const requestedAt = Date.now()
  const until = requestedAt + 240_000
  for (;;) {
    try {
      mkdirSync(buildLock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (Date.now() - mtimeMs(buildLock) > 300_000) rmSync(buildLock, { recursive: true, force: true }) // a dead builder's
      if (Date.now() > until) throw new Error(`waited 240 s for another test's build of the CLI (${buildLock})`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  try {
    if (mtimeMs(buildStamp) >= requestedAt && existsSync(cliPath)) return cliPath // built meanwhile by another file
    await buildNow()
    writeFileSync(buildStamp, repoRoot)
    return cliPath
  } finally {
    rmSync(buildLock, { recursive: true, force: true })
  }
}

async function buildNow(): Promise<void> {
  const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn('npm', ['run', 'build:electron'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (b: Buffer) => (output += b.toString()))
    child.stderr.on('data', (b: Buffer) => (output += b.toString()))
    child.on('error', (error) => resolve({ code: -1, output: `${output}\n${error.message}` }))
    child.on('close', (code) => resolve({ code, output }))
  })
  if (!existsSync(cliPath)) throw new Error(`npm run build:electron produced no ${cliPath} (exit ${result.code}):\n${result.output.slice(-4000)}`)
  // tsc emits even with type errors. Type errors are the build step's failure (`npm test` builds first and stops
  // there); these tests judge what the CLI does, so they go on with the emitted code and say so.
  if (result.code !== 0) console.warn(`npm run build:electron reported errors (exit ${result.code}); testing the emitted code:\n${result.output.slice(-2000)}`)
}

/**
 * The CLI in a private mount namespace (`unshare --mount`) whose /etc/hosts and /etc/resolv.conf are bind mounts of
 * the given files: `up --hosts-file /etc/hosts` then writes the test's file (in place: a mount point cannot be renamed
 * over), and the probes' name lookups (the OS resolver) read it too, with a resolver that only knows 127.0.0.1, so no
 * lookup leaves the machine. The shell runs a fixed script; the paths reach it as arguments.
 */
export function privateResolverCommand(hostsFile: string, resolvFile: string): string[] {
  return [
    'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c',
    'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"',
    'sh', hostsFile, resolvFile, process.execPath, cliPath,
  ]
}

/** resolv.conf for privateResolverCommand: a name server on loopback where nothing listens. */
export const loopbackResolvConf = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'

export interface CliProcess {
  readonly child: ChildProcess
  readonly pid: number
  stdout(): string
  stderr(): string
  /** Resolves with the match once stdout (or stderr, with `stream`) matches; rejects on exit or after timeoutMs. */
  waitFor(pattern: RegExp, options?: { readonly timeoutMs?: number; readonly stream?: 'stdout' | 'stderr' }): Promise<RegExpMatchArray>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  signal(signal: NodeJS.Signals): void
}

const live = new Set<ChildProcess>()

/** Kills every CLI child still running (afterEach / afterAll). */
export async function killAllCli(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGKILL')
        }),
    ),
  )
  live.clear()
}

export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv, options: { readonly command?: readonly string[] } = {}): CliProcess {
  const argv = [...(options.command ?? [process.execPath, cliPath]), ...args]
  const child = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] })
  live.add(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  child.stdin!.on('error', () => {})
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      err += `\n[spawn] ${error.message}`
      resolve({ code: null, signal: null })
    })
    child.once('exit', (code, signal) => {
      live.delete(child)
      resolve({ code, signal })
    })
  })
  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited,
    signal: (signal) => {
      child.kill(signal)
    },
    async waitFor(pattern, { timeoutMs = 20_000, stream = 'stdout' } = {}) {
      const until = Date.now() + timeoutMs
      let gone = false
      void exited.then(() => (gone = true))
      for (;;) {
        const match = (stream === 'stdout' ? out : err).match(pattern)
        if (match !== null) return match
        if (gone || Date.now() > until) {
          throw new Error(`${gone ? 'the CLI exited' : `no match within ${timeoutMs} ms`} waiting for ${pattern} on ${stream}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    },
  }
}

/** Runs the CLI to completion (bounded) and returns what it printed. */
export async function runCliOnce(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
  options: { readonly command?: readonly string[] } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const cli = spawnCli(args, env, options)
  cli.child.stdin!.end()
  const timer = setTimeout(() => cli.signal('SIGKILL'), timeoutMs)
  const { code, signal } = await cli.exited
  clearTimeout(timer)
  return { code, signal, stdout: cli.stdout(), stderr: cli.stderr() }
}
