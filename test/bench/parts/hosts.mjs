// Bench part: the hosts engine on a 10,000-line hosts file, with the BUILT core (dist/electron/core): the pure plan,
// plan + apply + revert on a real file (backup, journal, fsync'd atomic replace), and the built CLI end to end.
// Every cycle checks that revert gave the file back byte for byte: a fast wrong answer is not a figure.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createTempDir } from '../lib/temp-dir.mjs'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const dist = join(repoRoot, 'dist', 'electron')
const cliPath = join(dist, 'cli', 'index.js')

const lineCount = 10_000
const planRuns = 30
const cycleRuns = 15
const cliRuns = 10
const platform = process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux'

const entries = ['registry-vpc.cn-beijing.aliyuncs.com', 'dockerauth-vpc.cn-beijing.aliyuncs.com', 'oss-cn-beijing-internal.aliyuncs.com'].map(
  (name) => ({ address: '127.0.0.1', name }),
)

/** A 10,000-line hosts file: localhost lines, comments, blank lines, a Docker Desktop section, many mappings. */
function hostsFile() {
  const lines = ['# /etc/hosts of a busy developer machine', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', '']
  lines.push('# Added by Docker Desktop', '192.168.65.2 host.docker.internal', '127.0.0.1 kubernetes.docker.internal', '# End of section')
  while (lines.length < lineCount) {
    const i = lines.length
    if (i % 40 === 0) lines.push(`# block ${i / 40}`)
    else if (i % 97 === 0) lines.push('')
    else lines.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\thost-${i}.corp.example alias-${i}`)
  }
  return Buffer.from(`${lines.join('\n')}\n`)
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function spread(values) {
  return `min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)}`
}

async function timed(fn) {
  const started = performance.now()
  const value = await fn()
  return { ms: performance.now() - started, value }
}

function runCli(args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [cliPath, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code !== 0) reject(new Error(`acr-bridge ${args[0]} exited ${code}: ${stderr.trim()}`))
      else resolve(ms)
    })
  })
}

export async function run(report) {
  if (!existsSync(join(dist, 'core', 'hosts', 'index.js')) || !existsSync(cliPath)) {
    throw new Error('dist/electron is missing: run `npm run build` first (`npm run bench` does)')
  }
  const hosts = await import(pathToFileURL(join(dist, 'core', 'hosts', 'index.js')).href)
  const privileged = await import(pathToFileURL(join(dist, 'core', 'privileged', 'index.js')).href)

  const original = hostsFile()
  const temp = await createTempDir('acr-bridge-bench-hosts-')
  const dir = temp.path
  try {
    const hostsPath = join(dir, 'hosts')
    const dataDir = join(dir, 'data')
    await writeFile(hostsPath, original)
    report.log(`hosts file: ${lineCount} lines, ${(original.length / 1024).toFixed(0)} KiB; block of ${entries.length} names`)

    // 1. The pure plan, in memory (decode, parse, analyse, plan, render, encode).
    const planOptions = { takeOver: false, platform }
    for (let i = 0; i < 3; i += 1) hosts.planHostsBytes(original, entries, planOptions)
    const planTimes = []
    for (let i = 0; i < planRuns; i += 1) {
      const started = performance.now()
      const planned = hosts.planHostsBytes(original, entries, planOptions)
      planTimes.push(performance.now() - started)
      if (planned.plan.added.length !== entries.length) throw new Error('the plan does not add the three names')
    }
    report.figure({ name: 'plan in memory (10,000 lines)', value: median(planTimes), unit: 'ms', runs: planRuns, note: spread(planTimes) })

    // 2. Plan + apply + revert on the file, the way the app does it: preview, then apply, then revert.
    const writer = privileged.createPrivilegedWriter({
      dataDir,
      platform,
      elevator: { run: async () => Promise.reject(new Error('bench: the temp file is writable, elevation must not be asked for')) },
    })
    const fileOptions = { hostsPath, dataDir, platform, writer, flushResolverCache: false }
    const preview = []
    const apply = []
    const revert = []
    const cycle = []
    for (let i = 0; i < cycleRuns + 2; i += 1) {
      const p = await timed(() => hosts.previewHostsBlock({ hostsPath, entries, takeOver: false, platform }))
      const a = await timed(() => hosts.applyHostsBlock({ ...fileOptions, entries, takeOver: false }))
      const r = await timed(() => hosts.revertHostsBlock(fileOptions))
      if (!a.value.changed || !r.value.changed) throw new Error('apply or revert changed nothing')
      if (!(await readFile(hostsPath)).equals(original)) throw new Error('apply → revert did not give the file back byte for byte')
      if (i < 2) continue // warm-up
      preview.push(p.ms)
      apply.push(a.ms)
      revert.push(r.ms)
      cycle.push(p.ms + a.ms + r.ms)
    }
    report.figure({ name: 'plan + apply + revert on the file (10,000 lines)', value: median(cycle), unit: 'ms', runs: cycleRuns, note: spread(cycle) })
    report.figure({ name: '  of which preview (read + plan)', value: median(preview), unit: 'ms', runs: cycleRuns })
    report.figure({ name: '  of which apply (backup, journal, fsync, rename)', value: median(apply), unit: 'ms', runs: cycleRuns })
    report.figure({ name: '  of which revert (journal, fsync, rename)', value: median(revert), unit: 'ms', runs: cycleRuns })

    // 3. The built CLI end to end (process start-up included), on the same file.
    const env = { ACR_BRIDGE_DATA_DIR: dataDir }
    const configPath = join(dir, 'config.json')
    await writeFile(
      configPath,
      JSON.stringify({ regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }], tunnel: { mode: 'sni', host: '203.0.113.10' } }),
    )
    const cliApply = []
    const cliRevert = []
    const cliStart = []
    for (let i = 0; i < cliRuns + 1; i += 1) {
      const a = await runCli(['apply', '--config', configPath, '--hosts-file', hostsPath, '--yes'], env)
      const r = await runCli(['revert', '--hosts-file', hostsPath, '--yes'], env)
      const s = await runCli(['catalog'], env)
      if (!(await readFile(hostsPath)).equals(original)) throw new Error('CLI apply → revert did not give the file back byte for byte')
      if (i === 0) continue // warm-up (disk cache)
      cliApply.push(a)
      cliRevert.push(r)
      cliStart.push(s)
    }
    report.figure({ name: 'CLI `apply` end to end (10,000 lines)', value: median(cliApply), unit: 'ms', runs: cliRuns, note: spread(cliApply) })
    report.figure({ name: 'CLI `revert` end to end (10,000 lines)', value: median(cliRevert), unit: 'ms', runs: cliRuns, note: spread(cliRevert) })
    report.figure({ name: 'CLI start-up alone (`catalog`)', value: median(cliStart), unit: 'ms', runs: cliRuns, note: spread(cliStart) })
  } finally {
    await temp.remove()
  }
}
