// Runs our ECS relay (the BUILT core: <dist>/electron/core/relay) in its own process: the "ECS" hop of sni mode.
//
// argv[2]: JSON {dist, host, port, httpPort, allow: [names], loopback: [addresses]}
// Prints {"ready":true} once listening. SIGTERM or stdin closing: closes it and exits.

import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const options = JSON.parse(process.argv[2])
const { startRelay } = await import(pathToFileURL(join(options.dist, 'electron', 'core', 'relay', 'relay.js')).href)

const relay = await startRelay({
  listen: { host: options.host, port: options.port },
  httpListen: { host: options.host, port: options.httpPort },
  allow: options.allow,
  allowLoopbackAddresses: options.loopback,
  maxConnections: 4096,
  logger: { error: (m, e) => console.error(m, e ?? ''), warn: (m, e) => console.error(m, e ?? ''), info() {}, debug() {} },
})

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await relay.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.stdin.on('end', () => void stop())
process.stdin.resume()
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`)
