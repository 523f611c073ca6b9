// One HTTP(S) request from inside a namespace: `node http-probe.mjs` reads a JSON spec on stdin and prints one JSON
// result on stdout. Redirects are never followed. Used by VpcWorld.request().
//
// spec: { url, method?, headers?, basicAuth?: {username, password}, caFile?, servername?, connectTo?: {host, port},
//         timeoutMs?, maxBodyBytes? }
// result: { ok: true, status, headers, body, bodyBytes, tls?: { authorized, authorizationError, subjectAltName } }
//       | { ok: false, error: { code, message } }
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

const chunks = []
for await (const c of process.stdin) chunks.push(c)
const spec = JSON.parse(Buffer.concat(chunks).toString('utf8'))

function done(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
}

const url = new URL(spec.url)
const isHttps = url.protocol === 'https:'
const headers = { ...(spec.headers ?? {}) }
if (spec.basicAuth) {
  headers.authorization = `Basic ${Buffer.from(`${spec.basicAuth.username}:${spec.basicAuth.password}`).toString('base64')}`
}
const options = {
  method: spec.method ?? 'GET',
  headers,
  agent: false,
  timeout: spec.timeoutMs ?? 10_000,
}
if (spec.connectTo) {
  options.host = spec.connectTo.host
  options.port = spec.connectTo.port
  options.path = `${url.pathname}${url.search}`
  options.headers.host = url.host
} else {
  options.host = url.hostname.replace(/^\[|\]$/g, '')
  options.port = url.port || (isHttps ? 443 : 80)
  options.path = `${url.pathname}${url.search}`
}
if (isHttps) {
  if (spec.caFile) options.ca = readFileSync(spec.caFile)
  options.servername = spec.servername ?? (/^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname)
  options.rejectUnauthorized = true
}
const max = spec.maxBodyBytes ?? 256 * 1024
const req = (isHttps ? httpsRequest : httpRequest)(options, (res) => {
  const body = []
  let bytes = 0
  res.on('data', (c) => {
    if (bytes < max) body.push(c)
    bytes += c.length
  })
  res.on('end', () => {
    const socket = res.socket
    const cert = isHttps && socket.getPeerCertificate ? socket.getPeerCertificate() : undefined
    done({
      ok: true,
      status: res.statusCode,
      headers: res.headers,
      body: Buffer.concat(body).subarray(0, max).toString('utf8'),
      bodyBytes: bytes,
      tls: isHttps
        ? { authorized: socket.authorized, authorizationError: socket.authorizationError ?? null, subjectAltName: cert?.subjectaltname ?? null }
        : undefined,
    })
  })
  res.on('error', (e) => done({ ok: false, error: { code: e.code ?? 'ERROR', message: e.message } }))
})
req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })))
req.on('error', (e) => done({ ok: false, error: { code: e.code ?? 'ERROR', message: e.message } }))
req.end()
