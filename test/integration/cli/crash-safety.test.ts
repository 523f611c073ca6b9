// kill -9 of the BUILT CLI at random moments during `apply` and `revert` on a large hosts file (20,000 lines, ~1 MB,
// so a write takes measurable time). After every kill the hosts file must be exactly the old or the new content;
// when a write journal is left, the next apply/revert (run to completion) must finish it: exit 0, journal gone, file
// exactly what that command should produce.
//
// Two rounds, four files in parallel, each file with its own data folder:
// - a plain file (atomic replace: temp file + rename): >= 200 kills; the file is never anything but old or new;
// - a bind-mounted file (rename gives EBUSY → in-place rewrite): >= 50 kills; a torn file is allowed ONLY with a
//   journal whose old content is the file from before, and the next run must repair it back to old-or-new exactly.
//   These files carry a SwitchHosts section near the top, so the block goes there and an in-place write shifts
//   (rewrites) the whole rest of the file: a torn write is visible, not hidden by identical bytes.
//
// When the kill lands: every run is watched. Its lifetime T (spawn → exit) and its write phase W (first change in the
// data folder, i.e. the backup or the journal, → exit) are measured on every run that is not killed. Kills are drawn
// from three kinds: uniformly in [0, 1.1·T] after spawn (anywhere in the lifetime, start-up included); uniformly in
// [0, 1.2·W] after the first change in the data folder (inside backup, journal, temp file, fsync, rename, clean-up);
// and (bind round) within a few ms after the first change of the hosts file itself (inside the in-place write).

import { execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, watch, promises as fs, type FSWatcher } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readJournal } from '../../../electron/core/hosts/journal.js'
import { builtCli, builtCliTimeoutMs, spawnBuiltCli } from '../../helpers/cli.js'

const killsPlain = 200
const killsBind = 50
const parallel = 4
const names = ['registry-vpc.cn-beijing.aliyuncs.com', 'dockerauth-vpc.cn-beijing.aliyuncs.com', 'oss-cn-beijing-internal.aliyuncs.com']
/** A SwitchHosts section start: our block goes right before it (hosts-block.ts defaultBlockPosition). */
const switchHostsStart = '# --- SWITCHHOSTS_CONTENT_START ---'

let root: string
let cliPath: string
const mounts: string[] = []

beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-cli-crash-'))
  cliPath = await builtCli()
}, builtCliTimeoutMs)

afterAll(async () => {
  // Unmount whatever a failed test left mounted, then remove the folder.
  while (mounts.length > 0) unmount(mounts.pop()!)
  if (root !== undefined) await fs.rm(root, { recursive: true, force: true })
})

function unmount(path: string): void {
  try {
    execFileSync('umount', [path], { stdio: 'pipe' })
  } catch {
    execFileSync('umount', ['-l', path], { stdio: 'pipe' })
  }
}

/**
 * A ~1 MB hosts file of 20,000 lines in one of four shapes: LF / CRLF, a UTF-8 BOM, no final newline, a Docker
 * Desktop section; `blockNearTop` adds a SwitchHosts section start on line 3.
 */
function largeHostsFile(shape: number, blockNearTop: boolean): Buffer {
  const eol = shape % 2 === 1 ? '\r\n' : '\n'
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost']
  if (blockNearTop) lines.push(switchHostsStart)
  if (shape === 2) lines.push('# Added by Docker Desktop', '192.168.65.2 host.docker.internal', '# End of section')
  for (let i = 0; i < 20_000; i += 1) {
    lines.push(i % 50 === 0 ? `# section ${i / 50}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\thost-${i}.corp.example alias-${i}`)
  }
  if (blockNearTop) lines.push('# --- SWITCHHOSTS_CONTENT_END ---')
  const text = lines.join(eol) + (shape === 2 ? '' : eol)
  return shape === 3 ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]) : Buffer.from(text)
}

type Op = 'apply' | 'revert'

