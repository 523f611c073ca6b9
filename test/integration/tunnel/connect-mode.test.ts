// Mode connect against real tinyproxy (started by the test, foreground, generated config), and against a
// Node proxy that sends stream bytes in the same segment as its 200 answer.

import { rm } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isBridgeError, type BridgeError } from '../../../electron/core/errors.js'
import { createConnectDialer, parseProxyResponseHead } from '../../../electron/core/tunnel/connect-dialer.js'
import { startTunnel, type Tunnel } from '../../../electron/core/tunnel/tunnel.js'
import { Cleanup, listen, makeCerts, randomLoopback, spawnPeer, startOrigin, startTinyproxy, waitForPort, which, type Certs, type Origin, type Tinyproxy } from './peers.js'
import { collectingLogger, entry, httpGet, tlsExchange, type CollectingLogger } from './clients.js'

const registry = 'registry-vpc.cn-test.aliyuncs.com'
const bucket = 'aliregistry.oss-cn-test-internal.aliyuncs.com'
const blocked = 'registry-vpc.cn-blocked.aliyuncs.com'
const password = 'pa55-Secret-xyz'

describe('tunnel, mode connect, through real tinyproxy', () => {
  const cleanup = new Cleanup()
  let certs: Certs
  let origin: Origin
  let open: Tinyproxy
  let authed: Tinyproxy
  let tunnel: Tunnel
  let logger: CollectingLogger
  const tlsFront = randomLoopback()

  beforeAll(async () => {
    certs = await makeCerts([registry, bucket, blocked], [tlsFront])
    cleanup.add(() => rm(certs.dir, { recursive: true, force: true }))
    // The origin must sit on 443 and 80, where tinyproxy will CONNECT: on a loopback address of its own.
    origin = await startOrigin(certs, randomLoopback(), { tls: 443, http: 80 })
    cleanup.add(() => origin.close())
    const hosts = { [registry]: origin.address, [bucket]: origin.address, [blocked]: origin.address }
    open = await startTinyproxy({ address: randomLoopback(), port: 8888, hosts, connectPorts: [443, 80], filter: ['cn-blocked'] })
    cleanup.add(() => open.close())
    authed = await startTinyproxy({ address: randomLoopback(), port: 8888, hosts, connectPorts: [443, 80], basicAuth: { user: 'acr', password }, filter: ['cn-blocked'] })
    cleanup.add(() => authed.close())
    logger = collectingLogger()
    tunnel = await startTunnel({
      listen: { address: '127.0.0.1', port: 0, httpPort: 0 },
      names: [entry(registry), entry(bucket, [80, 443]), entry(blocked)],
      dialer: createConnectDialer({ host: authed.address, port: authed.port, username: 'acr', password }),
      logger,
      clientHelloDeadlineMs: 2000,
    })
    cleanup.add(() => tunnel.close())
  })

  afterAll(async () => {
    await cleanup.run()
  })

  it('dials through CONNECT: the stream reaches the origin and TLS over it verifies', async () => {
    const dialer = createConnectDialer({ host: open.address, port: open.port })
    const stream = await dialer.dial({ name: registry, port: 443 })
    const result = await tlsExchange({ port: 0, socket: stream as Socket, servername: registry, ca: certs.caPem, payload: 'ECHO\nover CONNECT', until: 12 })
    expect(result.fingerprint256).toBe(certs.fingerprint256)
    expect(result.data.toString()).toBe('over CONNECT')
  })

  it('407 without credentials → UPSTREAM_AUTH_REQUIRED with a hint to set them', async () => {
    const error = await createConnectDialer({ host: authed.address, port: authed.port }).dial({ name: registry, port: 443 }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'UPSTREAM_AUTH_REQUIRED')).toBe(true)
    expect(isBridgeError(error) && error.hint).toContain('tunnel.connect.username')
  })

  it('407 with a wrong password says the credentials were rejected, and never shows the password', async () => {
    const wrong = 'wrong-Secret-123'
    const error = await createConnectDialer({ host: authed.address, port: authed.port, username: 'acr', password: wrong })
      .dial({ name: registry, port: 443 })
      .catch((e: unknown) => e)
    expect(isBridgeError(error, 'UPSTREAM_AUTH_REQUIRED')).toBe(true)
    expect((error as Error).message).toContain('rejected')
    expect(JSON.stringify({ m: (error as Error).message, h: isBridgeError(error) ? error.hint : '' })).not.toContain(wrong)
  })

  it('a target the proxy refuses → UPSTREAM_REFUSED naming the status and the target', async () => {
    const error = await createConnectDialer({ host: open.address, port: open.port }).dial({ name: blocked, port: 443 }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'UPSTREAM_REFUSED')).toBe(true)
    expect((error as Error).message).toMatch(/ 403 /)
    expect((error as Error).message).toContain(`${blocked}:443`)
    expect(isBridgeError(error) && error.details?.['proxyStatus']).toBe(403)
  })

  it('a port the proxy does not allow → UPSTREAM_REFUSED', async () => {
    const error = await createConnectDialer({ host: open.address, port: open.port }).dial({ name: registry, port: 8443 }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'UPSTREAM_REFUSED')).toBe(true)
    expect((error as Error).message).toContain(`${registry}:8443`)
  })

  it('end to end through the tunnel with Basic auth: TLS on 443 and plain HTTP on 80', async () => {
    const result = await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nhello', until: 5 })
    expect(result.fingerprint256).toBe(certs.fingerprint256)
    expect(result.data.toString()).toBe('hello')
    const answer = await httpGet({ port: tunnel.addresses.httpPort!, path: '/blob', host: bucket })
    expect(answer).toEqual({ status: 200, body: `host=${bucket} path=/blob connection=close` })
  })

  it('a refused target drops the client and counts an error for the name; the password is never logged', async () => {
    const result = await tlsExchange({ port: tunnel.addresses.port, servername: blocked, ca: certs.caPem, payload: 'x' })
    expect(result.fingerprint256).toBeUndefined()
    const row = tunnel.stats().names.find((n) => n.name === blocked)
    expect(row).toMatchObject({ open: 0, total: 1, errors: 1 })
    expect(logger.lines.some((l) => l.startsWith('warn') && l.includes('403') && l.includes(blocked))).toBe(true)
    const base64 = Buffer.from(`acr:${password}`).toString('base64')
    for (const line of logger.lines) {
      expect(line).not.toContain(password)
      expect(line).not.toContain(base64)
    }
  })

  it('speaks TLS to the proxy when asked (socat terminating TLS in front of tinyproxy)', async () => {
    const child = spawnPeer(which('socat'), [
      `OPENSSL-LISTEN:8443,bind=${tlsFront},reuseaddr,fork,cert=${certs.dir}/server.pem,key=${certs.dir}/server.key,verify=0`,
      `TCP:${open.address}:${open.port}`,
    ])
    try {
      await waitForPort(tlsFront, 8443, 'socat TLS front', child.process)
      // With the CA of the proxy's certificate: CONNECT over TLS, then the client's own TLS inside it.
      const stream = await createConnectDialer({ host: tlsFront, port: 8443, tls: true, ca: certs.caPem }).dial({ name: registry, port: 443 })
      const result = await tlsExchange({ port: 0, socket: stream as Socket, servername: registry, ca: certs.caPem, payload: 'ECHO\ntls in tls', until: 10 })
      expect(result.fingerprint256).toBe(certs.fingerprint256)
      expect(result.data.toString()).toBe('tls in tls')
      // Without it: the proxy's certificate is not trusted.
      const failing = await createConnectDialer({ host: tlsFront, port: 8443, tls: true })
        .dial({ name: registry, port: 443 })
        .catch((e: unknown) => e)
      expect(isBridgeError(failing, 'UPSTREAM_TLS_FAILED')).toBe(true)
      expect(isBridgeError(failing) && failing.hint).toContain('caFile')
    } finally {
      await child.kill()
    }
  })
})

