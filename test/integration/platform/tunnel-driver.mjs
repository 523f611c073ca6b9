// The tunnel as an unprivileged user (the test starts it under setpriv as nobody): first shows that this user may
// not bind port 443, then starts the real tunnel (the built core) on free high ports of 127.0.0.1, dialing the
// origin in sni mode. Prints one JSON line, then forwards until killed.
// Usage: node tunnel-driver.mjs <built core dir> '{"names":[{"name":…,"ports":[443]}],"origin":{"host"?:…,"port":…,"httpPort":…}}'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [coreDir, json] = process.argv.slice(2)
const options = JSON.parse(json ?? '{}')
const load = (path) => import(pathToFileURL(join(coreDir, path)).href)
const { startTunnel } = await load('tunnel/tunnel.js')
const { createSniDialer } = await load('tunnel/sni-dialer.js')

const lowPortError = await new Promise((resolve) => {
  const server = createServer()
  server.once('error', (error) => resolve(error.code))
  server.listen(443, '127.0.0.1', () => server.close(() => resolve('bound')))
})

const names = options.names.map((entry) => ({ address: '127.0.0.1', name: entry.name, ports: entry.ports, origins: [{ kind: 'extra' }] }))
const tunnel = await startTunnel({
  listen: { address: '127.0.0.1', port: 0, httpPort: 0 },
  names,
  dialer: createSniDialer({ host: options.origin.host ?? '127.0.0.1', port: options.origin.port, httpPort: options.origin.httpPort }),
})
process.stdout.write(`${JSON.stringify({ ready: true, uid: process.getuid(), lowPortError, port: tunnel.addresses.port, httpPort: tunnel.addresses.httpPort })}\n`)
const stop = () => tunnel.close({ drainMs: 0 }).then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
