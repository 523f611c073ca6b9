// The tunnel benchmark itself. Runs INSIDE a network namespace that parts/tunnel.mjs created, so every fixed
// port below is private to it and no byte leaves the namespace's loopback. Prints progress on stderr and one
// JSON result on stdout.
//
// The world, all on 127.0.0.1 in the namespace (the origin is reached by the name `localhost`, which every peer
// resolves through the system hosts file to 127.0.0.1, so tinyproxy, sshd and our relay can target it):
//   origin        server.mjs: TLS :443 (ECDSA P-256 certificate for localhost), raw :80
//   ECS hops      socat tuned :7443 → :443 and :7080 → :80 ("socat ECS")
//                 our relay :8443 (SNI) / :8080 (Host)
//                 tinyproxy :3128 (CONNECT)
//                 OpenSSH sshd :22 (root, key auth)
//   laptop side   our tunnel, one child process per mode (sni → socat ECS, sni → origin (no ECS hop),
//                 sni → relay, connect, ssh)
//                 socat tuned :6443 → :7443 and :6080 → :7080 (the reference for the tunnel, same ECS hop)
//                 socat tuned :5443 → :443 (one hop, for latency)
//                 the simplest Node forwarder (node-pipe.mjs) :4443 → :443 (one hop: what Node itself costs)
//                 the leanest C forwarder (epoll-hop.c, built here with cc) :3443 → :443 (one hop: what any process
//                 in the path costs), and a second one :3444 → :3443 (two hops: what the leanest laptop side and ECS
//                 hop together cost, the floor of every mode's path)
//                 OpenSSH `ssh -N -L 127.0.0.1:2443:localhost:443 -c aes128-gcm@openssh.com`
//
// argv[2]: JSON {dist, dir?, baselineDist?, rounds, tlsMiB, rawMiB, latencyCount, concurrent, only?, paths?, profileDir?}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { groupCases, interleaveGroups, rotated } from '../interleave.mjs'
import { readCpuSeconds, readMemory, runChecked, startChild, stopAll } from '../proc.mjs'
import { median, mibPerSecond, percentile } from '../stats.mjs'
import { concurrentEchoes, latencySeries, rawDownload, tlsDownload } from './client.mjs'
import { makeCertificate, startOrigin, startSocat, startSshd, startSshL, startTinyproxy } from './peers.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const options = JSON.parse(process.argv[2] ?? '{}')
const rounds = options.rounds ?? 5
const tlsBytes = (options.tlsMiB ?? 256) * 1024 * 1024
const rawBytes = (options.rawMiB ?? 512) * 1024 * 1024
const latencyCount = options.latencyCount ?? 2000
/**
 * Connection latency is measured in batches of this many connections, the paths taking turns, so that the slow
 * swings of this shared machine (a path's p50 moved by up to 2x between blocks of 400 connections measured a
 * minute apart) fall on every path alike instead of on whichever path was running at the time.
 */
const latencyBatch = 10
const concurrentCount = options.concurrent ?? 1000
const name = 'localhost'
const progress = (message) => process.stderr.write(`[tunnel-bench] ${message}\n`)

const port = {
  tls: 443,
  raw: 80,
  ecsSocatTls: 7443,
  ecsSocatRaw: 7080,
  relayTls: 8443,
  relayRaw: 8080,
  tinyproxy: 3128,
  sshd: 22,
  socatTls: 6443,
  socatRaw: 6080,
  socatOneHop: 5443,
  nodePipe: 4443,
  epollHop: 3443,
  epollTwoHops: 3444,
  sshL: 2443,
}

