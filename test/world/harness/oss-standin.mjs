// VPC-world OSS stand-in, run in the `vpc` namespace as a plain-JS child: `node oss-standin.mjs <config.json>`.
// HTTPS on :443 (one certificate per served name, chosen by SNI and read at every handshake) and plain HTTP on :80.
// Prints `READY` once both listen, then one JSON line per request (the harness parses them: ossRequests()).
//
//   GET /                                                    403 AccessDenied XML (ACR-FACTS §4), like anonymous ListBuckets
//   GET|HEAD /docker/registry/v2/blobs/sha256/<aa>/<hex>/data  the file at the same path under the registry's storage
//                                                            root (what distribution's `redirect` middleware puts in
//                                                            the Location path); the query string is ignored
//   anything else                                            404 NoSuchKey XML
import { randomBytes } from 'node:crypto'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { join } from 'node:path'
import { createSecureContext } from 'node:tls'

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const BLOB_PATH = /^\/docker\/registry\/v2\/blobs\/sha256\/([0-9a-f]{2})\/([0-9a-f]{64})\/data$/

function requestId() {
  return randomBytes(12).toString('hex').toUpperCase()
}

function xmlError(code, message, id, extra = '') {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n' +
    `  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <RequestId>${id}</RequestId>\n` +
    `  <HostId>aliyuncs.com</HostId>\n${extra}</Error>\n`
  )
}

function log(entry) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`)
}

function handler(scheme, port) {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://oss.invalid')
    const host = (req.headers.host ?? '').replace(/:\d+$/, '')
    const id = requestId()
    const entry = {
      scheme,
      port,
      host,
      sni: req.socket.servername || null,
      method: req.method,
      path: url.pathname,
      hasQuery: url.search.length > 0,
    }
    // bytes: body bytes handed to the connection; complete: all of the declared body was (a client that has read
    // Content-Length bytes may close before the server sees 'finish', so writableFinished alone would be wrong)
    let bytes = 0
    let expected = 0
    res.on('close', () => log({ ...entry, status: res.statusCode, bytes, complete: bytes === expected }))
    const xml = (status, body) => {
      res.writeHead(status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
        'x-oss-request-id': id,
        server: 'AliyunOSS',
      })
      if (req.method === 'HEAD') return res.end()
      expected = Buffer.byteLength(body)
      bytes = expected
      res.end(body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return xml(405, xmlError('MethodNotAllowed', 'The specified method is not allowed against this resource.', id))
    }
    if (url.pathname === '/') {
      return xml(
        403,
        xmlError('AccessDenied', 'Anonymous access is forbidden for this operation.', id,
          '  <EC>0003-00001201</EC>\n  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0003-00001201</RecommendDoc>\n'),
      )
    }
    const m = BLOB_PATH.exec(url.pathname)
    const noSuchKey = () =>
      xml(404, xmlError('NoSuchKey', 'The specified key does not exist.', id, `  <Key>${url.pathname.slice(1)}</Key>\n`))
    if (!m || m[2].slice(0, 2) !== m[1]) return noSuchKey()
    const file = join(config.storageRoot, url.pathname)
    let size
    try {
      const st = statSync(file)
      if (!st.isFile()) return noSuchKey()
      size = st.size
    } catch {
      return noSuchKey()
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': size,
      etag: `"${m[2].slice(0, 32).toUpperCase()}"`,
      'x-oss-request-id': id,
      server: 'AliyunOSS',
    })
    if (req.method === 'HEAD') return res.end()
    expected = size
    const stream = createReadStream(file)
    stream.on('data', (chunk) => {
      bytes += chunk.length
    })
    stream.on('error', () => res.destroy())
    stream.pipe(res)
  }
}

const names = Object.keys(config.certs)
const contextFor = (name) => {
  const f = config.certs[name]
  return createSecureContext({ cert: readFileSync(f.cert), key: readFileSync(f.key) })
}
const first = config.certs[names[0]]
const https = createHttpsServer(
  {
    cert: readFileSync(first.cert),
    key: readFileSync(first.key),
    SNICallback: (servername, cb) => {
      try {
        cb(null, contextFor(names.includes(servername) ? servername : names[0]))
      } catch (e) {
        cb(e)
      }
    },
  },
  handler('https', config.httpsPort),
)
https.on('tlsClientError', (e) => log({ event: 'tls-client-error', error: e.code ?? e.message }))
const http = createHttpServer(handler('http', config.httpPort))

let listening = 0
const ready = () => {
  listening += 1
  if (listening === 2) {
    log({ event: 'listening', address: config.address, ports: [config.httpsPort, config.httpPort] })
    process.stdout.write('READY\n')
  }
}
https.listen(config.httpsPort, config.address, ready)
http.listen(config.httpPort, config.address, ready)

const stop = () => {
  let open = 2
  const done = () => {
    open -= 1
    if (open === 0) process.exit(0)
  }
  https.close(done)
  http.close(done)
  https.closeAllConnections()
  http.closeAllConnections()
  setTimeout(() => process.exit(0), 1000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// The harness keeps our stdin open; if the test process dies without dispose(), stdin ends and we stop too.
if (config.stopWhenStdinEnds) {
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
}
