// Bench part: the tunnel (issue 3 "Benchmark"), with the BUILT core (dist/electron/core/tunnel and relay).
//
// Everything runs in a network namespace this part creates (own loopback: fixed ports, no traffic leaves it):
// lib/tunnel/driver.mjs starts the origin, socat, our relay, tinyproxy, sshd, `ssh -L` and one tunnel process per
// mode, then measures in interleaved rounds and prints JSON; this part turns that into figures, a table, the
// ratios against the targets and PASS/MISS. Needs root, iproute2, socat, tinyproxy, openssh server and client,
// openssl, a C compiler (the C reference forwarder is built per run): a missing one fails the part with the package
// to install.
//
// Environment (all optional):
//   ACRB_BENCH_TUNNEL_QUICK=1         a small run for development (2 rounds, small transfers, 200 connections)
//   ACRB_BENCH_TUNNEL_BASELINE=<dir>  a second build root (holding electron/core/...) measured in the same run as
//                                     "(before)" rows: before/after comparisons of a performance change
//   ACRB_BENCH_TUNNEL_ONLY=throughput,latency,concurrent   a subset
//   ACRB_BENCH_TUNNEL_JSON=<file>     also write the raw measurements there
//   ACRB_BENCH_TUNNEL_PATHS=ssh,ssh -L,raw tunnel   only these paths (development; the table then has gaps)
//   ACRB_BENCH_TUNNEL_ROUNDS=<n>      rounds instead of 10 (2 with QUICK)
//   ACRB_BENCH_PROF_DIR=<dir>         each tunnel process writes a V8 CPU profile (--cpu-prof) there when it stops
// Standalone: `node test/bench/parts/tunnel.mjs` (after `npm run build:electron`).

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createNetns } from '../lib/netns.mjs'
import { createTempDir } from '../lib/temp-dir.mjs'
import { fmt, pairedRatio } from '../lib/stats.mjs'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const driverPath = fileURLToPath(new URL('../lib/tunnel/driver.mjs', import.meta.url))

/** Targets of issue 3. 120 MB = 114.4 MiB. */
export const targets = {
  sniVsSocat: 0.95,
  rawVsSocat: 0.8,
  sshVsOpenSsh: 0.9,
  addedP50Ms: 0.5,
  concurrent: 1000,
  rssMiB: 120e6 / 1048576,
}

const peers = [
  ['ip', 'iproute2'],
  ['socat', 'socat'],
  ['tinyproxy', 'tinyproxy'],
  ['sshd', 'openssh-server'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['openssl', 'openssl'],
  ['cc', 'gcc'],
]

function which(command) {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, command))) return join(dir, command)
  }
  return undefined
}

function checkPrerequisites(dist) {
  const missing = peers.filter(([command]) => which(command) === undefined)
  if (missing.length > 0) {
    throw new Error(`missing ${missing.map(([c]) => c).join(', ')}: apt-get install -y ${[...new Set(missing.map(([, p]) => p))].join(' ')}`)
  }
  if (process.getuid?.() !== 0) throw new Error('the tunnel bench creates a network namespace and starts sshd: run it as root')
  for (const module of ['tunnel/tunnel.js', 'relay/relay.js']) {
    if (!existsSync(join(dist, 'electron', 'core', module))) {
      throw new Error(`${join(dist, 'electron', 'core', module)} is missing: run npm run build:electron first`)
    }
  }
}

function settings() {
  const quick = process.env.ACRB_BENCH_TUNNEL_QUICK === '1'
  const only = process.env.ACRB_BENCH_TUNNEL_ONLY
  const rounds = process.env.ACRB_BENCH_TUNNEL_ROUNDS === undefined ? (quick ? 2 : 10) : Number(process.env.ACRB_BENCH_TUNNEL_ROUNDS)
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`ACRB_BENCH_TUNNEL_ROUNDS must be a whole number >= 1, got ${process.env.ACRB_BENCH_TUNNEL_ROUNDS}`)
  return {
    dist: join(repoRoot, 'dist'),
    ...(process.env.ACRB_BENCH_TUNNEL_BASELINE ? { baselineDist: process.env.ACRB_BENCH_TUNNEL_BASELINE } : {}),
    rounds,
    tlsMiB: quick ? 64 : 256,
    rawMiB: quick ? 128 : 512,
    latencyCount: quick ? 200 : 2000,
    concurrent: quick ? 200 : 1000,
    ...(only ? { only: only.split(',') } : {}),
    // Comma-separated; a comma followed by a space belongs to the name ("sni, no ECS hop").
    ...(process.env.ACRB_BENCH_TUNNEL_PATHS ? { paths: process.env.ACRB_BENCH_TUNNEL_PATHS.split(/,(?! )/) } : {}),
    ...(process.env.ACRB_BENCH_PROF_DIR ? { profileDir: process.env.ACRB_BENCH_PROF_DIR } : {}),
  }
}

