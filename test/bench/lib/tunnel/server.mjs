// The origin of the tunnel benchmark (the "registry"): a TLS server and a raw TCP server on loopback.
//
// A connection starts with one request line; the server answers according to it:
//   TLS:  "send <n>\n"  → n bytes, then end.          Anything else → echo every byte, the first line included.
//   raw:  "GET /send/<n> HTTP/1.1\r\n…\r\n\r\n" → n bytes, then end (no response head: nothing parses it).
//         "GET /echo …\r\n\r\n" → echo every byte after the head.
// Bulk bytes come from one shared 1 MiB buffer, written with backpressure.
//
// argv[2]: JSON {host, tlsPort, rawPort, certPath, keyPath}. Prints {"ready":true} on stdout once both listen.

import { readFileSync } from 'node:fs'
import { createServer as createNetServer } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'

const options = JSON.parse(process.argv[2])
const block = Buffer.alloc(1024 * 1024, 0x61)

function sendBulk(socket, total) {
  let left = total
  const more = () => {
    while (left > 0) {
      const n = Math.min(left, block.length)
      left -= n
      const chunk = n === block.length ? block : block.subarray(0, n)
      if (left === 0) {
        socket.end(chunk)
        return
      }
      if (!socket.write(chunk)) {
        socket.once('drain', more)
        return
      }
    }
    socket.end()
  }
  more()
}

/** Collects bytes until `terminator`; then calls onHead(headText, restBuffer) once. */
function readHead(socket, terminator, maxBytes, onHead) {
  let buffered = Buffer.alloc(0)
  const ondata = (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    const at = buffered.indexOf(terminator)
    if (at === -1) {
      if (buffered.length > maxBytes) {
        socket.off('data', ondata)
        onHead(undefined, buffered)
      }
      return
    }
    socket.off('data', ondata)
    socket.pause()
    onHead(buffered.toString('latin1', 0, at), buffered)
    // data listeners are attached by onHead when it echoes
  }
  socket.on('data', ondata)
}

function echo(socket, already) {
  if (already.length > 0) socket.write(already)
  socket.on('data', (chunk) => {
    if (!socket.write(chunk)) socket.pause()
  })
  socket.on('drain', () => socket.resume())
  socket.on('end', () => socket.end())
  socket.resume()
}

function setup(socket) {
  socket.on('error', () => {})
  socket.setNoDelay(true)
}

const tlsServer = createTlsServer(
  { cert: readFileSync(options.certPath), key: readFileSync(options.keyPath), allowHalfOpen: true },
  (socket) => {
    setup(socket)
    readHead(socket, '\n', 64 * 1024, (line, buffered) => {
      const match = line === undefined ? null : /^send (\d+)$/.exec(line)
      if (match !== null) {
        socket.resume() // read (and drop) until the client's FIN, so the socket closes when both sides ended
        sendBulk(socket, Number(match[1]))
      } else echo(socket, buffered)
    })
  },
)
tlsServer.on('tlsClientError', () => {})

const rawServer = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  setup(socket)
  readHead(socket, '\r\n\r\n', 64 * 1024, (head, buffered) => {
    const match = head === undefined ? null : /^GET \/send\/(\d+) /.exec(head)
    if (match !== null) {
      socket.resume()
      sendBulk(socket, Number(match[1]))
    } else if (head !== undefined) echo(socket, buffered.subarray(head.length + 4))
    else socket.destroy()
  })
})

const listen = (server, port) =>
  new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: options.host, port, backlog: 2048 }, resolve)
  })

await Promise.all([listen(tlsServer, options.tlsPort), listen(rawServer, options.rawPort)])
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`)
process.on('SIGTERM', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
