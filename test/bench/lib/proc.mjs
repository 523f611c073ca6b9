// Child processes for benchmarks: spawn in an own process group, wait for a ready line, talk line-JSON, sample
// memory from /proc, and stop everything that was started on every path (stopAll in a finally block).

import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

/** Every child started here and not yet stopped. */
const live = new Set()

/**
 * Starts `command args` in its own process group (detached) with stdin/stdout/stderr piped.
 * `ready`: a RegExp to wait for on stdout or stderr, or 'json' to wait for the first stdout line that parses as
 * JSON (its value becomes child.ready). Rejects, after stopping the child, when it exits first or the wait
 * exceeds timeoutMs; the error carries the child's output.
 */
export async function startChild({ name, command, args = [], env, cwd, ready, timeoutMs = 20_000 }) {
  const proc = spawn(command, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env, cwd })
  const child = new Child(name ?? command, proc)
  live.add(child)
  if (ready === undefined) return child
  try {
    await child.waitFor(ready, timeoutMs)
  } catch (error) {
    await child.stop()
    throw error
  }
  return child
}

class Child {
  constructor(name, proc) {
    this.name = name
    this.proc = proc
    this.pid = proc.pid
    this.output = ''
    this.ready = undefined
    this.exitCode = undefined
    this.pending = new Map()
    this.nextId = 1
    this.lineWaiters = []
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitCode = code ?? signal
        live.delete(this)
        for (const [, p] of this.pending) p.reject(new Error(`${this.name} exited (${this.exitCode}) before answering:\n${this.tail()}`))
        this.pending.clear()
        for (const w of this.lineWaiters) w.fail()
        resolve(this.exitCode)
      })
    })
    proc.on('error', (error) => {
      this.output += `\n[spawn error] ${error.message}\n`
    })
    proc.stdin.on('error', () => {})
    const onLine = (line) => {
      this.output = (this.output + line + '\n').slice(-20_000)
      if (line.startsWith('{')) {
        let message
        try {
          message = JSON.parse(line)
        } catch {
          message = undefined
        }
        if (message !== undefined && typeof message.id === 'number' && this.pending.has(message.id)) {
          const p = this.pending.get(message.id)
          this.pending.delete(message.id)
          if (message.error !== undefined) p.reject(new Error(`${this.name}: ${message.error}`))
          else p.resolve(message.result)
          return
        }
        if (message !== undefined) for (const w of [...this.lineWaiters]) w.json(message)
      }
      for (const w of [...this.lineWaiters]) w.text(line)
    }
    createInterface({ input: proc.stdout }).on('line', onLine)
    createInterface({ input: proc.stderr }).on('line', (line) => {
      this.output = (this.output + line + '\n').slice(-20_000)
      for (const w of [...this.lineWaiters]) w.text(line)
    })
  }

  tail() {
    return this.output.split('\n').slice(-30).join('\n')
  }

  get running() {
    return this.exitCode === undefined
  }

  /** Resolves when a line matches `pattern` (RegExp) or, for 'json', when a JSON line arrives (sets this.ready). */
  waitFor(pattern, timeoutMs) {
    return new Promise((resolve, reject) => {
      const waiter = {
        text: (line) => {
          if (pattern instanceof RegExp && pattern.test(line)) done(() => resolve(line))
        },
        json: (message) => {
          if (pattern === 'json') {
            this.ready = message
            done(() => resolve(message))
          }
        },
        fail: () => done(() => reject(new Error(`${this.name} exited (${this.exitCode}) before it was ready:\n${this.tail()}`))),
      }
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.tail()}`))), timeoutMs)
      const done = (settle) => {
        clearTimeout(timer)
        this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter)
        settle()
      }
      this.lineWaiters.push(waiter)
      if (!this.running) waiter.fail()
    })
  }

  /** Sends {id, ...message} as one JSON line; resolves with the child's {id, result}, rejects on {id, error}. */
  request(message, timeoutMs = 600_000) {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      if (!this.running) {
        reject(new Error(`${this.name} is not running:\n${this.tail()}`))
        return
      }
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.name} did not answer ${message.op ?? 'a request'} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.proc.stdin.write(`${JSON.stringify({ id, ...message })}\n`)
    })
  }

  /** SIGTERM to the process group, SIGKILL after graceMs; resolves when the child has exited. Idempotent. */
  async stop(graceMs = 3000) {
    if (this.running) {
      signalGroup(this.pid, 'SIGTERM')
      const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs)
      await this.exited
      clearTimeout(timer)
    }
    // Whatever the leader left behind in its group (socat's forks, sshd's sessions) goes too.
    signalGroup(this.pid, 'SIGKILL')
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

/** Stops every child started through startChild that is still running. */
export async function stopAll() {
  await Promise.all([...live].map((child) => child.stop()))
}

// A crashing bench must not leave its children behind: kill the groups synchronously on the way out.
process.once('exit', () => {
  for (const child of live) signalGroup(child.pid, 'SIGKILL')
})

/** What a bench stopped by a signal still has to undo (a namespace, a temp folder), newest last. */
const interruptCleanups = new Set()
let interrupted = false

/**
 * Registers `cleanup` (may be async) to run when the bench is stopped with SIGINT or SIGTERM: the cleanups run
 * newest first, then every child is stopped and the process exits 130 / 143. Without this a stopped bench skips
 * its finally blocks and leaves its namespace, with sshd and the origin still running in it, behind.
 * Returns the function that takes the cleanup back (call it where the finally block has done the work).
 */
export function onInterrupt(cleanup) {
  interruptCleanups.add(cleanup)
  return () => interruptCleanups.delete(cleanup)
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    if (interrupted) return
    interrupted = true
    void (async () => {
      for (const cleanup of [...interruptCleanups].reverse()) {
        try {
          await cleanup()
        } catch {
          // the next cleanup still runs
        }
      }
      await stopAll()
      process.exit(code)
    })()
  })
}

/**
 * Memory of process `pid` from /proc/<pid>/status: rss (VmRSS) and hwm (VmHWM, the peak RSS) in KiB.
 * Throws when the process is gone.
 */
export function readMemory(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
    return match === null ? Number.NaN : Number(match[1])
  }
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') }
}

/**
 * CPU seconds used by process `pid` and its reaped children (utime + stime + cutime + cstime of /proc/<pid>/stat):
 * socat's forked per-connection children count towards the socat that forked them once they have exited.
 */
export function readCpuSeconds(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
  return ticks / clockTicks
}

/** USER_HZ: 100 on every Linux Node runs on. */
const clockTicks = 100

/** Runs a command to completion; resolves with {code, stdout, stderr}; never rejects for a non-zero exit. */
export function run(command, args, { input, timeoutMs = 60_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d) => (stdout += d))
    proc.stderr.on('data', (d) => (stderr += d))
    proc.on('error', reject)
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
    proc.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    proc.stdin.on('error', () => {})
    proc.stdin.end(input)
  })
}

/** Like run(), but rejects with the output when the exit code is not 0. */
export async function runChecked(command, args, options) {
  const result = await run(command, args, options)
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr || result.stdout}`)
  return result
}
