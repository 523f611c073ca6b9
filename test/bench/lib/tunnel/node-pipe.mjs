// The simplest Node forwarder, a reference row of the tunnel benchmark: what one Node hop costs on this machine
// before any work of ours (no SNI peek, no pool, no counters, default reads). Both legs noDelay and half-open,
// pipe() both ways, either side's error destroys both.
//
// argv[2]: JSON {port, target} (listens on 127.0.0.1:port, forwards to 127.0.0.1:target).
// Prints {"ready":true, pid, port} once listening; SIGTERM or stdin closing ends it.

import { connect, createServer } from 'node:net'

const { port, target } = JSON.parse(process.argv[2])
const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
  const upstream = connect({ host: '127.0.0.1', port: target, noDelay: true, allowHalfOpen: true })
  const both = () => {
    client.destroy()
    upstream.destroy()
  }
  client.on('error', both)
  upstream.on('error', both)
  client.pipe(upstream)
  upstream.pipe(client)
})
server.listen({ host: '127.0.0.1', port, backlog: 1024 }, () => {
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, port })}\n`)
})
process.on('SIGTERM', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
