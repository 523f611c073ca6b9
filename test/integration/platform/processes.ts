// Programs inside a test namespace: started until the one JSON line they print when ready, the test origin, and the
// output of a child kept for assertions and failure messages.

import type { ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Namespace } from './netns.js'

const here = dirname(fileURLToPath(import.meta.url))

export async function startInNamespace<T>(namespace: Namespace, file: string, args: readonly string[], timeoutMs = 30_000): Promise<T> {
  const child = namespace.spawn(file, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent' } })
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${file} did not get ready within ${timeoutMs} ms:\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'))
      if (line === undefined || !stdout.includes('\n')) return
      clearTimeout(timer)
      try {
        resolve(JSON.parse(line) as T)
      } catch (error) {
        reject(error)
      }
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited (${code ?? signal}) before it was ready:\n${stdout}\n${stderr}`))
    })
  })
}

/**
 * origin.mjs in the namespace: TLS with `certificate` on its tlsPort and plain HTTP on its httpPort, both answering
 * with the name and path they were asked for ("tls origin: <host> <path>").
 */
export function startOrigin(namespace: Namespace, certificate: { readonly cert: string; readonly key: string }): Promise<{ tlsPort: number; httpPort: number }> {
  return startInNamespace(namespace, process.execPath, [join(here, 'origin.mjs'), JSON.stringify({ cert: certificate.cert, key: certificate.key })])
}

export interface CollectedOutput {
  stdout(): string
  stderr(): string
  /** True once the child has exited. */
  gone(): boolean
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Keeps what `child` prints and when it exits. */
export function collectOutput(child: ChildProcess): CollectedOutput {
  let out = ''
  let err = ''
  let gone = false
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      gone = true
      resolve({ code, signal })
    }),
  )
  return { stdout: () => out, stderr: () => err, gone: () => gone, exited }
}
