// Mode sni end to end on loopback: client → tunnel → "ECS" (a plain TCP forwarder) → TLS / HTTP origin.

import { createServer } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import { createSniDialer } from '../../../electron/core/tunnel/sni-dialer.js'
import { startTunnel, type Tunnel, type TunnelStats } from '../../../electron/core/tunnel/tunnel.js'
import { bulkByte, Cleanup, listen, makeCerts, randomLoopback, startForwarder, startOrigin, type Certs, type Forwarder, type Origin } from './peers.js'
import { collectingLogger, entry, eventually, httpGet, keepAliveConnection, proxyConnect, rawExchange, tlsExchange, type CollectingLogger } from './clients.js'

const registry = 'registry-vpc.cn-test.aliyuncs.com'
const auth = 'dockerauth-vpc.cn-test.aliyuncs.com'
const bucket = 'aliregistry.oss-cn-test-internal.aliyuncs.com'
const other = 'registry-vpc.cn-other.aliyuncs.com'

describe('tunnel, mode sni', () => {
  const cleanup = new Cleanup()
  let certs: Certs
  let origin: Origin
  let ecsTls: Forwarder
  let ecsHttp: Forwarder
  let tunnel: Tunnel
  let logger: CollectingLogger

  beforeAll(async () => {
    certs = await makeCerts([registry, auth, bucket, other])
    cleanup.add(() => rm(certs.dir, { recursive: true, force: true }))
    origin = await startOrigin(certs, randomLoopback())
    cleanup.add(() => origin.close())
    const ecs = randomLoopback()
    ecsTls = await startForwarder(ecs, { host: origin.address, port: origin.tlsPort })
    cleanup.add(() => ecsTls.close())
    ecsHttp = await startForwarder(ecs, { host: origin.address, port: origin.httpPort })
    cleanup.add(() => ecsHttp.close())
    logger = collectingLogger()
    tunnel = await startTunnel({
      listen: { address: '127.0.0.1', port: 0, httpPort: 0, proxyPort: 0 },
      names: [entry(registry), entry(auth), entry(bucket, [80, 443])],
      dialer: createSniDialer({ host: ecs, port: ecsTls.port, httpPort: ecsHttp.port }),
      logger,
      clientHelloDeadlineMs: 2000,
      statsIntervalMs: 20,
    })
    cleanup.add(() => tunnel.close())
  })

  afterAll(async () => {
    await cleanup.run()
  })

  const nameStats = (name: string) => tunnel.stats().names.find((n) => n.name === name)

  it('forwards TLS without terminating it: the client verifies the origin certificate for the name', async () => {
    const result = await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nhello through the tunnel', until: 24 })
    expect(result.error).toBeUndefined()
    expect(result.fingerprint256).toBe(certs.fingerprint256)
    expect(result.data.toString()).toBe('hello through the tunnel')
    await eventually(() => nameStats(registry)?.open === 0, 'the connection to be counted closed')
    const stats = nameStats(registry)!
    expect(stats.total).toBeGreaterThanOrEqual(1)
    expect(stats.bytesUp).toBeGreaterThan(24)
    expect(stats.bytesDown).toBeGreaterThan(24)
  })

  it('carries a bulk download intact', async () => {
    const size = 8 * 1024 * 1024
    const result = await tlsExchange({ port: tunnel.addresses.port, servername: auth, ca: certs.caPem, payload: `BULK ${size}\n` })
    expect(result.error).toBeUndefined()
    expect(result.data.length).toBe(size)
    let wrong = -1
    for (let i = 0; i < size; i++) {
      if (result.data[i] !== bulkByte(i)) {
        wrong = i
        break
      }
    }
    expect(wrong).toBe(-1)
    await eventually(() => (nameStats(auth)?.bytesDown ?? 0) >= size, 'bytes down to be counted')
  })

  it('refuses a name outside the set, counts and logs it, and never dials', async () => {
    const refusedBefore = tunnel.stats().refused['name-not-allowed']
    const result = await tlsExchange({ port: tunnel.addresses.port, servername: other, ca: certs.caPem, payload: 'ECHO\nx' })
    expect(result.fingerprint256).toBeUndefined()
    expect(result.error).toBeDefined()
    // The client is told in TLS terms: an unrecognized_name alert (or a reset, if the alert was lost).
    expect(result.error!.message).toMatch(/unrecognized name|ECONNRESET|socket disconnected/i)
    expect(tunnel.stats().refused['name-not-allowed']).toBe(refusedBefore + 1)
    expect(logger.lines.some((line) => line.includes('name-not-allowed') && line.includes(other))).toBe(true)

    // Never dials: on a tunnel of its own whose ECS sees no other traffic (the shared one's warm pool dials ahead).
    const ecs = await startForwarder(randomLoopback(), { host: origin.address, port: origin.tlsPort })
    const fresh = await startTunnel({ listen: { address: '127.0.0.1', port: 0 }, names: [entry(registry)], dialer: createSniDialer({ host: ecs.address, port: ecs.port }) })
    try {
      const refused = await tlsExchange({ port: fresh.addresses.port, servername: other, ca: certs.caPem, payload: 'ECHO\nx' })
      expect(refused.fingerprint256).toBeUndefined()
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(ecs.accepted()).toBe(0)
    } finally {
      await fresh.close()
      await ecs.close()
    }
  })

  it('routes plain HTTP by Host, only for names with port 80', async () => {
    const answer = await httpGet({ port: tunnel.addresses.httpPort!, path: '/docker/registry/v2/blobs/x?Expires=1', host: bucket })
    expect(answer).toEqual({ status: 200, body: `host=${bucket} path=/docker/registry/v2/blobs/x?Expires=1 connection=close` })

    const refused = await httpGet({ port: tunnel.addresses.httpPort!, path: '/', host: registry })
    expect(refused.status).toBe(403)
    expect(refused.body).toContain('not served over plain HTTP')
    const unknown = await httpGet({ port: tunnel.addresses.httpPort!, path: '/', host: other })
    expect(unknown.status).toBe(403)
    expect(tunnel.stats().refused['port-not-allowed']).toBeGreaterThanOrEqual(1)
  })

  it('checks every request on a kept-alive plain-HTTP connection: the same host goes on, another host closes it unanswered', async () => {
    const before = tunnel.stats().refused['other-host']
    const request = (host: string, path: string): string => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`
    const connection = await keepAliveConnection(tunnel.addresses.httpPort!)
    try {
      expect(await connection.request(request(bucket, '/one'))).toEqual({ status: 200, body: `host=${bucket} path=/one connection=` })
      // A body that reads like a request for another host is a body (Content-Length), not a request.
      const body = request(registry, '/hidden')
      const post = `POST /two HTTP/1.1\r\nHost: ${bucket}\r\nContent-Length: ${body.length}\r\n\r\n${body}`
      expect(await connection.request(post)).toEqual({ status: 200, body: `host=${bucket} path=/two connection=` })
      // Had it been forwarded, the origin would answer "host=registry…" on the bucket's upstream connection.
      expect(await connection.request(request(registry, '/three'))).toBe('closed')
    } finally {
      connection.close()
    }
    await eventually(() => tunnel.stats().refused['other-host'] === before + 1, 'the refusal to be counted')
    expect(logger.lines.some((line) => line.includes('other-host') && line.includes(`${registry}:80 on a connection for ${bucket}:80`))).toBe(true)
  })

  it('takes a live update of the name set', async () => {
    tunnel.setNames([entry(registry), entry(auth), entry(bucket, [80, 443]), entry(other)])
    const allowed = await tlsExchange({ port: tunnel.addresses.port, servername: other, ca: certs.caPem, payload: 'ECHO\nnow', until: 3 })
    expect(allowed.data.toString()).toBe('now')
    tunnel.setNames([entry(registry), entry(auth), entry(bucket, [80, 443])])
    const refused = await tlsExchange({ port: tunnel.addresses.port, servername: other, ca: certs.caPem, payload: 'ECHO\nx' })
    expect(refused.fingerprint256).toBeUndefined()
    // The name that left the set keeps its counters in the stats.
    expect(nameStats(other)?.total).toBe(1)
  })

  it('fires onDidChangeStats with the counters', async () => {
    const seen: TunnelStats[] = []
    const subscription = tunnel.onDidChangeStats((stats) => seen.push(stats))
    await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nabc', until: 3 })
    await eventually(() => seen.some((s) => s.names.find((n) => n.name === registry)?.open === 0 && s.open === 0), 'a stats event after the close')
    subscription.dispose()
  })

  describe('local HTTP proxy (listen.proxyPort)', () => {
    it('CONNECTs to an allowed name and passes TLS through untouched', async () => {
      const { statusLine, socket } = await proxyConnect(tunnel.addresses.proxyPort!, `${registry}:443`)
      expect(statusLine).toBe('HTTP/1.1 200 Connection Established')
      const result = await tlsExchange({ port: 0, socket, servername: registry, ca: certs.caPem, payload: 'ECHO\nvia proxy', until: 9 })
      expect(result.fingerprint256).toBe(certs.fingerprint256)
      expect(result.data.toString()).toBe('via proxy')
    })

    it('answers 403 with a one-line reason for names or ports outside the set', async () => {
      const denied = await proxyConnect(tunnel.addresses.proxyPort!, `${other}:443`)
      expect(denied.statusLine).toBe('HTTP/1.1 403 Forbidden')
      denied.socket.destroy()
      const wrongPort = await proxyConnect(tunnel.addresses.proxyPort!, `${registry}:22`)
      expect(wrongPort.statusLine).toBe('HTTP/1.1 403 Forbidden')
      wrongPort.socket.destroy()
      const origin = await httpGet({ port: tunnel.addresses.proxyPort!, path: '/', host: registry })
      expect(origin.status).toBe(400)
      expect(origin.body).toContain('HTTP proxy')
    })

    it('checks the plain HTTP inside CONNECT name:80 like the port-80 listener: another host closes it unanswered', async () => {
      const before = tunnel.stats().refused['other-host']
      const { statusLine, socket } = await proxyConnect(tunnel.addresses.proxyPort!, `${bucket}:80`)
      expect(statusLine).toBe('HTTP/1.1 200 Connection Established')
      let received = ''
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
      socket.resume()
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
      socket.write(`GET /one HTTP/1.1\r\nHost: ${bucket}\r\n\r\n`)
      await eventually(() => received.includes('path=/one'), 'the first answer')
      socket.write(`GET /two HTTP/1.1\r\nHost: ${registry}\r\n\r\n`)
      await closed
      expect(received.match(/HTTP\/1\.1 200 /g)).toHaveLength(1)
      expect(tunnel.stats().refused['other-host']).toBe(before + 1)
    })

    it('forwards an absolute-form GET for a port-80 name in origin form, with Host from the target', async () => {
      const answer = await httpGet({ port: tunnel.addresses.proxyPort!, path: `http://${bucket}/blob?sig=1`, host: 'spoofed.example.com' })
      expect(answer).toEqual({ status: 200, body: `host=${bucket} path=/blob?sig=1 connection=close` })
      const denied = await httpGet({ port: tunnel.addresses.proxyPort!, path: `http://${registry}/v2/` })
      expect(denied.status).toBe(403)
    })
  })

  it('reports a port in use as PORT_IN_USE naming the address', async () => {
    const blocker = createServer()
    const port = await listen(blocker, '127.0.0.1')
    try {
      const error = await startTunnel({
        listen: { address: '127.0.0.1', port },
        names: [],
        dialer: createSniDialer({ host: '127.0.0.1', port: 9 }),
      }).catch((e: unknown) => e)
      expect(isBridgeError(error, 'PORT_IN_USE')).toBe(true)
      expect((error as Error).message).toContain(`127.0.0.1:${port}`)
      expect(isBridgeError(error) && error.hint).toContain(`127.0.0.1:${port}`)
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  it('gives a second listener in use back without leaving the first one bound', async () => {
    const blocker = createServer()
    const port = await listen(blocker, '127.0.0.1')
    try {
      const error = await startTunnel({
        listen: { address: '127.0.0.1', port: 0, httpPort: port },
        names: [],
        dialer: createSniDialer({ host: '127.0.0.1', port: 9 }),
      }).catch((e: unknown) => e)
      expect(isBridgeError(error, 'PORT_IN_USE')).toBe(true)
      expect(isBridgeError(error) && error.field).toBe('listen.httpPort')
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  it('maps an unreachable ECS to UPSTREAM_REFUSED naming the ECS address, counts the error, and drops the client', async () => {
    const closedPort = await (async () => {
      const s = createServer()
      const p = await listen(s, '127.0.0.1')
      await new Promise((resolve) => s.close(resolve))
      return p
    })()
    const dialer = createSniDialer({ host: '127.0.0.1', port: closedPort })
    const error = await dialer.dial({ name: registry, port: 443 }).catch((e: unknown) => e)
    expect(isBridgeError(error, 'UPSTREAM_REFUSED')).toBe(true)
    expect((error as Error).message).toContain(`127.0.0.1:${closedPort}`)

    const log = collectingLogger()
    const broken = await startTunnel({ listen: { address: '127.0.0.1', port: 0 }, names: [entry(registry)], dialer, logger: log })
    try {
      const result = await tlsExchange({ port: broken.addresses.port, servername: registry, ca: certs.caPem, payload: 'x' })
      expect(result.fingerprint256).toBeUndefined()
      await eventually(() => broken.stats().names[0]?.errors === 1, 'the dial error to be counted')
      expect(broken.stats().names[0]).toMatchObject({ open: 0, total: 1, errors: 1 })
      expect(log.lines.some((l) => l.startsWith('warn') && l.includes(`127.0.0.1:${closedPort}`))).toBe(true)
    } finally {
      await broken.close()
    }
  })

  it('close() keeps forwarding during drainMs, lets a finishing connection end cleanly, then destroys the rest', async () => {
    const t = await startTunnel({
      listen: { address: '127.0.0.1', port: 0 },
      names: [entry(registry)],
      dialer: createSniDialer({ host: ecsTls.address, port: ecsTls.port }),
    })
    // One connection that will finish during the drain, one that never ends, one that never sent a byte.
    let finishing: TLSSocket | undefined
    let closeStarted = false
    const first = tlsExchange({
      port: t.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nbefore ',
      onData: (received, socket) => {
        finishing = socket
        if (closeStarted && received === 'before after'.length) socket.end()
      },
    })
    let stuckEstablished = false
    const stuck = tlsExchange({
      port: t.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nstuck',
      onData: () => (stuckEstablished = true),
    })
    const silent = rawExchange({ port: t.addresses.port, payload: Buffer.alloc(0) })
    await eventually(() => finishing !== undefined && stuckEstablished, 'both connections to be forwarding')

    const closing = t.close({ drainMs: 1500 })
    closeStarted = true
    // Not yet accepting, but still forwarding: the echo of bytes written after close() comes back.
    finishing!.write('after')
    const done = await first
    expect(done.data.toString()).toBe('before after')
    expect(done.error).toBeUndefined()
    expect((await silent).data.length).toBe(0)
    await closing
    const cut = await stuck
    expect(cut.data.toString()).toBe('stuck')
    expect(t.stats().open).toBe(0)
    expect(t.stats().names[0]).toMatchObject({ open: 0, total: 2 })
    await expect(rawExchange({ port: t.addresses.port, payload: 'x' })).resolves.toMatchObject({ error: expect.objectContaining({ code: 'ECONNREFUSED' }) })
  })
})