interface Worker {
  readonly id: number
  readonly dir: string
  readonly hostsPath: string
  /** The file the bytes live in: the hosts file itself, or the file bind-mounted onto it. */
  readonly backingPath: string
  readonly dataDir: string
  readonly configPath: string
  /** The file without our block (what revert gives) and with it (what apply gives). */
  readonly old: Buffer
  readonly applied: Buffer
}

type Trigger =
  | { readonly kind: 'none' }
  /** Kill this long after spawn. */
  | { readonly kind: 'spawn'; readonly delayMs: number }
  /** Kill this long after the first change in the data folder (backup or journal being written). */
  | { readonly kind: 'data'; readonly delayMs: number }
  /** Kill this long after the first change of the hosts file's bytes (the in-place write under way). */
  | { readonly kind: 'hosts'; readonly delayMs: number }

interface Stats {
  kills: number
  byTrigger: Record<'spawn' | 'data' | 'hosts', number>
  killsAfterDataChange: number
  killsAfterHostsChange: number
  killsWithJournal: number
  killsAfterReplace: number
  tornKills: number
  repairsRestored: number
  finishedBeforeKill: number
  verifyRuns: number
  /** Temp files a killed write left next to the hosts file / in the data folder (nothing removes them). */
  tempFilesLeft: { hostsDir: number; dataDir: number }
  lifetime: Record<Op, number[]>
  writePhase: Record<Op, number[]>
}

function newStats(): Stats {
  return {
    kills: 0,
    byTrigger: { spawn: 0, data: 0, hosts: 0 },
    killsAfterDataChange: 0,
    killsAfterHostsChange: 0,
    killsWithJournal: 0,
    killsAfterReplace: 0,
    tornKills: 0,
    repairsRestored: 0,
    finishedBeforeKill: 0,
    verifyRuns: 0,
    tempFilesLeft: { hostsDir: 0, dataDir: 0 },
    lifetime: { apply: [], revert: [] },
    writePhase: { apply: [], revert: [] },
  }
}

function typical(samples: readonly number[], fallback: number): number {
  const recent = samples.slice(-9).sort((a, b) => a - b)
  return recent[Math.floor(recent.length / 2)] ?? fallback
}

function drawTrigger(op: Op, stats: Stats, options: { bind: boolean }): Trigger {
  const lifetime = typical(stats.lifetime[op], 1500)
  const writePhase = typical(stats.writePhase[op], 300)
  const dice = Math.random()
  if (dice < (options.bind ? 0.25 : 1 / 3)) return { kind: 'spawn', delayMs: Math.random() * 1.1 * lifetime }
  if (!options.bind || dice < 0.5) return { kind: 'data', delayMs: Math.random() * 1.2 * writePhase }
  return { kind: 'hosts', delayMs: Math.random() * 4 }
}

function args(worker: Worker, op: Op): string[] {
  return op === 'apply'
    ? ['apply', '--config', worker.configPath, '--hosts-file', worker.hostsPath, '--yes']
    : ['revert', '--hosts-file', worker.hostsPath, '--yes']
}

interface RunOutcome {
  readonly killed: boolean
  readonly code: number | null
  readonly output: string
  readonly stdout: string
  readonly dataChanged: boolean
  readonly hostsChanged: boolean
}

/**
 * Runs one command on the worker's file, watching its data folder and hosts file; kills it as the trigger says.
 * Runs that are not killed and succeed add to the lifetime and write-phase samples.
 */
