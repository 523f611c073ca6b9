// Real peers for the tunnel's integration tests, started and stopped by the tests themselves:
// an openssl-made CA and server certificate, a Node TLS/HTTP origin, an "ECS" TCP forwarder, tinyproxy, socat.
// Everything listens on a random 127.x.y.z address of its own, so parallel runs cannot collide.

import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomInt } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { promisify } from 'node:util'

const run = promisify(execFile)

export function which(command: string): string {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const path = join(dir, command)
    if (existsSync(path)) return path
  }
  throw new Error(`test prerequisite missing: \`${command}\` is not installed (see test/run-all.mjs for the package)`)
}

/** A random loopback address outside 127.0.0.0/24, unique enough to be this run's own. */
export function randomLoopback(): string {
  return `127.${randomInt(64, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`
}

/** Closes everything registered, in reverse order, even when some closers fail. */
export class Cleanup {
  private readonly closers: (() => Promise<void> | void)[] = []
  add(closer: () => Promise<void> | void): void {
    this.closers.push(closer)
  }
  async run(): Promise<void> {
    const errors: unknown[] = []
    while (this.closers.length > 0) {
      const closer = this.closers.pop()!
      try {
        await closer()
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed')
  }
}

export interface Certs {
  readonly dir: string
  readonly caPem: string
  readonly certPem: string
  readonly keyPem: string
  /** SHA-256 of the server certificate's DER, as Node's fingerprint256 prints it. */
  readonly fingerprint256: string
}

/** A throw-away CA and a server certificate for `names` (and IP addresses `ips`), made with the openssl CLI. */
export async function makeCerts(names: readonly string[], ips: readonly string[] = []): Promise<Certs> {
  const openssl = which('openssl')
  const dir = await mkdtemp(join(tmpdir(), 'acrb-tunnel-certs-'))
  const p = (file: string): string => join(dir, file)
  await run(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=acr-bridge test CA', '-keyout', p('ca.key'), '-out', p('ca.pem')])
  await run(openssl, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', `/CN=${names[0]}`, '-keyout', p('server.key'), '-out', p('server.csr')])
  await writeFile(p('ext.cnf'), `subjectAltName=${[...names.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(',')}\nextendedKeyUsage=serverAuth\n`)
  await run(openssl, ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', p('ext.cnf'), '-out', p('server.pem')])
  const certPem = await readFile(p('server.pem'), 'utf8')
  const der = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  const fingerprint256 = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':')
  return { dir, caPem: await readFile(p('ca.pem'), 'utf8'), certPem, keyPem: await readFile(p('server.key'), 'utf8'), fingerprint256 }
}

export function listen(server: Server | HttpServer, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : port)
    })
  })
}

