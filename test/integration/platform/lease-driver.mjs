// A small driver of the lease API (the built core), run as root inside the test namespace, that the test kills with
// SIGKILL at a chosen point. Its elevator runs the real generated script, or only its first `stopAfter` steps, then
// prints {"stepsDone":k} and waits to be killed: "killed right after step k". With hang: true it prints
// {"applied":true} after a complete apply and waits (a running session killed later).
// Usage: node lease-driver.mjs <built core dir> '{"mode":"apply"|"revert","dataDir":…,"plan":…,"stopAfter":k|null,"hang":bool}'
import { execFile } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [coreDir, json] = process.argv.slice(2)
const options = JSON.parse(json ?? '{}')
const { applySystemChanges, revertSystemChanges } = await import(pathToFileURL(join(coreDir, 'lease', 'system-changes.js')).href)

const waitForKill = () => new Promise(() => setInterval(() => {}, 1 << 30))
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`)

const elevator = {
  async run(command) {
    const path = /^\/bin\/sh '([^']+)'$/.exec(command)?.[1]
    if (path === undefined) throw new Error(`lease driver: unexpected command ${command}`)
    let target = path
    if (options.stopAfter !== null && options.stopAfter !== undefined) {
      const [header, ...sections] = (await fs.readFile(path, 'utf8')).split('\n\n')
      target = `${path}.partial`
      await fs.writeFile(target, [header, ...sections.slice(0, options.stopAfter)].join('\n\n').replace(/\n*$/, '\n'), { mode: 0o600 })
    }
    const result = await new Promise((resolve) => {
      execFile('/bin/sh', [target], (error, stdout, stderr) => resolve({ error, stdout, stderr }))
    })
    if (result.error) throw Object.assign(new Error(`Command failed: ${result.stderr.trim()}`), { stdout: result.stdout, stderr: result.stderr })
    if (target !== path) {
      say({ stepsDone: options.stopAfter })
      await waitForKill()
    }
    return { stdout: result.stdout, stderr: result.stderr }
  },
}

const deps = { dataDir: options.dataDir, platform: 'linux', elevator }
if (options.mode === 'apply') {
  await applySystemChanges(options.plan, deps)
  say({ applied: true })
  if (options.hang) await waitForKill()
} else {
  await revertSystemChanges(deps)
  say({ reverted: true })
}