async function runWatched(worker: Worker, op: Op, trigger: Trigger, stats: Stats): Promise<RunOutcome> {
  const watchers: FSWatcher[] = []
  let killTimer: NodeJS.Timeout | undefined
  let child: ChildProcess | undefined
  let dataAt: number | undefined
  let hostsAt: number | undefined
  const arm = (delayMs: number): void => {
    killTimer ??= setTimeout(() => child?.kill('SIGKILL'), delayMs)
  }
  try {
    watchers.push(
      watch(worker.dataDir, () => {
        if (dataAt !== undefined) return
        dataAt = performance.now()
        if (trigger.kind === 'data') arm(trigger.delayMs)
      }),
      watch(worker.backingPath, () => {
        if (hostsAt !== undefined) return
        hostsAt = performance.now()
        if (trigger.kind === 'hosts') arm(trigger.delayMs)
      }),
    )
    for (const watcher of watchers) watcher.on('error', () => {})
    const started = performance.now()
    child = spawnBuiltCli(cliPath, args(worker, op), { env: { ACR_BRIDGE_DATA_DIR: worker.dataDir } })
    let stdout = ''
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      output += chunk.toString()
    })
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stdin?.end()
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child!.once('error', () => resolve({ code: null, signal: null }))
      child!.once('close', (code, signal) => resolve({ code, signal }))
    })
    if (trigger.kind === 'spawn') arm(trigger.delayMs)
    // A bound: a run that never ends is a failure of its own (it shows as a kill with the wrong outcome).
    const guard = setTimeout(() => child?.kill('SIGKILL'), 180_000)
    const { code, signal } = await closed
    clearTimeout(guard)
    const ended = performance.now()
    const killed = signal === 'SIGKILL'
    if (!killed && code === 0) {
      stats.lifetime[op].push(ended - started)
      if (dataAt !== undefined) stats.writePhase[op].push(ended - dataAt)
    }
    return { killed, code, output, stdout, dataChanged: dataAt !== undefined, hostsChanged: hostsAt !== undefined }
  } finally {
    if (killTimer !== undefined) clearTimeout(killTimer)
    for (const watcher of watchers) watcher.close()
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.equals(b)
}

function describeBytes(current: Buffer, worker: Worker): string {
  const distance = (other: Buffer): number => {
    let at = 0
    while (at < current.length && current[at] === other[at]) at += 1
    return at
  }
  return `${current.length} bytes (old ${worker.old.length}, new ${worker.applied.length}); same as old up to byte ${distance(worker.old)}, as new up to byte ${distance(worker.applied)}`
}

async function countTempFiles(worker: Worker, stats: Stats): Promise<void> {
  const inHostsDir = (await fs.readdir(worker.dir)).filter((name) => name.startsWith('.hosts.acr-bridge.'))
  const inDataDir = (await fs.readdir(worker.dataDir).catch(() => [] as string[])).filter((name) => name.includes('.acr-bridge.'))
  stats.tempFilesLeft.hostsDir += inHostsDir.length
  stats.tempFilesLeft.dataDir += inDataDir.length
}

async function makeWorker(id: number, stats: Stats, options: { bind: boolean }): Promise<Worker> {
  const dir = join(root, `${options.bind ? 'bind' : 'plain'}-${id}`)
  const dataDir = join(dir, 'data')
  await fs.mkdir(dataDir, { recursive: true })
  const hostsPath = join(dir, 'hosts')
  const old = largeHostsFile(id, options.bind)
  let backingPath = hostsPath
  if (options.bind) {
    // The hosts file is a mount point, as /etc/hosts is in containers and under `ip netns exec`.
    backingPath = join(root, `bind-${id}-backing`)
    await fs.writeFile(backingPath, old)
    await fs.writeFile(hostsPath, '')
    try {
      execFileSync('mount', ['--bind', backingPath, hostsPath], { stdio: 'pipe' })
    } catch (error) {
      throw new Error(`mount --bind failed: this test needs root with CAP_SYS_ADMIN (${String(error)})`)
    }
    mounts.push(hostsPath)
    // The premise of the round: rename onto the mount point fails, so the CLI must rewrite in place.
    const probe = join(dir, 'rename-probe')
    await fs.writeFile(probe, 'x')
    await expect(fs.rename(probe, hostsPath)).rejects.toMatchObject({ code: 'EBUSY' })
    await fs.rm(probe)
  } else {
    await fs.writeFile(hostsPath, old)
  }
  const configPath = join(dir, 'config.json')
  await fs.writeFile(
    configPath,
    JSON.stringify({ regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }], tunnel: { mode: 'sni', host: '203.0.113.10' } }),
  )
  // The two known versions, and the first lifetime samples.
  const base: Worker = { id, dir, hostsPath, backingPath, dataDir, configPath, old, applied: Buffer.alloc(0) }
  const first = await runWatched(base, 'apply', { kind: 'none' }, stats)
  expect(first.code, first.output).toBe(0)
  const applied = await fs.readFile(hostsPath)
  const text = applied.toString('utf8')
  for (const name of names) expect(text).toContain(`127.0.0.1 ${name}`)
  if (options.bind) {
    // The block sits near the top, so an in-place write rewrites almost every byte.
    expect(text.indexOf(names[0]!)).toBeLessThan(200)
    expect(first.stdout).toContain('Wrote 3 names')
  }
  const back = await runWatched(base, 'revert', { kind: 'none' }, stats)
  expect(back.code, back.output).toBe(0)
  expect(sameBytes(await fs.readFile(hostsPath), old), 'apply → revert is byte-identical on the large file').toBe(true)
  return { ...base, applied }
}