function closeServer(server: Server | HttpServer, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy()
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * The origin (what ACR would be): a TLS server and a plain HTTP server. The TLS side speaks a line protocol:
 *   `ECHO\n…`     echoes everything after the line until the client's FIN, then ends;
 *   `BULK <n>\n`  sends n bytes (byte i = i mod 251) and ends;
 *   `LATE <ms>\n…` reads until the client's FIN, waits ms, answers `got <bytes>` and ends.
 * The HTTP side answers every request with `host=<Host> path=<path>`.
 */
export interface Origin {
  readonly address: string
  readonly tlsPort: number
  readonly httpPort: number
  readonly connections: () => Promise<number>
  close(): Promise<void>
}

export async function startOrigin(certs: Certs, address: string, ports: { tls: number; http: number } = { tls: 0, http: 0 }): Promise<Origin> {
  const sockets = new Set<Socket>()
  const tlsServer = createTlsServer({ cert: certs.certPem, key: certs.keyPem, allowHalfOpen: true }, (socket: TLSSocket) => {
    socket.on('error', () => {})
    lineProtocol(socket)
  })
  tlsServer.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  tlsServer.on('tlsClientError', () => {})
  const httpServer = createHttpServer((req, res) => {
    res.setHeader('content-type', 'text/plain')
    res.end(`host=${req.headers.host ?? ''} path=${req.url ?? ''} connection=${req.headers.connection ?? ''}`)
  })
  httpServer.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  const tlsPort = await listen(tlsServer, address, ports.tls)
  const httpPort = await listen(httpServer, address, ports.http)
  return {
    address,
    tlsPort,
    httpPort,
    connections: () => new Promise((resolve) => tlsServer.getConnections((_e, n) => resolve(n))),
    close: async () => {
      httpServer.closeAllConnections()
      await Promise.all([closeServer(tlsServer, sockets), closeServer(httpServer, sockets)])
    },
  }
}

/** The line protocol above on any byte stream (TLS at the origin, raw TCP behind a raw forwarder). */
export function lineProtocol(socket: Socket): void {
  let head = Buffer.alloc(0)
  const ondata = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk])
    const newline = head.indexOf(0x0a)
    if (newline === -1) return
    socket.off('data', ondata)
    const [command, arg] = head.toString('latin1', 0, newline).split(' ')
    const rest = head.subarray(newline + 1)
    if (command === 'ECHO') {
      if (rest.length > 0) socket.write(rest)
      socket.on('data', (more: Buffer) => {
        if (!socket.write(more)) socket.pause()
      })
      socket.on('drain', () => socket.resume())
      socket.on('end', () => socket.end())
    } else if (command === 'BULK') {
      sendBulk(socket, Number(arg))
      socket.resume()
    } else if (command === 'LATE') {
      let received = rest.length
      socket.on('data', (more: Buffer) => (received += more.length))
      socket.on('end', () => {
        setTimeout(() => socket.end(`got ${received}`), Number(arg))
      })
    } else {
      socket.destroy()
    }
  }
  socket.on('data', ondata)
}

export function bulkByte(i: number): number {
  return i % 251
}

function sendBulk(socket: Socket, total: number): void {
  const block = Buffer.alloc(251 * 256)
  for (let i = 0; i < block.length; i++) block[i] = bulkByte(i)
  let sent = 0
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(block.length, total - sent)
      const ok = socket.write(block.subarray(0, n))
      sent += n
      if (!ok) {
        socket.once('drain', pump)
        return
      }
    }
    socket.end()
  }
  pump()
}

/**
 * A stand-in for the ECS's SNI router / Host router: a plain TCP forwarder to one fixed target, written with
 * `.pipe()` (independent of the code under test) and honouring half-close.
 */
export interface Forwarder {
  readonly address: string
  readonly port: number
  /** Connections accepted so far. */
  readonly accepted: () => number
  readonly open: () => number
  /** Resets every connection it holds now (both legs), as a restarting or crashing ECS would. */
  readonly kill: () => void
  close(): Promise<void>
}

export async function startForwarder(address: string, target: { host: string; port: number }, port = 0): Promise<Forwarder> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer({ allowHalfOpen: true }, (client) => {
    accepted += 1
    sockets.add(client)
    const upstream = netConnect({ host: target.host, port: target.port, allowHalfOpen: true })
    sockets.add(upstream)
    const destroyBoth = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', destroyBoth)
    upstream.on('error', destroyBoth)
    // A side that closed after a clean exchange (FIN both ways) leaves the other to finish flushing on its own;
    // a side that closed early (reset, destroyed) takes the other down.
    const clean = (socket: Socket): boolean => socket.readableEnded && socket.writableFinished
    client.on('close', () => {
      sockets.delete(client)
      if (!clean(client)) upstream.destroy()
    })
    upstream.on('close', () => {
      sockets.delete(upstream)
      if (!clean(upstream)) client.destroy()
    })
    client.pipe(upstream)
    upstream.pipe(client)
  })
  const bound = await listen(server, address, port)
  return {
    address,
    port: bound,
    accepted: () => accepted,
    open: () => sockets.size,
    kill: () => {
      for (const socket of sockets) socket.resetAndDestroy()
    },
    close: () => closeServer(server, sockets),
  }
}