/** Runs the driver inside `ns`; resolves with its JSON. Its progress goes to our stderr. */
function runDriver(ns, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(ns.exec[0], [...ns.exec.slice(1), process.execPath, driverPath, JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.on('error', reject)
    // A stopped bench (SIGINT, SIGTERM) ends the driver with the namespace it runs in (createNetns).
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(code === null ? `the tunnel bench driver was stopped (${signal})` : `the tunnel bench driver exited ${code}`))
        return
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()))
      } catch (error) {
        reject(new Error(`the tunnel bench driver printed no result: ${error.message}`))
      }
    })
  })
}

const verdict = (ok) => (ok ? 'PASS' : 'MISS')
const cpuPerGiB = (entry) => (Number.isFinite(entry?.cpuSecondsPerGiB) ? `${fmt(entry.cpuSecondsPerGiB, 2)} s/GiB` : '')
const cpuPerConnection = (entry) => (Number.isFinite(entry.cpuMsPerConnection) ? `${fmt(entry.cpuMsPerConnection, 2)} ms/conn` : '')

/** Builds the table rows and the checks from the driver's result. Exported for the README generation. */
export function evaluate(result) {
  const rows = []
  const checks = []
  const tls = result.tls ?? {}
  const raw = result.raw ?? {}
  const latency = result.latency ?? {}
  const concurrent = result.concurrent ?? {}
  const direct = latency.direct?.p50

  // Ratios are the median of the per-round ratios (paths compared in a target ran back to back in every round:
  // lib/interleave.mjs); the ratio of the two medians, which drifts with the machine between rounds, is noted.
  const ratioOf = (entry, reference) =>
    entry?.perRound !== undefined && reference?.perRound !== undefined ? pairedRatio(entry.perRound, reference.perRound) : entry?.median / reference?.median
  const ratioRow = (group, label, entry, reference, target, note) => {
    const ratio = ratioOf(entry, reference)
    const ok = Number.isFinite(ratio) && ratio >= target && entry.error === undefined
    const ofMedians = `ratio of medians ${fmt(entry?.median / reference?.median, 3)}`
    // Three decimals where a verdict hangs on the ratio: 0.896 must not read as 0.90.
    rows.push([group, label, fmt(entry?.median, 0), fmt(ratio, 3), `≥ ${target}`, verdict(ok), cpuPerGiB(entry), entry?.error ?? (note === undefined ? ofMedians : `${note}; ${ofMedians}`)])
    checks.push({ name: `${group} ${label}`, ok })
  }
  const infoRow = (group, label, entry, reference, note) => {
    rows.push([group, label, fmt(entry?.median, 0), fmt(ratioOf(entry, reference), 2), '', '', cpuPerGiB(entry), entry?.error ?? note ?? ''])
  }

  if (tls.direct !== undefined) {
    infoRow('TLS MiB/s', 'direct', tls.direct, tls.socat, 'Node TLS client → Node TLS server')
    infoRow('TLS MiB/s', 'tuned socat', tls.socat, tls.socat, 'socat → socat (ECS hop) → origin: the reference')
    ratioRow('TLS MiB/s', 'sni', tls.sni, tls.socat, targets.sniVsSocat, 'tunnel → socat (ECS hop) → origin')
    if (tls['sni (before)']) infoRow('TLS MiB/s', 'sni (before)', tls['sni (before)'], tls.socat)
    infoRow('TLS MiB/s', 'socat 1 hop', tls['socat 1 hop'], tls.socat, 'socat → origin')
    infoRow('TLS MiB/s', 'node pipe 1 hop', tls['node pipe 1 hop'], tls['socat 1 hop'], 'the simplest Node forwarder → origin (ratio against socat 1 hop)')
    infoRow('TLS MiB/s', 'C epoll 1 hop', tls['C epoll 1 hop'], tls['socat 1 hop'], 'the leanest C forwarder → origin (ratio against socat 1 hop)')
    infoRow('TLS MiB/s', 'C epoll 2 hops', tls['C epoll 2 hops'], tls.socat, 'the leanest C forwarder → the same as ECS hop → origin')
    infoRow('TLS MiB/s', 'sni, no ECS hop', tls['sni, no ECS hop'], tls['socat 1 hop'], 'tunnel → origin (ratio against socat 1 hop)')
    infoRow('TLS MiB/s', 'relay alone', tls['relay alone'], tls.socat, 'our relay → origin')
    infoRow('TLS MiB/s', 'sni via relay', tls['sni via relay'], tls.socat, 'tunnel → our relay → origin')
    infoRow('TLS MiB/s', 'connect', tls.connect, tls.socat, 'tunnel → tinyproxy → origin')
    infoRow('TLS MiB/s', 'ssh -L aes128-gcm', tls['ssh -L'], tls['ssh -L'], 'OpenSSH client → sshd → origin: the reference')
    ratioRow('TLS MiB/s', 'ssh', tls.ssh, tls['ssh -L'], targets.sshVsOpenSsh, 'tunnel (ssh2, aes128-gcm) → sshd → origin')
    if (tls['ssh (before)']) infoRow('TLS MiB/s', 'ssh (before)', tls['ssh (before)'], tls['ssh -L'])
  }
  if (raw.direct !== undefined) {
    infoRow('raw MiB/s', 'direct', raw.direct, raw.socat, 'Node client → Node server')
    infoRow('raw MiB/s', 'tuned socat', raw.socat, raw.socat, 'socat → socat (ECS hop) → origin: the reference')
    ratioRow('raw MiB/s', 'tunnel', raw.tunnel, raw.socat, targets.rawVsSocat, 'tunnel HTTP listener → socat (ECS hop) → origin')
    if (raw['tunnel (before)']) infoRow('raw MiB/s', 'tunnel (before)', raw['tunnel (before)'], raw.socat)
    infoRow('raw MiB/s', 'tunnel via relay', raw['tunnel via relay'], raw.socat, 'tunnel HTTP listener → our relay → origin')
  }
  const ours = new Set(['sni', 'sni, no ECS hop', 'sni via relay', 'connect', 'ssh'])
  // What the ECS hop alone adds, so a row can also show the tunnel's own share.
  const hopAlone = { sni: 'socat 1 hop', 'sni via relay': 'relay alone' }
  const floorNotes = {
    'node pipe 1 hop': 'the simplest Node forwarder: what one Node hop costs here',
    'C epoll 1 hop': 'the leanest C forwarder (one epoll loop, no fork): what any process in the path costs here',
    'C epoll 2 hops': 'the leanest C forwarder twice (laptop side and ECS hop): the floor of a path with an ECS hop here',
  }
  for (const [label, entry] of Object.entries(latency)) {
    const added = entry.p50 - direct
    const value = `${fmt(entry.p50, 2)} / ${fmt(entry.p99, 2)}`
    if (label === 'direct') {
      rows.push(['latency p50/p99 ms', label, value, '', '', '', '', `${entry.count} connections`])
    } else if (ours.has(label) || label.endsWith('(before)')) {
      const ok = Number.isFinite(added) && added <= targets.addedP50Ms && entry.error === undefined
      const hop = latency[hopAlone[label]]
      const against = (floor) => {
        const other = latency[floor]
        return other === undefined ? [] : [`${entry.p50 >= other.p50 ? '+' : '−'}${fmt(Math.abs(entry.p50 - other.p50), 2)} against ${floor}`]
      }
      const share =
        hop !== undefined
          ? [`tunnel's share +${fmt(entry.p50 - hop.p50, 2)} (minus ${hopAlone[label]})`, ...against('C epoll 2 hops')].join(', ')
          : label === 'sni, no ECS hop'
            ? [...against('node pipe 1 hop'), ...against('C epoll 1 hop')].join(', ')
            : label === 'connect'
              ? against('C epoll 2 hops').join(', ')
              : label === 'ssh'
                ? against('ssh -L').join(', ')
                : ''
      rows.push(['latency p50/p99 ms', label, value, `+${fmt(added, 2)}`, `≤ +${targets.addedP50Ms}`, label.endsWith('(before)') ? '' : verdict(ok), cpuPerConnection(entry), entry.error ?? share])
      if (!label.endsWith('(before)')) checks.push({ name: `latency ${label}`, ok })
    } else {
      rows.push(['latency p50/p99 ms', label, value, `+${fmt(added, 2)}`, '', '', cpuPerConnection(entry), entry.error ?? floorNotes[label] ?? ''])
    }
  }
  for (const [label, entry] of Object.entries(concurrent)) {
    const ok = entry.error === undefined && entry.failures === 0 && entry.opened === result.concurrentCount && entry.peakRssMiB < targets.rssMiB
    rows.push([
      `${result.concurrentCount} connections`,
      label,
      entry.error === undefined ? `${fmt(entry.idleRssMiB, 0)} → ${fmt(entry.peakRssMiB, 0)} MiB` : '–',
      `${entry.failures ?? '–'} failed`,
      `0, < ${fmt(targets.rssMiB, 1)} MiB`,
      verdict(ok),
      '',
      entry.error ??
        (entry.firstError === undefined
          ? `tunnel RSS idle → peak, ≈ ${fmt(((entry.heldRssMiB - entry.idleRssMiB) * 1024) / result.concurrentCount, 0)} KiB per open connection`
          : `first failure: ${entry.firstError}`),
    ])
    checks.push({ name: `concurrent ${label}`, ok })
  }
  return { rows, checks }
}