describe('connect dialer, response head handling', () => {
  it('keeps bytes that arrive in the same segment as the 200', async () => {
    const sockets = new Set<Socket>()
    const proxy = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\nEARLY-BYTES')
        socket.end()
      })
    })
    const port = await listen(proxy, '127.0.0.1')
    try {
      const stream = await createConnectDialer({ host: '127.0.0.1', port }).dial({ name: registry, port: 443 })
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.resume()
      await new Promise((resolve) => stream.once('end', resolve))
      expect(Buffer.concat(chunks).toString()).toBe('EARLY-BYTES')
      stream.destroy()
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  it('refuses a non-HTTP answer and times out a silent proxy', async () => {
    const sockets = new Set<Socket>()
    const proxy = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.once('data', () => {
        socket.write('SSH-2.0-OpenSSH_9.2p1\r\n\r\n')
      })
    })
    const silent = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
    })
    const port = await listen(proxy, '127.0.0.1')
    const silentPort = await listen(silent, '127.0.0.1')
    try {
      const garbage = await createConnectDialer({ host: '127.0.0.1', port }).dial({ name: registry, port: 443 }).catch((e: unknown) => e)
      expect(isBridgeError(garbage, 'UPSTREAM_REFUSED')).toBe(true)
      const timeout = await createConnectDialer({ host: '127.0.0.1', port: silentPort }).dial({ name: registry, port: 443 }, { timeoutMs: 200 }).catch((e: unknown) => e)
      expect(isBridgeError(timeout, 'UPSTREAM_UNREACHABLE')).toBe(true)
      expect((timeout as Error).message).toContain(`127.0.0.1:${silentPort}`)
      // Marked as a time limit (the probes tell timeouts by this, not by the wording).
      expect((timeout as BridgeError).details?.['timedOut']).toBe(true)
      // TLS to a proxy that never answers the handshake: the connect step's own time limit, marked the same way.
      const tlsTimeout = await createConnectDialer({ host: '127.0.0.1', port: silentPort, tls: true })
        .dial({ name: registry, port: 443 }, { timeoutMs: 200 })
        .catch((e: unknown) => e)
      expect(isBridgeError(tlsTimeout, 'UPSTREAM_UNREACHABLE')).toBe(true)
      expect((tlsTimeout as Error).message).toMatch(/did not answer within 200 ms/)
      expect((tlsTimeout as BridgeError).details?.['timedOut']).toBe(true)
    } finally {
      for (const s of sockets) s.destroy()
      await Promise.all([new Promise((r) => proxy.close(r)), new Promise((r) => silent.close(r))])
    }
  })

  it('parses status lines strictly', () => {
    expect(parseProxyResponseHead(Buffer.from('HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n'))).toMatchObject({ kind: 'status', status: 200 })
    expect(parseProxyResponseHead(Buffer.from('HTTP/1.1 407 Proxy Authentication Required\r\n'))).toEqual({ kind: 'need-more' })
    expect(parseProxyResponseHead(Buffer.from('HTTP/1.1 2000 OK\r\n\r\n'))).toMatchObject({ kind: 'invalid' })
    expect(parseProxyResponseHead(Buffer.from('HTTP/1.1 200 OK\r\n folded\r\n\r\n'))).toMatchObject({ kind: 'invalid' })
    expect(parseProxyResponseHead(Buffer.from('SSH-2.0-x'))).toMatchObject({ kind: 'invalid' })
  })
})