/**
 * A raw TCP echo server (no TLS): echoes every byte as it arrives; after the client's FIN it waits `lateMs`,
 * then writes `|late` and ends. The far end for byte-level tests (half-close, leaks).
 */
export async function startRawEcho(address: string, lateMs: number): Promise<{ address: string; port: number; open: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.on('data', (chunk: Buffer) => {
      if (!socket.write(chunk)) socket.pause()
    })
    socket.on('drain', () => socket.resume())
    socket.on('end', () => {
      if (lateMs === 0) socket.end('|late')
      else setTimeout(() => socket.end('|late'), lateMs)
    })
  })
  const port = await listen(server, address)
  return { address, port, open: () => sockets.size, close: () => closeServer(server, sockets) }
}

/** Waits until something accepts TCP connections on host:port (bounded). */
export async function waitForPort(host: string, port: number, what: string, child?: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before listening`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = netConnect({ host, port })
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`)
}

export interface Child {
  readonly process: ChildProcess
  output(): string
  /** SIGKILL to the whole process group (socat forks a child per connection). */
  kill(): Promise<void>
}

/** Spawns a peer in its own process group and collects its output. */
export function spawnPeer(command: string, args: readonly string[]): Child {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.on('error', (error) => (output += `\nspawn error: ${error.message}`))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    process: child,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {
          child.kill('SIGKILL')
        }
        await exited
      }
    },
  }
}

export interface Tinyproxy {
  readonly address: string
  readonly port: number
  readonly child: Child
  close(): Promise<void>
}

/**
 * Real tinyproxy in the foreground, in a private mount namespace whose /etc/hosts (a bind mount of a temp file;
 * the machine's own file is never touched) maps the test names to the origin's loopback address.
 * The shell only runs a fixed script; the paths reach it as positional arguments.
 */
export async function startTinyproxy(options: {
  address: string
  port: number
  hosts: Readonly<Record<string, string>>
  basicAuth?: { user: string; password: string }
  connectPorts: readonly number[]
  filter?: readonly string[]
}): Promise<Tinyproxy> {
  const tinyproxy = which('tinyproxy')
  const unshare = which('unshare')
  which('mount')
  const dir = await mkdtemp(join(tmpdir(), 'acrb-tinyproxy-'))
  const hostsPath = join(dir, 'hosts')
  await writeFile(hostsPath, Object.entries(options.hosts).map(([name, ip]) => `${ip} ${name}\n`).join(''))
  const lines = [
    'User nobody',
    'Group nogroup',
    `Port ${options.port}`,
    `Listen ${options.address}`,
    `Bind ${options.address}`,
    'Timeout 60',
    'MaxClients 400',
    'LogLevel Info',
    'Allow 127.0.0.0/8',
    'DisableViaHeader Yes',
    ...options.connectPorts.map((p) => `ConnectPort ${p}`),
  ]
  if (options.basicAuth !== undefined) lines.push(`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`)
  if (options.filter !== undefined) {
    await writeFile(join(dir, 'filter'), options.filter.map((f) => `${f}\n`).join(''))
    lines.push(`Filter "${join(dir, 'filter')}"`, 'FilterURLs Off', 'FilterType ere', 'FilterDefaultDeny No')
  }
  const confPath = join(dir, 'tinyproxy.conf')
  await writeFile(confPath, `${lines.join('\n')}\n`)
  const child = spawnPeer(unshare, [
    '--mount', '--propagation', 'private', '--', 'sh', '-c',
    'mount --bind "$1" /etc/hosts && exec "$2" -d -c "$3"', 'sh', hostsPath, tinyproxy, confPath,
  ])
  try {
    await waitForPort(options.address, options.port, 'tinyproxy', child.process)
  } catch (error) {
    await child.kill()
    await rm(dir, { recursive: true, force: true })
    throw new Error(`${(error as Error).message}\n${child.output()}`)
  }
  return {
    address: options.address,
    port: options.port,
    child,
    close: async () => {
      await child.kill()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
