// The built CLI as a child process: spawn it, read its output as it comes, signal it, and make sure no child
// outlives the test file. The build itself is test/helpers/cli.ts's private, content-addressed one (never dist/,
// which another suite may be rewriting while this one runs).

import { spawn, type ChildProcess } from 'node:child_process'
import { builtCli, repoRoot } from '../../helpers/cli.js'

export { repoRoot }

let builtPath: string | undefined

/** Builds the CLI once per test process (or reuses the private build of the current sources); its entry path. */
export async function buildCli(): Promise<string> {
  builtPath = await builtCli()
  return builtPath
}

/** The built CLI's entry; buildCli() must have run (beforeAll). */
export function cliPath(): string {
  if (builtPath === undefined) throw new Error('test bug: call buildCli() in beforeAll before using the CLI')
  return builtPath
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
    'sh', hostsFile, resolvFile, process.execPath, cliPath(),
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
  const argv = [...(options.command ?? [process.execPath, cliPath()]), ...args]
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
