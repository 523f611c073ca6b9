// Runs one tunnel (the BUILT core: <dist>/electron/core/tunnel) in its own process, so its RSS is its own.
//
// argv[2]: JSON {dist, mode: 'sni'|'connect'|'ssh', name, upstream: {...}, pool?: false}
//   pool: false turns the sni/connect dialers' warm upstream pool off (side comparisons); default: as the product
//   sni:     upstream {host, port, httpPort}
//   connect: upstream {host, port}
//   ssh:     upstream {host, port, username, privateKeyPath, knownHostsPath}
// Prints {"ready":true, port, httpPort} once listening (and, for ssh, once the SSH connection is up).
// SIGTERM or stdin closing: closes the tunnel and the dialer, then exits.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const options = JSON.parse(process.argv[2])
const load = (path) => import(pathToFileURL(join(options.dist, 'electron', 'core', 'tunnel', path)).href)

const { startTunnel } = await load('tunnel.js')
const up = options.upstream
let dialer
if (options.mode === 'sni') {
  const { createSniDialer } = await load('sni-dialer.js')
  dialer = createSniDialer({ host: up.host, port: up.port, httpPort: up.httpPort, ...(options.pool === false ? { pool: false } : {}) })
} else if (options.mode === 'connect') {
  const { createConnectDialer } = await load('connect-dialer.js')
  dialer = createConnectDialer({ host: up.host, port: up.port, ...(options.pool === false ? { pool: false } : {}) })
} else if (options.mode === 'ssh') {
  const { createSshDialer } = await load('ssh-dialer.js')
  dialer = createSshDialer({
    host: up.host,
    port: up.port,
    username: up.username,
    privateKey: readFileSync(up.privateKeyPath),
    knownHostsPath: up.knownHostsPath,
    logger: { error: (m, e) => console.error(m, e ?? ''), warn: (m, e) => console.error(m, e ?? ''), info() {}, debug() {} },
  })
  await dialer.connect({ timeoutMs: 20_000 })
} else {
  throw new Error(`unknown mode ${options.mode}`)
}

const tunnel = await startTunnel({
  listen: { address: '127.0.0.1', port: 0, httpPort: 0 },
  names: [{ address: '127.0.0.1', name: options.name, ports: [443, 80], origins: [{ kind: 'extra' }] }],
  dialer,
  logger: { error: (m, e) => console.error(m, e ?? ''), warn: (m, e) => console.error(m, e ?? ''), info() {}, debug() {} },
})

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await tunnel.close()
  await dialer.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.stdin.on('end', () => void stop())
process.stdin.resume()
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, port: tunnel.addresses.port, httpPort: tunnel.addresses.httpPort })}\n`)
