// A TLS origin and a plain-HTTP origin inside the test namespace, standing in for the registry and its blob bucket
// on the far side of the tunnel. Prints one JSON line with the ports, then serves until killed.
// Usage: node origin.mjs '{"cert":"…","key":"…"}'
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'

const options = JSON.parse(process.argv[2] ?? '{}')
const https = createHttpsServer({ cert: readFileSync(options.cert), key: readFileSync(options.key) }, (request, response) => {
  response.end(`tls origin: ${request.socket.servername ?? '-'} ${request.url}\n`)
})
const http = createHttpServer((request, response) => {
  response.end(`http origin: ${request.headers.host ?? '-'} ${request.url}\n`)
})
const listen = (server) => new Promise((resolve, reject) => {
  server.once('error', reject)
  server.listen(0, '127.0.0.1', () => resolve(server.address().port))
})
const [tlsPort, httpPort] = await Promise.all([listen(https), listen(http)])
process.stdout.write(`${JSON.stringify({ ready: true, tlsPort, httpPort })}\n`)