function startTunnel(label, dist, mode, upstream) {
  return startChild({
    name: `tunnel ${label}`,
    command: process.execPath,
    args: [...(options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`]), join(here, 'tunnel-host.mjs'), JSON.stringify({ dist, mode, name, upstream })],
    ready: 'json',
    timeoutMs: 30_000,
  })
}

async function main() {
  // The part passes a folder it removes itself (also when this process is killed); standalone, make one here.
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'acrb-bench-tunnel-')))
  try {
    return await measure(dir)
  } finally {
    await stopAll()
    if (options.dir === undefined) await rm(dir, { recursive: true, force: true })
  }
}

async function measure(dir) {
  const started = Date.now()
  progress('starting the origin, socat, the relay, tinyproxy, sshd and ssh -L')
  const { keyPath, certPath, ca } = await makeCertificate(dir, name)
  await startOrigin({ tlsPort: port.tls, rawPort: port.raw, keyPath, certPath })
  const pidOf = {}
  for (const [listen, target] of [
    [port.ecsSocatTls, port.tls],
    [port.ecsSocatRaw, port.raw],
    [port.socatTls, port.ecsSocatTls],
    [port.socatRaw, port.ecsSocatRaw],
    [port.socatOneHop, port.tls],
  ]) {
    pidOf[`socat :${listen}`] = (await startSocat(listen, target)).pid
  }
  const relay = await startChild({
    name: 'relay',
    command: process.execPath,
    args: [
      join(here, 'relay-host.mjs'),
      JSON.stringify({ dist: options.dist, host: '127.0.0.1', port: port.relayTls, httpPort: port.relayRaw, allow: [name], loopback: ['127.0.0.1'] }),
    ],
    ready: 'json',
  })
  pidOf.relay = relay.pid
  const nodePipe = await startChild({
    name: 'node pipe',
    command: process.execPath,
    args: [join(here, 'node-pipe.mjs'), JSON.stringify({ port: port.nodePipe, target: port.tls })],
    ready: 'json',
  })
  pidOf['node pipe'] = nodePipe.pid
  const epollHopPath = join(dir, 'epoll-hop')
  await runChecked('cc', ['-O2', '-o', epollHopPath, join(here, 'epoll-hop.c')])
  const epollHop = await startChild({ name: 'epoll hop', command: epollHopPath, args: [String(port.epollHop), String(port.tls)], ready: 'json' })
  pidOf['epoll hop'] = epollHop.pid
  const epollFirstHop = await startChild({ name: 'epoll first hop', command: epollHopPath, args: [String(port.epollTwoHops), String(port.epollHop)], ready: 'json' })
  pidOf['epoll first hop'] = epollFirstHop.pid
  await startTinyproxy(dir, port.tinyproxy)
  const { clientKey, knownHostsPath } = await startSshd(dir, port.sshd)
  const sshL = await startSshL({ listenPort: port.sshL, name, targetPort: port.tls, sshPort: port.sshd, clientKey, knownHostsPath })
  pidOf['ssh -L'] = sshL.pid

  const upstreams = {
    sni: { host: '127.0.0.1', port: port.ecsSocatTls, httpPort: port.ecsSocatRaw },
    // No ECS hop: the sni dialer's raw TCP goes straight to the origin, the tunnel's own cost (as socat 1 hop).
    sniOrigin: { host: '127.0.0.1', port: port.tls, httpPort: port.raw },
    sniRelay: { host: '127.0.0.1', port: port.relayTls, httpPort: port.relayRaw },
    connect: { host: '127.0.0.1', port: port.tinyproxy },
    ssh: { host: '127.0.0.1', port: port.sshd, username: 'root', privateKeyPath: clientKey, knownHostsPath },
  }
  const modeOf = { sni: 'sni', sniOrigin: 'sni', sniRelay: 'sni', connect: 'connect', ssh: 'ssh' }
  const tunnels = {}
  const dists = [['', options.dist]]
  if (options.baselineDist !== undefined) dists.push([' (before)', options.baselineDist])
  for (const [suffix, dist] of dists) {
    for (const key of Object.keys(upstreams)) {
      if (suffix !== '' && key === 'sniOrigin') continue
      const child = await startTunnel(`${key}${suffix}`, dist, modeOf[key], upstreams[key])
      tunnels[`${key}${suffix}`] = child.ready
    }
  }

  // ---- the paths --------------------------------------------------------------------------------------------
  const tlsPaths = [
    { name: 'direct', port: port.tls },
    { name: 'socat', port: port.socatTls, cpu: pidOf[`socat :${port.socatTls}`], group: 'sni' },
    { name: 'socat 1 hop', port: port.socatOneHop, cpu: pidOf[`socat :${port.socatOneHop}`], group: 'one hop' },
    { name: 'sni', port: tunnels.sni.port, cpu: tunnels.sni.pid, group: 'sni' },
    { name: 'node pipe 1 hop', port: port.nodePipe, cpu: pidOf['node pipe'], group: 'one hop' },
    { name: 'C epoll 1 hop', port: port.epollHop, cpu: pidOf['epoll hop'], cpuShared: true, group: 'one hop' }, // also the ECS hop of 'C epoll 2 hops'
    // CPU: the first hop's only (the second is also 'C epoll 1 hop'), as socat's laptop side in 'socat'
    { name: 'C epoll 2 hops', port: port.epollTwoHops, cpu: pidOf['epoll first hop'], group: 'sni' },
    { name: 'sni, no ECS hop', port: tunnels.sniOrigin.port, cpu: tunnels.sniOrigin.pid, group: 'one hop' },
    { name: 'relay alone', port: port.relayTls, cpu: pidOf.relay, cpuShared: true, group: 'relay' }, // also the ECS hop of 'sni via relay'
    { name: 'sni via relay', port: tunnels.sniRelay.port, cpu: tunnels.sniRelay.pid, group: 'relay' },
    { name: 'connect', port: tunnels.connect.port, cpu: tunnels.connect.pid },
    { name: 'ssh', port: tunnels.ssh.port, cpu: tunnels.ssh.pid, group: 'ssh' },
    { name: 'ssh -L', port: port.sshL, cpu: pidOf['ssh -L'], group: 'ssh' },
  ]
  const rawPaths = [
    { name: 'direct', port: port.raw },
    { name: 'socat', port: port.socatRaw, cpu: pidOf[`socat :${port.socatRaw}`], group: 'raw' },
    { name: 'tunnel', port: tunnels.sni.httpPort, cpu: tunnels.sni.pid, group: 'raw' },
    { name: 'tunnel via relay', port: tunnels.sniRelay.httpPort, cpu: tunnels.sniRelay.pid, group: 'raw' },
  ]
  for (const [suffix] of dists.slice(1)) {
    tlsPaths.push(
      { name: `sni${suffix}`, port: tunnels[`sni${suffix}`].port, cpu: tunnels[`sni${suffix}`].pid, group: 'sni' },
      { name: `ssh${suffix}`, port: tunnels[`ssh${suffix}`].port, cpu: tunnels[`ssh${suffix}`].pid, group: 'ssh' },
    )
    rawPaths.push({ name: `tunnel${suffix}`, port: tunnels[`sni${suffix}`].httpPort, cpu: tunnels[`sni${suffix}`].pid, group: 'raw' })
  }
  if (options.paths !== undefined) {
    // Development: measure only the named paths (TLS and raw names; raw ones as "raw <name>").
    const keep = new Set(options.paths)
    for (const list of [tlsPaths, rawPaths]) {
      const kept = list.filter((p) => keep.has(list === rawPaths ? `raw ${p.name}` : p.name))
      list.splice(0, list.length, ...kept)
    }
  }
  const latencyPaths = tlsPaths
  const only = options.only === undefined ? undefined : new Set(options.only)
  const want = (part) => only === undefined || only.has(part)

  // Warm-up: JIT, session caches, sshd's first channels; failures here name the broken path early.
  progress('warm-up')
  for (const p of tlsPaths) {
    await tlsDownload({ port: p.port, name, ca, bytes: 8 * 1024 * 1024 }).catch((error) => {
      throw new Error(`TLS path ${p.name} does not work: ${error.message}`)
    })
    await latencySeries({ port: p.port, name, ca, count: 20 })
  }
  for (const p of rawPaths) {
    await rawDownload({ port: p.port, name, bytes: 8 * 1024 * 1024 }).catch((error) => {
      throw new Error(`raw path ${p.name} does not work: ${error.message}`)
    })
  }

  const result = { rounds, tlsMiB: tlsBytes / 1048576, rawMiB: rawBytes / 1048576, latencyCount, concurrentCount, tls: {}, raw: {}, latency: {}, concurrent: {} }
  const attempt = async (fn) => {
    try {
      return await fn()
    } catch (error) {
      return { error: error.message }
    }
  }

  if (want('throughput')) {
    progress(`throughput: ${rounds} interleaved rounds (compared paths back to back), TLS ${tlsBytes / 1048576} MiB and raw ${rawBytes / 1048576} MiB per transfer`)
    const cases = [...tlsPaths.map((p) => ({ ...p, kind: 'tls' })), ...rawPaths.map((p) => ({ ...p, kind: 'raw', name: `raw ${p.name}` }))]
    const cpu = new Map(cases.map((c) => [c.name, { seconds: 0, bytes: 0 }]))
    const samples = await interleaveGroups(
      groupCases(cases),
      rounds,
      (c) =>
        attempt(async () => {
          const cpuBefore = c.cpu === undefined ? 0 : readCpuSeconds(c.cpu)
          const r = c.kind === 'tls' ? await tlsDownload({ port: c.port, name, ca, bytes: tlsBytes }) : await rawDownload({ port: c.port, name, bytes: rawBytes })
          if (c.cpu !== undefined) {
            // socat's forked child is counted in its parent once reaped: give it a moment.
            await new Promise((resolve) => setTimeout(resolve, 100))
            const account = cpu.get(c.name)
            account.seconds += readCpuSeconds(c.cpu) - cpuBefore
            account.bytes += r.bytes
          }
          return mibPerSecond(r.bytes, r.ms)
        }),
      (round) => progress(`  throughput round ${round + 1}/${rounds}`),
    )
    for (const c of cases) {
      const values = samples.get(c.name)
      const errors = values.filter((v) => typeof v !== 'number')
      const numbers = values.filter((v) => typeof v === 'number')
      const account = cpu.get(c.name)
      const entry = {
        samples: numbers,
        // Aligned with the rounds (null where that round failed), for ratios within a round.
        perRound: values.map((v) => (typeof v === 'number' ? v : null)),
        median: median(numbers),
        ...(account.bytes > 0 ? { cpuSecondsPerGiB: account.seconds / (account.bytes / 2 ** 30) } : {}),
        ...(errors.length > 0 ? { error: errors[0].error, failures: errors.length } : {}),
      }
      if (c.kind === 'tls') result.tls[c.name] = entry
      else result.raw[c.name.slice(4)] = entry
    }
  }

  if (want('latency')) {
    const perRound = Math.ceil(latencyCount / rounds / latencyBatch) * latencyBatch
    progress(`latency: ${perRound * rounds} sequential connections per path in ${rounds} rounds, the paths taking turns every ${latencyBatch} connections`)
    const samples = new Map(latencyPaths.map((p) => [p.name, { all: [], roundMedians: [], errors: [] }]))
    const cpu = new Map(latencyPaths.map((p) => [p.name, { seconds: 0, connections: 0 }]))
    // CPU is read before and after each batch. A process that serves only its own path keeps its time between
    // its batches as well (socat reaps a forked child a moment after the client saw it close); a process that
    // is also a hop of another path (the relay) counts only the time of its own batches.
    const lastCpu = new Map()
    for (const p of latencyPaths) if (p.cpu !== undefined) lastCpu.set(p.cpu, readCpuSeconds(p.cpu))
    const sharedCpu = new Set(latencyPaths.filter((p) => p.cpuShared === true).map((p) => p.cpu))
    for (let round = 0; round < rounds; round++) {
      progress(`  latency round ${round + 1}/${rounds}`)
      const inRound = new Map(latencyPaths.map((p) => [p.name, []]))
      for (let turn = 0; turn < perRound / latencyBatch; turn++) {
        // Every turn runs one batch per path, starting one path later than the turn before.
        for (const p of rotated(latencyPaths, turn + round)) {
          const entry = samples.get(p.name)
          if (entry.errors.length > 0) continue // a broken path fails once, not in every turn
          const before = p.cpu === undefined ? 0 : sharedCpu.has(p.cpu) ? readCpuSeconds(p.cpu) : lastCpu.get(p.cpu)
          try {
            const series = await latencySeries({ port: p.port, name, ca, count: latencyBatch })
            inRound.get(p.name).push(...series)
            entry.all.push(...series)
            if (p.cpu !== undefined) {
              const after = readCpuSeconds(p.cpu)
              const account = cpu.get(p.name)
              account.seconds += after - before
              account.connections += series.length
              lastCpu.set(p.cpu, after)
            }
          } catch (error) {
            entry.errors.push(error.message)
          }
        }
      }
      for (const p of latencyPaths) if (inRound.get(p.name).length > 0) samples.get(p.name).roundMedians.push(median(inRound.get(p.name)))
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (const p of latencyPaths) {
      if (p.cpu === undefined || sharedCpu.has(p.cpu)) continue
      cpu.get(p.name).seconds += readCpuSeconds(p.cpu) - lastCpu.get(p.cpu)
    }
    for (const p of latencyPaths) {
      const { all, roundMedians, errors } = samples.get(p.name)
      const account = cpu.get(p.name)
      result.latency[p.name] = {
        count: all.length,
        p50: percentile(all, 50),
        p99: percentile(all, 99),
        roundMedians,
        ...(account.connections > 0 ? { cpuMsPerConnection: (account.seconds * 1000) / account.connections } : {}),
        ...(errors.length > 0 ? { error: errors[0], failures: errors.length } : {}),
      }
    }
  }

  if (want('concurrent')) {
    for (const key of ['sniRelay', 'connect', 'ssh']) {
      const label = { sniRelay: 'sni via relay', connect: 'connect', ssh: 'ssh' }[key]
      progress(`concurrency: ${concurrentCount} connections through a fresh tunnel (${label})`)
      const child = await startTunnel(`${key} (concurrency)`, options.dist, modeOf[key], upstreams[key])
      try {
        await latencySeries({ port: child.ready.port, name, ca, count: 20 })
        const idle = readMemory(child.pid)
        let peakRss = idle.rssKiB
        const sampler = setInterval(() => {
          try {
            peakRss = Math.max(peakRss, readMemory(child.pid).rssKiB)
          } catch {
            // the process is gone: the result below says so
          }
        }, 50)
        let held
        const outcome = await concurrentEchoes({
          port: child.ready.port,
          name,
          ca,
          count: concurrentCount,
          whileOpen: async () => {
            await new Promise((r) => setTimeout(r, 500))
            held = readMemory(child.pid)
          },
        }).finally(() => clearInterval(sampler))
        const after = readMemory(child.pid)
        result.concurrent[label] = {
          ...outcome,
          idleRssMiB: idle.rssKiB / 1024,
          heldRssMiB: held.rssKiB / 1024,
          peakRssMiB: Math.max(peakRss, after.hwmKiB) / 1024,
          afterRssMiB: after.rssKiB / 1024,
        }
      } catch (error) {
        result.concurrent[label] = { error: error.message, failures: concurrentCount }
      } finally {
        await child.stop()
      }
    }
  }

  result.seconds = (Date.now() - started) / 1000
  return result
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    process.exit(0)
  },
  (error) => {
    process.stderr.write(`[tunnel-bench] failed: ${error.stack ?? error}\n`)
    process.exit(1)
  },
)
process.on('SIGTERM', () => {
  void stopAll().finally(() => process.exit(143))
})
