// The "VPC" behind the test host's ECS: one loopback origin that answers as ACR's services do, by name (TLS SNI and
// the HTTP Host header), on ports 443 and 80 of a random 127.x.y.z address of its own:
//   registry names   GET /v2/  → 401 with `WWW-Authenticate: Bearer realm="https://<its token service>/auth",…`
//   token services   GET /auth → 401 with a JSON body (a token request without credentials)
//   OSS names        GET /     → 403 with OSS's AccessDenied XML (also on port 80: Personal Edition buckets)
// Its certificate is made by openssl for every catalog region (`*.<region>.aliyuncs.com`, `….cr.aliyuncs.com`,
// `….personal.cr.aliyuncs.com`, `*.aliyuncs.com`), signed by a throw-away CA that only the host's probes trust.

import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { regions } from '../../../electron/core/catalog/index.js'
import { roleFromShape } from '../../../electron/core/probes/name-role.js'
import { listen, makeCerts, type Certs } from '../../integration/tunnel/peers.js'

export interface AcrOrigin {
  readonly address: string
  readonly certs: Certs
  /** Requests answered, newest last: `<host> <method> <path>`. */
  readonly requests: readonly string[]
  close(): Promise<void>
}

/** Every name the catalog can yield, as wildcard SANs (a wildcard covers one label, so one per region and suffix). */
export function originCertificateNames(): string[] {
  const names = ['*.aliyuncs.com']
  for (const region of regions) {
    names.push(`*.${region.id}.aliyuncs.com`, `*.${region.id}.cr.aliyuncs.com`, `*.${region.id}.personal.cr.aliyuncs.com`)
  }
  return names
}

/** The token service a registry name sends its clients to (a stand-in for what ACR's challenges name). */
export function realmHostFor(registry: string): string {
  const name = registry.toLowerCase()
  const region = /^registry(-intl)?(-vpc|-internal)?\.([a-z0-9-]+)\.aliyuncs\.com$/.exec(name)
  if (region !== null) return `dockerauth${region[2] === '-vpc' ? '-vpc' : ''}.${region[3]}.aliyuncs.com`
  const enterprise = /^[a-z0-9-]+-registry(-vpc)?\.([a-z0-9-]+)\.cr\.aliyuncs\.com$/.exec(name)
  if (enterprise !== null) return `dockerauth-ee${enterprise[1] ?? ''}.${enterprise[2]}.aliyuncs.com`
  const personal = /^crpi-[a-z0-9]+(-vpc)?\.([a-z0-9-]+)\.personal\.cr\.aliyuncs\.com$/.exec(name)
  if (personal !== null) return `dockerauth${personal[1] ?? ''}-${personal[2]}.aliyuncs.com`
  return `dockerauth.${name.split('.').slice(1).join('.')}`
}

const accessDenied = (host: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>AccessDenied</Code>\n  <Message>You have no right to access this object because of bucket acl.</Message>\n  <HostId>${host}</HostId>\n</Error>\n`

function answer(req: IncomingMessage, res: ServerResponse, requests: string[], tls: boolean): void {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase()
  const path = new URL(req.url ?? '/', 'http://x').pathname
  requests.push(`${host} ${req.method ?? ''} ${req.url ?? ''}`)
  const role = tls ? roleFromShape(host) : 'oss'
  res.setHeader('connection', 'close')
  if (role === 'registry' && path.startsWith('/v2/')) {
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': `Bearer realm="https://${realmHostFor(host)}/auth",service="registry.aliyuncs.com:stand-in"`,
    })
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}\n')
    return
  }
  if (role === 'auth' && path === '/auth') {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end('{"code":"UNAUTHORIZED","message":"authentication required"}\n')
    return
  }
  if (role === 'oss') {
    res.writeHead(403, { 'content-type': 'application/xml', server: 'AliyunOSS' })
    res.end(accessDenied(host))
    return
  }
  res.writeHead(404, { 'content-type': 'text/plain' })
  res.end('not found\n')
}

export async function startAcrOrigin(address: string): Promise<AcrOrigin> {
  const certs = await makeCerts(originCertificateNames())
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  }
  const https: HttpsServer = createHttpsServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => answer(req, res, requests, true))
  const http: HttpServer = createHttpServer((req, res) => answer(req, res, requests, false))
  for (const server of [https, http]) {
    server.on('connection', track)
    server.on('clientError', (_error, socket) => socket.destroy())
  }
  https.on('tlsClientError', () => {})
  const started: (HttpServer | HttpsServer)[] = []
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy()
    await Promise.all(started.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
    const { rm } = await import('node:fs/promises')
    await rm(certs.dir, { recursive: true, force: true })
  }
  try {
    // The relay dials <name>:443 and <name>:80, so the origin holds those ports (on an address of its own).
    await listen(https, address, 443)
    started.push(https)
    await listen(http, address, 80)
    started.push(http)
  } catch (error) {
    await close()
    const code = (error as NodeJS.ErrnoException).code
    throw new Error(
      code === 'EACCES'
        ? `test prerequisite missing: the origin must bind ${address}:443 and :80, which needs root (or net.ipv4.ip_unprivileged_port_start=80)`
        : `the origin could not listen on ${address}: ${String(error)}`,
    )
  }
  return { address, certs, requests, close }
}
