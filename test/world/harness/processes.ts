// Child processes of a VPC world: every command runs as `ip netns exec <ns> <cmd> <args...>` (an argument
// array, never a shell string), is tracked, and is killed at dispose. `ip netns exec` execs the command in
// place, so the child's pid is the command's own pid.
import { spawn as spawnChild, spawnSync, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'

export interface ExecOptions {
  /** Extra environment on top of the world's clean base environment (PATH, HOME, TMPDIR, LANG). */
  env?: Record<string, string>
  /** Also pass the test process's own environment (off by default: no proxy variables leak into a namespace). */
  inheritEnv?: boolean
  /** Written to the command's stdin, which is then closed. */
  input?: string | Buffer
  cwd?: string
  /** Kill the command (SIGKILL) after this long; default 120 s. The result then has `timedOut: true`. */
  timeoutMs?: number
}

export interface ExecResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
  /** `code === 0` and not timed out. */
  ok: boolean
}

export interface SpawnOptions {
  env?: Record<string, string>
  inheritEnv?: boolean
  cwd?: string
  /** 'pipe' lets the test write to `child.stdin`; default 'ignore'. */
  stdin?: 'pipe' | 'ignore'
  /** Name of the log file (stdout and stderr, interleaved) in the world's log folder. Default: the command's base name. */
  logName?: string
  /** Resolve `spawn` only once the output matches this (rejects with the output if the process exits first). */
  ready?: RegExp
  /** Bound for `ready`; default 30 s. */
  readyTimeoutMs?: number
}

export interface WorldProcess {
  readonly pid: number
  readonly child: ChildProcess
  /** Path of the log file that receives stdout and stderr. */
  readonly logFile: string
  /** stdout and stderr so far (the last 1 MB). */
  output(): string
  /** Wait (bounded) until the output matches; rejects with the output if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  isRunning(): boolean
  /** SIGTERM, then SIGKILL after `graceMs` (default 3 s); resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>
}

const OUTPUT_CAP = 1024 * 1024

export function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split('\n')
  return all.slice(-lines).join('\n')
}

export class ProcessTracker {
  private readonly live = new Set<ChildProcess>()
  private counter = 0

  constructor(
    private readonly baseEnv: () => Record<string, string>,
    private readonly logDir: string,
  ) {}

  private env(extra: Record<string, string> | undefined, inherit: boolean | undefined): NodeJS.ProcessEnv {
    const base = inherit ? { ...process.env } : {}
    return { ...base, ...this.baseEnv(), ...(extra ?? {}) }
  }

  exec(nsName: string, cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = spawnChild('ip', ['netns', 'exec', nsName, cmd, ...args], {
        env: this.env(opts.env, opts.inheritEnv),
        cwd: opts.cwd,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      })
      this.live.add(child)
      const out: Buffer[] = []
      const err: Buffer[] = []
      let outLen = 0
      let errLen = 0
      let timedOut = false
      child.stdout!.on('data', (b: Buffer) => {
        if (outLen < 16 * OUTPUT_CAP) out.push(b)
        outLen += b.length
      })
      child.stderr!.on('data', (b: Buffer) => {
        if (errLen < 16 * OUTPUT_CAP) err.push(b)
        errLen += b.length
      })
      if (opts.input !== undefined) {
        child.stdin!.on('error', () => {})
        child.stdin!.end(opts.input)
      }
      const timer = setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, opts.timeoutMs ?? 120_000)
      let settled = false
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.live.delete(child)
        const stderr = Buffer.concat(err).toString('utf8') + (spawnError ? `\n${spawnError.message}` : '')
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr,
          timedOut,
          ok: code === 0 && !timedOut,
        })
      }
      child.on('error', (e) => finish(null, null, e))
      child.on('close', (code, signal) => finish(code, signal))
    })
  }

  async spawn(nsName: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): Promise<WorldProcess> {
    const name = opts.logName ?? cmd.split('/').pop() ?? 'process'
    this.counter += 1
    const logFile = `${this.logDir}/${String(this.counter).padStart(2, '0')}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}.log`
    const log: WriteStream = createWriteStream(logFile)
    log.on('error', () => {})
    const child = spawnChild('ip', ['netns', 'exec', nsName, cmd, ...args], {
      env: this.env(opts.env, opts.inheritEnv),
      cwd: opts.cwd,
      stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    })
    this.live.add(child)
    let text = ''
    const listeners = new Set<() => void>()
    const onData = (b: Buffer) => {
      log.write(b)
      text += b.toString('utf8')
      if (text.length > OUTPUT_CAP) text = text.slice(-OUTPUT_CAP)
      for (const l of [...listeners]) l()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.stdin?.on('error', () => {})
    let running = true
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      let done = false
      const finish = (code: number | null, signal: NodeJS.Signals | null, e?: Error) => {
        if (done) return
        done = true
        running = false
        this.live.delete(child)
        if (e) text += `\n[spawn error] ${e.message}\n`
        log.end()
        for (const l of [...listeners]) l()
        resolve({ code, signal })
      }
      child.on('error', (e) => finish(null, null, e))
      child.on('close', (code, signal) => finish(code, signal))
    })

    const waitForOutput = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = text.match(pattern)
          if (m) {
            cleanup()
            resolve(m)
          } else if (!running) {
            cleanup()
            reject(new Error(`${name} exited before printing ${pattern}; its output:\n${tail(text)}`))
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms; its output:\n${tail(text)}`))
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      })

    const stop = async (graceMs = 3000): Promise<void> => {
      if (!running) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    }

    const proc: WorldProcess = {
      pid: child.pid ?? -1,
      child,
      logFile,
      output: () => text,
      waitForOutput,
      exited,
      isRunning: () => running,
      stop,
    }
    if (opts.ready) {
      try {
        await waitForOutput(opts.ready, opts.readyTimeoutMs ?? 30_000)
      } catch (e) {
        await stop(500)
        throw e
      }
    }
    return proc
  }

  /** Stop every live child: SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 3000): Promise<void> {
    const children = [...this.live]
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
            child.once('close', () => {
              clearTimeout(timer)
              resolve()
            })
            child.kill('SIGTERM')
          }),
      ),
    )
    this.live.clear()
  }

  /** For the process 'exit' hook: SIGKILL every live child, synchronously. */
  killAllSync(): void {
    for (const child of this.live) {
      try {
        child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
    this.live.clear()
  }
}

/** Run `ip` synchronously (setup and teardown steps); throws with stderr on failure unless `allowFail`. */
export function ipSync(args: readonly string[], allowFail = false): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 })
  const ok = r.status === 0
  if (!ok && !allowFail) {
    throw new Error(`\`ip ${args.join(' ')}\` failed (exit ${r.status ?? r.signal}): ${(r.stderr || String(r.error ?? '')).trim()}`)
  }
  return { ok, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}
