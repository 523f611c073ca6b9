#!/usr/bin/env node
// Side benchmark of the ssh mode (issue 3): the built tunnel in ssh mode, one or more builds of it side by side
// (before/after of a change), against OpenSSH `ssh -N -L -c aes128-gcm@openssh.com`, interleaved rounds:
//   - sequential connections (connect + TLS handshake + 1 KiB echo): p50/p99 and the forwarder's CPU per connection
//   - TLS downloads: MiB/s (median) and the forwarder's CPU per GiB
// CPU is user + system time of the forwarding process from /proc: on a shared machine trust it more than wall clock.
// With rttMs > 0 a delaying relay (lib/delay-relay.mjs: rttMs / 2 each way, in this script's process) sits between
// the laptop side and sshd, as a real link to the ECS would: the channel-open round trip and the channel window show
// there, not on loopback.
//
// Usage (root): node test/bench/ssh-side.mjs '{"builds":{"after":"dist","before":"/path/to/other/build"},
//   "connections":2000,"mib":256,"rounds":5,"rttMs":0}'
// A build is a folder holding electron/core/tunnel (the repo's `dist` after `npm run build:electron`; a relative
// path is taken from the repo root). Everything runs in a network namespace this script creates (own loopback,
// fixed ports, nothing leaves it); its temp folder and every process it started are removed on every path.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDelayRelay } from './lib/delay-relay.mjs'
import { createNetns } from './lib/netns.mjs'
import { createTempDir } from './lib/temp-dir.mjs'
import { readCpuSeconds, startChild, stopAll } from './lib/proc.mjs'
import { fmt, median, percentile } from './lib/stats.mjs'
import { latencySeries, tlsDownload } from './lib/tunnel/client.mjs'
import { makeCertificate, startOrigin, startSshd, startSshL } from './lib/tunnel/peers.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const name = 'localhost'
const port = { tls: 443, raw: 80, sshd: 22, delayed: 2222, sshL: 2443 }

async function outside() {
  const given = JSON.parse(process.argv[2] ?? '{}')
  const options = { builds: { after: 'dist' }, connections: 2000, mib: 256, rounds: 5, rttMs: 0, ...given }
  for (const [label, root] of Object.entries(options.builds)) {
    const full = isAbsolute(root) ? root : join(repoRoot, root)
    if (!existsSync(join(full, 'electron', 'core', 'tunnel', 'ssh-dialer.js'))) {
      throw new Error(`build "${label}": ${join(full, 'electron/core/tunnel/ssh-dialer.js')} is missing (npm run build:electron)`)
    }
    options.builds[label] = full
  }
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates a network namespace and starts sshd')
  const temp = await createTempDir('acrb-ssh-side-')
  const dir = temp.path
  try {
    const ns = await createNetns('acrb-ssh-side')
    try {
      const code = await new Promise((resolve, reject) => {
        const child = spawn(ns.exec[0], [...ns.exec.slice(1), process.execPath, fileURLToPath(import.meta.url), JSON.stringify({ ...options, dir })], {
          stdio: 'inherit',
          env: { ...process.env, ACRB_SSH_SIDE_INSIDE: '1' },
        })
        child.on('error', reject)
        child.on('close', resolve)
      })
      if (code !== 0) throw new Error(`the benchmark exited ${code}`)
    } finally {
      await ns.dispose()
    }
  } finally {
    await temp.remove()
  }
}

async function inside() {
  const options = JSON.parse(process.argv[2])
  const dir = options.dir
  const progress = (text) => process.stderr.write(`[ssh-side] ${text}\n`)
  let relay
  try {
    const { keyPath, certPath, ca } = await makeCertificate(dir, name)
    await startOrigin({ tlsPort: port.tls, rawPort: port.raw, keyPath, certPath })
    const { clientKey, knownHostsPath } = await startSshd(dir, port.sshd, { alsoKnownOn: [port.delayed] })
    let sshPort = port.sshd
    if (options.rttMs > 0) {
      relay = await startDelayRelay(port.delayed, port.sshd, options.rttMs / 2)
      sshPort = port.delayed
    }

    const paths = []
    for (const [label, dist] of Object.entries(options.builds)) {
      const upstream = { host: '127.0.0.1', port: sshPort, username: 'root', privateKeyPath: clientKey, knownHostsPath }
      const child = await startChild({
        name: `tunnel ${label}`,
        command: process.execPath,
        args: [join(here, 'lib', 'tunnel', 'tunnel-host.mjs'), JSON.stringify({ dist, mode: 'ssh', name, upstream })],
        ready: 'json',
        timeoutMs: 30_000,
      })
      paths.push({ label: `ssh ${label}`, port: child.ready.port, pid: child.pid })
    }
    const sshL = await startSshL({ listenPort: port.sshL, name, targetPort: port.tls, sshPort, clientKey, knownHostsPath })
    paths.push({ label: 'ssh -L', port: port.sshL, pid: sshL.pid })

    progress(`warm-up; then ${options.rounds} interleaved rounds of ${options.connections} connections and ${options.mib} MiB per path (rtt ${options.rttMs} ms)`)
    for (const p of paths) {
      await latencySeries({ port: p.port, name, ca, count: 50 })
      await tlsDownload({ port: p.port, name, ca, bytes: 8 * 1024 * 1024 })
      Object.assign(p, { samples: [], connections: 0, connectionCpu: 0, rates: [], bytes: 0, bulkCpu: 0 })
    }
    const settle = () => new Promise((resolve) => setTimeout(resolve, 100))
    for (let round = 0; round < options.rounds; round++) {
      progress(`  round ${round + 1}/${options.rounds}`)
      for (let i = 0; i < paths.length; i++) {
        const p = paths[(i + round) % paths.length]
        if (options.connections > 0) {
          const before = readCpuSeconds(p.pid)
          const series = await latencySeries({ port: p.port, name, ca, count: Math.ceil(options.connections / options.rounds) })
          await settle()
          p.connectionCpu += readCpuSeconds(p.pid) - before
          p.connections += series.length
          p.samples.push(...series)
        }
        if (options.mib > 0) {
          const before = readCpuSeconds(p.pid)
          const result = await tlsDownload({ port: p.port, name, ca, bytes: options.mib * 1024 * 1024 })
          await settle()
          p.bulkCpu += readCpuSeconds(p.pid) - before
          p.bytes += result.bytes
          p.rates.push((result.bytes / 1048576) / (result.ms / 1000))
        }
      }
    }
    const reference = paths.at(-1)
    console.log('| path | p50 / p99 ms | CPU ms/conn | TLS MiB/s (median) | × ssh -L | CPU s/GiB |')
    console.log('|---|---:|---:|---:|---:|---:|')
    for (const p of paths) {
      const latency = p.connections > 0 ? `${fmt(percentile(p.samples, 50), 2)} / ${fmt(percentile(p.samples, 99), 2)}` : '–'
      const perConnection = p.connections > 0 ? fmt((p.connectionCpu * 1000) / p.connections, 2) : '–'
      const rate = p.bytes > 0 ? fmt(median(p.rates), 0) : '–'
      const ratio = p.bytes > 0 ? fmt(median(p.rates) / median(reference.rates), 3) : '–'
      const perGiB = p.bytes > 0 ? fmt(p.bulkCpu / (p.bytes / 2 ** 30), 2) : '–'
      console.log(`| ${p.label} | ${latency} | ${perConnection} | ${rate} | ${ratio} | ${perGiB} |`)
    }
  } finally {
    relay?.close()
    await stopAll()
  }
}

if (process.env.ACRB_SSH_SIDE_INSIDE === '1') await inside()
else await outside()
