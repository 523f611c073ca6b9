#!/usr/bin/env node
// Side benchmark of the warm upstream pool (issue 3, PERF-NOTES.md trap 6): connection latency (connect + TLS
// handshake + 1 KiB echo, sequential connections) direct, and through the tunnel with and without its pool, in
// mode sni (with the socat ECS hop and without an ECS hop) and mode connect (tinyproxy), interleaved rounds,
// p50/p99 and the tunnel process's CPU per connection from /proc. Not a part of `npm run bench` (which measures
// the product as shipped, pool on): this is the before/after of the pool in one run.
//
// On loopback the pool's gain (one round trip to the ECS per client connection) is invisible. With rttMs > 0 a
// delaying relay (lib/delay-relay.mjs, in this script's process; rttMs / 2 each way, and the TCP handshake charged:
// a fresh connection pays one round trip before its first byte, a pooled one has paid it ahead) sits on every path
// that crosses the laptop-to-ECS link: between the tunnel and the ECS hop (socat, or the origin itself for "sni, no
// ECS hop", tinyproxy for connect). The direct client goes through the same kind of relay to the origin: "direct"
// is then what the laptop would see if it could reach the origin itself over the same link, the reference. The
// meaningful comparison is tunnel with pool against tunnel without pool over the same delayed link; the "pool
// saves" lines print that difference of p50s per mode. rttMs 0 (the default) is the plain loopback run: no relays.
//
// Usage (root; after `npm run build:electron`, or with ACRB_POOL_BENCH_DIST=<a build root holding electron/core>):
//   node test/bench/pool-latency.mjs [connections per path, default 2000] [rounds, default 5] [rttMs, default 0]
//   (rttMs also from ACRB_POOL_BENCH_RTT_MS when not given on the command line)
// Everything runs in a network namespace this script creates (own loopback, fixed ports, nothing leaves it).

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawn } from 'node:child_process'
import { startDelayRelay } from './lib/delay-relay.mjs'
import { interleave } from './lib/interleave.mjs'
import { createNetns } from './lib/netns.mjs'
import { createTempDir } from './lib/temp-dir.mjs'
import { readCpuSeconds, startChild, stopAll } from './lib/proc.mjs'
import { fmt, median, percentile } from './lib/stats.mjs'
import { latencySeries } from './lib/tunnel/client.mjs'
import { makeCertificate, startOrigin, startSocat, startTinyproxy } from './lib/tunnel/peers.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const name = 'localhost'
const port = { tls: 443, raw: 80, ecsTls: 7443, ecsRaw: 7080, tinyproxy: 3128 }
/** Where each delaying relay listens (rttMs > 0): the delayed way to port[key]. */
const delayedPort = { tls: 10443, raw: 10080, ecsTls: 17443, ecsRaw: 17080, tinyproxy: 13128 }

async function outside() {
  const count = Number(process.argv[2] ?? 2000)
  const rounds = Number(process.argv[3] ?? 5)
  const rttMs = Number(process.argv[4] ?? process.env.ACRB_POOL_BENCH_RTT_MS ?? 0)
  for (const [label, value] of Object.entries({ count, rounds, rttMs })) {
    const least = label === 'rttMs' ? 0 : 1
    if (!Number.isFinite(value) || value < least) throw new Error(`${label} must be a number >= ${least}, got ${value}`)
  }
  const dist = process.env.ACRB_POOL_BENCH_DIST ?? join(repoRoot, 'dist')
  if (!existsSync(join(dist, 'electron', 'core', 'tunnel', 'upstream-pool.js'))) {
    throw new Error(`${join(dist, 'electron', 'core', 'tunnel')} has no upstream-pool.js: run npm run build:electron first`)
  }
  const temp = await createTempDir('acrb-pool-bench-')
  const dir = temp.path
  const ns = await createNetns('acrb-poolb')
  try {
    await new Promise((resolve, reject) => {
      const child = spawn(ns.exec[0], [...ns.exec.slice(1), process.execPath, fileURLToPath(import.meta.url), '--inside', JSON.stringify({ dist, dir, count, rounds, rttMs })], {
        stdio: 'inherit',
      })
      child.on('error', reject)
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`the measuring process exited ${code}`))))
    })
  } finally {
    await ns.dispose()
    await temp.remove()
  }
}