/**
 * Kills `kills` runs on one file. The command is chosen from the file's state (old → apply, new → revert) so every
 * run has a write to interrupt; after a kill that left a journal (or a torn file) the next run goes to completion
 * and is checked.
 */
async function killLoop(worker: Worker, kills: number, stats: Stats, options: { bind: boolean }): Promise<void> {
  let done = 0
  while (done < kills) {
    const before = await fs.readFile(worker.hostsPath)
    const op: Op = sameBytes(before, worker.old) ? 'apply' : 'revert'
    const trigger = drawTrigger(op, stats, options)
    const run = await runWatched(worker, op, trigger, stats)
    const after = await fs.readFile(worker.hostsPath)
    const journal = await readJournal(worker.dataDir)
    if (!run.killed) {
      // Finished before the kill (or its trigger never came): it must have succeeded and left the promised file.
      stats.finishedBeforeKill += 1
      expect(run.code, run.output).toBe(0)
      expect(sameBytes(after, op === 'apply' ? worker.applied : worker.old), `${op} finished: ${describeBytes(after, worker)}`).toBe(true)
      expect(journal).toBeUndefined()
      continue
    }
    done += 1
    stats.kills += 1
    if (trigger.kind !== 'none') stats.byTrigger[trigger.kind] += 1
    if (run.dataChanged) stats.killsAfterDataChange += 1
    if (run.hostsChanged) stats.killsAfterHostsChange += 1
    const isOld = sameBytes(after, worker.old)
    const isNew = sameBytes(after, worker.applied)
    if (!sameBytes(after, before)) stats.killsAfterReplace += 1
    if (journal !== undefined) stats.killsWithJournal += 1
    let torn = false
    if (!isOld && !isNew) {
      const where = `kill ${stats.kills} (${op}, file ${worker.id}${options.bind ? ', bind mount' : ''}, ${trigger.kind} trigger): ${describeBytes(after, worker)}`
      // A plain file is replaced by rename: anything but old or new is a failure.
      expect(options.bind, `the file is neither the old nor the new content after ${where}`).toBe(true)
      // In place, a torn write is allowed only when the journal holds what the file was before this run.
      expect(journal, `torn file without a journal after ${where}`).toBeDefined()
      expect(sameBytes(Buffer.from(journal!.old, 'base64'), before), `the journal's old content is not the file from before, ${where}`).toBe(true)
      torn = true
      stats.tornKills += 1
    }
    if (journal === undefined) continue
    // The journal says a write was interrupted: the next command, run to completion, must finish it (a torn file
    // is put back to the content from before, then the command does its own write).
    const startState = torn ? before : after
    const next: Op = sameBytes(startState, worker.old) ? 'apply' : 'revert'
    const verify = await runWatched(worker, next, { kind: 'none' }, stats)
    stats.verifyRuns += 1
    expect(verify.code, `${next} after an interrupted ${op}: ${verify.output}`).toBe(0)
    if (torn) {
      expect(verify.stdout).toContain('an interrupted earlier write was rolled back first')
      stats.repairsRestored += 1
    }
    const repaired = await fs.readFile(worker.hostsPath)
    expect(sameBytes(repaired, next === 'apply' ? worker.applied : worker.old), `${next} after repair: ${describeBytes(repaired, worker)}`).toBe(true)
    expect(await readJournal(worker.dataDir)).toBeUndefined()
  }
}

