// VPC-world token service: the realm of the distribution token spec (ACR-FACTS §3), run in the `vpc` namespace as a
// plain-JS child process: `node token-service.mjs <config.json>`. Prints `READY` once listening, then one JSON line
// per request (never the password).
//
// GET /auth?service=<s>&scope=<type:name:actions>[&scope=...] with Basic auth for the configured user returns
// { token, access_token, expires_in, issued_at }. No credentials, or wrong ones: 401. Unknown service: 400.
// Grants pull/push on any requested repository (the intersection with what was asked), nothing else.
//
// How distribution 2.8 accepts the JWT: its verifier (registry/auth/token/token.go, VerifySigningKey) takes the
// signing key from the JWS header: an `x5c` chain verified against rootcertbundle, a `jwk`, or a `kid` looked up among
// the public keys of the rootcertbundle certificates, each keyed by its libtrust key id. We use `kid`: the libtrust id
// is SHA-256 over the DER SubjectPublicKeyInfo, first 30 bytes, base32 (no padding), in 12 groups of 4 joined by ':'.
// The signer's self-signed certificate is the registry's rootcertbundle. ES256 signatures are raw r||s (JWS), hence
// dsaEncoding 'ieee-p1363'. Claims: iss = configured issuer, aud = service (a string), sub, iat, nbf (iat - 300 as ACR
// does), exp (iat + expiresIn), jti, access.
import { createHash, createPrivateKey, randomBytes, sign, timingSafeEqual, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { createSecureContext } from 'node:tls'

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
function base32(bytes) {
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}

export function libtrustKeyId(publicKey) {
  const der = publicKey.export({ type: 'spki', format: 'der' })
  const id = base32(createHash('sha256').update(der).digest().subarray(0, 30))
  return id.match(/.{4}/g).join(':')
}

const signerCert = new X509Certificate(readFileSync(config.signingCertFile))
const signerKey = createPrivateKey(readFileSync(config.signingKeyFile))
const kid = libtrustKeyId(signerCert.publicKey)
const b64url = (buf) => Buffer.from(buf).toString('base64url')

function issueToken(subject, access, now) {
  const header = { typ: 'JWT', alg: 'ES256', kid }
  const claims = {
    iss: config.issuer,
    sub: subject,
    aud: config.service,
    exp: now + config.expiresIn,
    nbf: now - 300,
    iat: now,
    jti: randomBytes(16).toString('hex'),
    access,
  }
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
  const signature = sign('sha256', Buffer.from(input), { key: signerKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${b64url(signature)}`
}

function parseScopes(values) {
  const out = []
  for (const value of values) {
    for (const scope of value.split(' ').filter(Boolean)) {
      const first = scope.indexOf(':')
      const last = scope.lastIndexOf(':')
      if (first <= 0 || last <= first) continue
      out.push({
        type: scope.slice(0, first),
        name: scope.slice(first + 1, last),
        actions: scope.slice(last + 1).split(',').filter(Boolean),
      })
    }
  }
  return out
}

const GRANTABLE = new Set(['pull', 'push'])
function grant(scopes) {
  const access = []
  for (const s of scopes) {
    if (s.type !== 'repository') continue
    const actions = [...new Set(s.actions.filter((a) => GRANTABLE.has(a)))]
    if (actions.length > 0) access.push({ type: 'repository', name: s.name, actions })
  }
  return access
}

function equal(a, b) {
  const x = Buffer.from(String(a))
  const y = Buffer.from(String(b))
  return x.length === y.length && timingSafeEqual(x, y)
}

function credentials(header) {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '')
  if (!m) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i < 0) return { username: decoded, password: '' }
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) }
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function log(entry) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`)
}

function handle(req, res) {
  const url = new URL(req.url ?? '/', 'https://token.invalid')
  const host = (req.headers.host ?? '').replace(/:\d+$/, '')
  const base = { method: req.method, host, sni: req.socket.servername || null, path: url.pathname }
  if (url.pathname !== '/auth' || req.method !== 'GET') {
    log({ ...base, status: 404 })
    return send(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] })
  }
  const challenge = { 'www-authenticate': `Basic realm="${config.basicRealm}"` }
  const creds = credentials(req.headers.authorization)
  if (!creds) {
    log({ ...base, status: 401, outcome: 'anonymous' })
    return send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, challenge)
  }
  if (!equal(creds.username, config.username) || !equal(creds.password, config.password)) {
    log({ ...base, status: 401, outcome: 'bad-credentials', user: creds.username })
    return send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }, challenge)
  }
  const service = url.searchParams.get('service')
  if (service !== config.service) {
    log({ ...base, status: 400, outcome: 'unknown-service', service })
    return send(res, 400, { errors: [{ code: 'INVALID_REQUEST', message: `unknown service ${JSON.stringify(service)}` }] })
  }
  const scopes = parseScopes(url.searchParams.getAll('scope'))
  const access = grant(scopes)
  const now = Math.floor(Date.now() / 1000)
  const token = issueToken(creds.username, access, now)
  log({ ...base, status: 200, outcome: 'token', user: creds.username, service, access })
  send(res, 200, {
    token,
    access_token: token,
    expires_in: config.expiresIn,
    issued_at: new Date(now * 1000).toISOString(),
  })
}

// One certificate per served name, read from the active files at every handshake (so the harness can switch
// a name to the wrong-name certificate without a restart).
function contextFor(name) {
  const files = config.certs[name]
  return createSecureContext({ cert: readFileSync(files.cert), key: readFileSync(files.key) })
}

const names = Object.keys(config.certs)
const server = createServer(
  {
    ...(() => {
      const f = config.certs[names[0]]
      return { cert: readFileSync(f.cert), key: readFileSync(f.key) }
    })(),
    SNICallback: (servername, cb) => {
      try {
        const name = names.includes(servername) ? servername : names[0]
        cb(null, contextFor(name))
      } catch (e) {
        cb(e)
      }
    },
  },
  handle,
)
server.on('tlsClientError', (e) => log({ event: 'tls-client-error', error: e.code ?? e.message }))
server.listen(config.port, config.address, () => {
  log({ event: 'listening', address: config.address, port: config.port, kid })
  process.stdout.write('READY\n')
})
const stop = () => {
  server.close(() => process.exit(0))
  server.closeAllConnections()
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