async function inside({ dist, dir, count, rounds, rttMs }) {
  const { keyPath, certPath, ca } = await makeCertificate(dir, name)
  await startOrigin({ tlsPort: port.tls, rawPort: port.raw, keyPath, certPath })
  await startSocat(port.ecsTls, port.tls)
  await startSocat(port.ecsRaw, port.raw)
  await startTinyproxy(dir, port.tinyproxy)

  // The port to use for port[key] across the (delayed) link.
  const via = (key) => (rttMs > 0 ? delayedPort[key] : port[key])
  if (rttMs > 0) {
    for (const key of Object.keys(delayedPort)) {
      relays.push(await startDelayRelay(delayedPort[key], port[key], rttMs / 2, { connectRoundTrip: true }))
    }
  }
  const upstreams = {
    sni: ['sni', { host: '127.0.0.1', port: via('ecsTls'), httpPort: via('ecsRaw') }],
    'sni, no ECS hop': ['sni', { host: '127.0.0.1', port: via('tls'), httpPort: via('raw') }],
    connect: ['connect', { host: '127.0.0.1', port: via('tinyproxy') }],
  }
  const paths = [{ name: 'direct', port: via('tls') }]
  for (const [label, [mode, upstream]] of Object.entries(upstreams)) {
    for (const pool of [true, false]) {
      const child = await startChild({
        name: `tunnel ${label}${pool ? '' : ' (no pool)'}`,
        command: process.execPath,
        args: [join(here, 'lib', 'tunnel', 'tunnel-host.mjs'), JSON.stringify({ dist, mode, name, upstream, ...(pool ? {} : { pool: false }) })],
        ready: 'json',
      })
      paths.push({ name: `${label}${pool ? ', pool' : ', no pool'}`, port: child.ready.port, cpu: child.pid })
    }
  }

  for (const p of paths) await latencySeries({ port: p.port, name, ca, count: 50 }) // warm-up
  const perRound = Math.ceil(count / rounds)
  process.stderr.write(`[pool-bench] ${perRound * rounds} sequential connections per path in ${rounds} interleaved rounds, rtt ${rttMs} ms\n`)
  const cpu = new Map(paths.map((p) => [p.name, { seconds: 0, connections: 0 }]))
  const samples = await interleave(
    paths,
    rounds,
    async (p) => {
      const before = p.cpu === undefined ? 0 : readCpuSeconds(p.cpu)
      const series = await latencySeries({ port: p.port, name, ca, count: perRound })
      if (p.cpu !== undefined) {
        const account = cpu.get(p.name)
        account.seconds += readCpuSeconds(p.cpu) - before
        account.connections += series.length
      }
      return series
    },
    (round) => process.stderr.write(`[pool-bench]   round ${round + 1}/${rounds}\n`),
  )
  const direct = percentile(samples.get('direct').flat(), 50)
  const rows = ['| path | p50 / p99 ms | added p50 ms | round medians ms | tunnel CPU ms/conn |', '|---|---:|---:|---|---:|']
  for (const p of paths) {
    const all = samples.get(p.name).flat()
    const p50 = percentile(all, 50)
    const account = cpu.get(p.name)
    rows.push(
      `| ${p.name} | ${fmt(p50, 2)} / ${fmt(percentile(all, 99), 2)} | ${p.name === 'direct' ? '' : `${p50 >= direct ? '+' : ''}${fmt(p50 - direct, 2)}`} | ` +
        `${samples.get(p.name).map((s) => fmt(median(s), 2)).join(' ')} | ${account.connections > 0 ? fmt((account.seconds * 1000) / account.connections, 2) : ''} |`,
    )
  }
  process.stdout.write(`${rows.join('\n')}\n`)
  for (const label of Object.keys(upstreams)) {
    const p50 = (pool) => percentile(samples.get(`${label}${pool ? ', pool' : ', no pool'}`).flat(), 50)
    process.stdout.write(`pool saves (${label}): ${fmt(p50(false) - p50(true), 2)} ms p50${rttMs > 0 ? ` (rtt ${rttMs} ms)` : ''}\n`)
  }
}

/** The delaying relays of this run (rttMs > 0), destroyed after the children are stopped. */
const relays = []

if (process.argv[2] === '--inside') {
  try {
    await inside(JSON.parse(process.argv[3]))
  } finally {
    await stopAll()
    for (const relay of relays) relay.destroy()
  }
} else {
  await outside()
}