export function markdownTable(rows) {
  const header = ['measure', 'path', 'median', 'ratio / added', 'target', '', 'forwarder CPU', 'path / notes']
  const lines = [`| ${header.join(' | ')} |`, '|---|---|---:|---:|---|---|---:|---|']
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`)
  return lines.join('\n')
}

export async function run(report) {
  const options = settings()
  checkPrerequisites(options.dist)
  if (options.baselineDist !== undefined) checkPrerequisites(options.baselineDist)
  const temp = await createTempDir('acrb-bench-tunnel-')
  const dir = temp.path
  let result
  try {
    const ns = await createNetns('acrb-bench')
    try {
      result = await runDriver(ns, { ...options, dir })
    } finally {
      await ns.dispose()
    }
  } finally {
    await temp.remove()
  }
  if (process.env.ACRB_BENCH_TUNNEL_JSON) await writeFile(process.env.ACRB_BENCH_TUNNEL_JSON, `${JSON.stringify(result, null, 2)}\n`)

  const { rows, checks } = evaluate(result)
  for (const [name, entry] of Object.entries(result.tls ?? {})) {
    if (Number.isFinite(entry.median)) report.figure({ name: `TLS ${name}`, value: entry.median, unit: 'MiB/s', runs: entry.samples.length })
  }
  for (const [name, entry] of Object.entries(result.raw ?? {})) {
    if (Number.isFinite(entry.median)) report.figure({ name: `raw ${name}`, value: entry.median, unit: 'MiB/s', runs: entry.samples.length })
  }
  for (const [name, entry] of Object.entries(result.latency ?? {})) {
    if (Number.isFinite(entry.p50)) {
      report.figure({ name: `latency p50 ${name}`, value: entry.p50, unit: 'ms', note: `p99 ${fmt(entry.p99, 2)} ms over ${entry.count}` })
    }
  }
  for (const [name, entry] of Object.entries(result.concurrent ?? {})) {
    if (Number.isFinite(entry.peakRssMiB)) {
      report.figure({ name: `${result.concurrentCount} conns ${name} peak RSS`, value: entry.peakRssMiB, unit: 'MiB', note: `${entry.failures} failed` })
    }
  }
  report.log('')
  for (const line of markdownTable(rows).split('\n')) report.log(line)
  report.log('')
  report.log(`${checks.filter((c) => c.ok).length}/${checks.length} targets met (${result.rounds} rounds, ${fmt(result.seconds, 0)} s)`)
}

// Standalone run: `node test/bench/parts/tunnel.mjs`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run({
    figure: ({ name, value, unit, runs, note }) => console.log(`  ${name}: ${fmt(value, 2)} ${unit}${runs === undefined ? '' : ` (median of ${runs})`}${note ? `  ${note}` : ''}`),
    log: (text) => console.log(`  ${text}`),
  })
}