async function finish(worker: Worker, stats: Stats): Promise<void> {
  const result = await runWatched(worker, 'revert', { kind: 'none' }, stats)
  expect(result.code, result.output).toBe(0)
  expect(sameBytes(await fs.readFile(worker.hostsPath), worker.old)).toBe(true)
  expect(await readJournal(worker.dataDir)).toBeUndefined()
  expect(existsSync(join(worker.dataDir, 'hosts.backup'))).toBe(false)
  await countTempFiles(worker, stats)
}

function report(round: string, stats: Stats): void {
  const ms = (samples: number[]) => typical(samples, Number.NaN).toFixed(0)
  console.log(
    `[crash-safety] ${round}: ${stats.kills} kills (trigger spawn ${stats.byTrigger.spawn} / data folder ${stats.byTrigger.data} / ` +
      `hosts file ${stats.byTrigger.hosts}); ${stats.killsAfterDataChange} after the data folder changed, ${stats.killsAfterHostsChange} after ` +
      `the hosts file changed, ${stats.killsAfterReplace} after the file was replaced, ${stats.killsWithJournal} left a journal, ` +
      `${stats.tornKills} torn → ${stats.repairsRestored} repaired; ${stats.finishedBeforeKill} runs finished before their kill, ` +
      `${stats.verifyRuns} completed runs after a journal, stray temp files at the end: ${stats.tempFilesLeft.hostsDir} next to the hosts files, ${stats.tempFilesLeft.dataDir} in the data folders; ` +
      `T apply ${ms(stats.lifetime.apply)} ms / revert ${ms(stats.lifetime.revert)} ms, ` +
      `W apply ${ms(stats.writePhase.apply)} ms / revert ${ms(stats.writePhase.revert)} ms`,
  )
}

async function round(kills: number, options: { bind: boolean }): Promise<Stats> {
  const stats = newStats()
  const workers = await Promise.all(Array.from({ length: parallel }, (_, id) => makeWorker(id, stats, options)))
  const share = Math.ceil(kills / parallel)
  await Promise.all(workers.map((worker) => killLoop(worker, share, stats, options)))
  for (const worker of workers) await finish(worker, stats)
  return stats
}

describe('kill -9 during apply and revert', () => {
  it(`plain file, atomic replace: ${killsPlain} kills, always exactly the old or the new file`, async () => {
    const stats = await round(killsPlain, { bind: false })
    report('plain file', stats)
    expect(stats.kills).toBeGreaterThanOrEqual(killsPlain)
    expect(stats.tornKills).toBe(0)
    // The kills reached the writes, not only start-up: some inside the write phase, some after the replace.
    expect(stats.killsAfterDataChange).toBeGreaterThanOrEqual(killsPlain / 4)
    expect(stats.killsAfterReplace).toBeGreaterThan(0)
  }, 20 * 60_000)

  it(`bind-mounted file, in-place rewrite: ${killsBind} kills, torn writes only with a journal and always repaired`, async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root for mount --bind; run it as root')
    try {
      const stats = await round(killsBind, { bind: true })
      report('bind-mounted file', stats)
      expect(stats.kills).toBeGreaterThanOrEqual(killsBind)
      expect(stats.repairsRestored).toBe(stats.tornKills)
      expect(stats.killsAfterDataChange).toBeGreaterThanOrEqual(killsBind / 4)
      expect(stats.killsAfterHostsChange).toBeGreaterThan(0)
    } finally {
      while (mounts.length > 0) unmount(mounts.pop()!)
    }
  }, 20 * 60_000)
})
