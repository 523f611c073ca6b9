// Starts a program inside a test namespace and waits (bounded) for the one JSON line it prints when ready.

import type { Namespace } from './netns.js'

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
