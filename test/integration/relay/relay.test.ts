// The relay against real peers on loopback: an HTTPS origin on <prefix>.2:443 and an HTTP origin on <prefix>.3:80
// (a random 127.x.y.0/24, so parallel suites that also bind 443/80 cannot collide), Node TLS/TCP clients, and an
// injected resolver that maps the test names to those addresses, or to the addresses the relay must refuse.
//
// Loopback design: the relay refuses every loopback answer by default. These tests exempt exactly the two origin
// addresses (plus one unused address for the dial fallback) through `allowLoopbackAddresses`, so the SAME relay
// still refuses a name that resolves to 127.0.0.1: the refusal is tested with the default rule intact.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { X509Certificate } from 'node:crypto'
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { isBridgeError } from '../../../electron/core/errors.js'
import { startRelay } from '../../../electron/core/relay/relay.js'
import type { Relay, RelayLookup, ResolvedAddress } from '../../../electron/core/relay/types.js'
import {
  buildClientHello,
  closeServer,
  collectingLogger,
  connectVia,
  httpOrigin,
  httpsOrigin,
  listenOn,
  makeCert,
  randomLoopbackPrefix,
  rawExchange,
  tlsGet,
  waitFor,
  type Collected,
  type TestCert,
} from './helpers.js'

const registry = 'registry-vpc.cn-beijing.aliyuncs.com'
const bucket = 'aliregistry.oss-cn-beijing-internal.aliyuncs.com'
const token = 'test-token-0123456789abcdef'

const prefix = randomLoopbackPrefix()
const tlsOriginAddress = `${prefix}.2`
const httpOriginAddress = `${prefix}.3`
const deadAddress = `${prefix}.4` // allowed, nothing listens: the dial must fall through to the next answer

const lookupCalls: string[] = []
let rebindAnswered = false

/** The test's resolver: names → addresses, including the ones the relay has to refuse. */
const testLookup: RelayLookup = async (name) => {
  lookupCalls.push(name)
  const v4 = (address: string): ResolvedAddress => ({ address, family: 4 })
  switch (name) {
    case registry:
    case 'dockerauth-vpc.cn-beijing.aliyuncs.com':
      return [v4(tlsOriginAddress)]
    case bucket:
      return [v4(httpOriginAddress)]
    case 'dead.cn-beijing.aliyuncs.com':
      return [v4(deadAddress)]
    case 'fallback.cn-beijing.aliyuncs.com':
      return [v4(deadAddress), v4(tlsOriginAddress)]
    case 'cached.cn-beijing.aliyuncs.com':
    case 'uncached.cn-beijing.aliyuncs.com':
      return [v4(tlsOriginAddress)]
    case 'cached-loop.cn-beijing.aliyuncs.com':
      return [v4('127.0.0.1')]
    case 'rebind.cn-beijing.aliyuncs.com':
      // A rebinding resolver: a good answer first, loopback afterwards. The relay must dial the first answer.
      if (rebindAnswered) return [v4('127.0.0.1')]
      rebindAnswered = true
      return [v4(tlsOriginAddress)]
    case 'loop.cn-beijing.aliyuncs.com':
      return [v4('127.0.0.1')]
    case 'mapped-loop.cn-beijing.aliyuncs.com':
      return [{ address: '::ffff:127.0.0.1', family: 6 }]
    case 'metadata.cn-beijing.aliyuncs.com':
      return [v4('100.100.100.200')]
    case 'mixed.cn-beijing.aliyuncs.com':
      return [v4(tlsOriginAddress), v4('100.100.100.200')]
    case 'linklocal.cn-beijing.aliyuncs.com':
      return [v4('169.254.169.254')]
    default:
      throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
  }
}

let cert: TestCert
let tlsServer: HttpsServer
let httpServer: HttpServer
let relay: Relay
let log: Collected
const extraRelays: Relay[] = []
const openSockets: Socket[] = []

beforeAll(async () => {
  cert = await makeCert([registry, '*.cn-beijing.aliyuncs.com'])
  tlsServer = httpsOrigin(cert)
  httpServer = httpOrigin()
  await listenOn(tlsServer, tlsOriginAddress, 443)
  await listenOn(httpServer, httpOriginAddress, 80)
  log = collectingLogger()
  relay = await startRelay({
    listen: { host: '127.0.0.1', port: 0 },
    httpListen: { host: '127.0.0.1', port: 0 },
    connectListen: { host: '127.0.0.1', port: 0, token },
    lookup: testLookup,
    allowLoopbackAddresses: [tlsOriginAddress, httpOriginAddress, deadAddress],
    clientHelloDeadlineMs: 1000,
    maxHelloBytes: 4096,
    logger: log,
  })
})

afterAll(async () => {
  for (const socket of openSockets) socket.destroy()
  await Promise.all(extraRelays.map((r) => r.close()))
  await relay?.close()
  if (tlsServer !== undefined) await closeServer(tlsServer)
  if (httpServer !== undefined) await closeServer(httpServer)
  await cert?.cleanup()
})

const sniPort = (): number => relay.addresses.listen.port
const httpPort = (): number => relay.addresses.httpListen!.port
const connectPort = (): number => relay.addresses.connectListen!.port

/** The origin's certificate as the client should see it (not one of the relay's: it has none). */
function fingerprintOf(pem: Buffer): string {
  return new X509Certificate(pem).fingerprint256
}

/** The one refusal line for the client that used `localPort`. */
/** Where the current test's log lines begin: an ephemeral port an earlier test's client used may come round again. */
let firstLineOfTest = 0
beforeEach(() => {
  firstLineOfTest = log.lines.length
})

function refusalLines(localPort: number): string[] {
  return log.lines.slice(firstLineOfTest).filter((line) => line.startsWith(`[relay] refused 127.0.0.1:${localPort} `))
}

async function expectRefusal(localPort: number, name: string, reason: string): Promise<void> {
  await waitFor(() => refusalLines(localPort).length > 0, `the refusal log line for port ${localPort}`)
  expect(refusalLines(localPort)).toEqual([`[relay] refused 127.0.0.1:${localPort} ${name} ${reason}`])
}

function refusedCount(reason: string, r: Relay = relay): number {
  return (r.stats().refused as Record<string, number | undefined>)[reason] ?? 0
}

describe('relay: forwarding', () => {
  it('passes TLS through by SNI: the client sees the origin certificate, the origin sees the SNI', async () => {
    const before = relay.stats()
    const outcome = await tlsGet(sniPort(), registry, cert.cert)
    expect(outcome.error).toBeUndefined()
    expect(outcome.status).toBe(200)
    expect(outcome.fingerprint).toBe(fingerprintOf(cert.cert))
    expect(JSON.parse(outcome.body!)).toMatchObject({ origin: 'tls', servername: registry, host: registry, url: '/v2/' })
    const after = relay.stats()
    expect(after.forwarded).toBe(before.forwarded + 1)
    expect(after.bytesUp).toBeGreaterThan(before.bytesUp)
    expect(after.bytesDown).toBeGreaterThan(before.bytesDown)
    expect(refusalLines(outcome.localPort)).toEqual([])
  })

  it('matches names case-insensitively and forwards every name the pattern covers', async () => {
    const outcome = await tlsGet(sniPort(), 'DockerAuth-VPC.cn-beijing.aliyuncs.com', cert.cert)
    expect(outcome.error).toBeUndefined()
    // The ClientHello reaches the origin byte for byte; the relay resolved the lowercased name.
    expect(JSON.parse(outcome.body!)).toMatchObject({ origin: 'tls', servername: 'DockerAuth-VPC.cn-beijing.aliyuncs.com' })
    expect(lookupCalls).toContain('dockerauth-vpc.cn-beijing.aliyuncs.com')
  })

  it('resolves once and dials the checked answer, never the name again (DNS rebinding)', async () => {
    const outcome = await tlsGet(sniPort(), 'rebind.cn-beijing.aliyuncs.com', cert.cert)
    expect(outcome.error).toBeUndefined()
    expect(JSON.parse(outcome.body!)).toMatchObject({ servername: 'rebind.cn-beijing.aliyuncs.com' })
    expect(lookupCalls.filter((n) => n === 'rebind.cn-beijing.aliyuncs.com')).toEqual(['rebind.cn-beijing.aliyuncs.com'])
  })

  it('reuses a name\'s answer for the next connections, judging it again for each', async () => {
    const lookups = (name: string): number => lookupCalls.filter((n) => n === name).length
    for (let i = 0; i < 3; i++) {
      const outcome = await tlsGet(sniPort(), 'cached.cn-beijing.aliyuncs.com', cert.cert)
      expect(outcome.status).toBe(200)
    }
    expect(lookups('cached.cn-beijing.aliyuncs.com')).toBe(1)
    // An answer that fails the checks refuses every connection it is reused for, each with its log line.
    const before = refusedCount('resolves-to-loopback')
    for (let i = 0; i < 2; i++) {
      const outcome = await tlsGet(sniPort(), 'cached-loop.cn-beijing.aliyuncs.com', cert.cert)
      expect(outcome.error?.code).toBe('ERR_SSL_TLSV1_UNRECOGNIZED_NAME')
      await expectRefusal(outcome.localPort, 'cached-loop.cn-beijing.aliyuncs.com', 'resolves-to-loopback')
    }
    expect(refusedCount('resolves-to-loopback')).toBe(before + 2)
    expect(lookups('cached-loop.cn-beijing.aliyuncs.com')).toBe(1)
  })

  it('resolves the name for every connection with lookupCacheMs 0', async () => {
    const uncached = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      lookup: testLookup,
      lookupCacheMs: 0,
      allowLoopbackAddresses: [tlsOriginAddress],
    })
    extraRelays.push(uncached)
    for (let i = 0; i < 2; i++) {
      const outcome = await tlsGet(uncached.addresses.listen.port, 'uncached.cn-beijing.aliyuncs.com', cert.cert)
      expect(outcome.status).toBe(200)
    }
    expect(lookupCalls.filter((n) => n === 'uncached.cn-beijing.aliyuncs.com')).toHaveLength(2)
  })

  it('falls through to the next checked answer when one does not accept', async () => {
    const outcome = await tlsGet(sniPort(), 'fallback.cn-beijing.aliyuncs.com', cert.cert)
    expect(outcome.error).toBeUndefined()
    expect(outcome.status).toBe(200)
    expect(log.lines).toContain(`[relay] 127.0.0.1:${outcome.localPort} dial ${deadAddress}:443 failed: ECONNREFUSED`)
  })

  it('answers an allowed name whose origin is down with a TLS internal_error alert and counts it', async () => {
    const before = relay.stats()
    const outcome = await tlsGet(sniPort(), 'dead.cn-beijing.aliyuncs.com', cert.cert)
    expect(outcome.error?.code).toBe('ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR')
    const after = relay.stats()
    expect(after.upstreamFailures).toBe(before.upstreamFailures + 1)
    expect(after.forwarded).toBe(before.forwarded)
    expect(log.lines).toContain(`[relay] upstream 127.0.0.1:${outcome.localPort} dead.cn-beijing.aliyuncs.com unreachable on port 443`)
  })

  it('routes plain HTTP by Host to <host>:80 and replays the request head unchanged', async () => {
    const request = `GET /docker/registry/v2/blobs/sha256/ab/abc/data?Expires=1 HTTP/1.1\r\nHost: ${bucket}\r\nX-Test: kept\r\nConnection: close\r\n\r\n`
    const outcome = await rawExchange(httpPort(), request)
    const text = outcome.data.toString('utf8')
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { origin: string; method: string; url: string; rawHeaders: string[] }
    expect(body).toMatchObject({ origin: 'http', method: 'GET', url: '/docker/registry/v2/blobs/sha256/ab/abc/data?Expires=1' })
    expect(body.rawHeaders).toEqual(['Host', bucket, 'X-Test', 'kept', 'Connection', 'close'])
  })

  it('accepts Host with an explicit :80', async () => {
    const outcome = await rawExchange(httpPort(), `GET / HTTP/1.1\r\nHost: ${bucket}:80\r\nConnection: close\r\n\r\n`)
    expect(outcome.data.toString('utf8')).toMatch(/^HTTP\/1\.1 200 /)
  })
})

describe('relay: CONNECT listener', () => {
  const basic = (secret: string): string => `Basic ${Buffer.from(`anyone:${secret}`).toString('base64')}`

  it('tunnels TLS to name:443 with a good Basic token, the origin certificate end to end', async () => {
    const tunnel = await connectVia(connectPort(), `${registry}:443`, basic(token))
    expect(tunnel.status).toBe(200)
    const outcome = await tlsGet(0, registry, cert.cert, tunnel.socket)
    expect(outcome.error).toBeUndefined()
    expect(outcome.fingerprint).toBe(fingerprintOf(cert.cert))
    expect(JSON.parse(outcome.body!)).toMatchObject({ origin: 'tls', servername: registry })
  })

  it('accepts a Bearer token and tunnels to name:80 too', async () => {
    const tunnel = await connectVia(connectPort(), `${bucket}:80`, `Bearer ${token}`)
    openSockets.push(tunnel.socket)
    expect(tunnel.status).toBe(200)
    const chunks: Buffer[] = []
    tunnel.socket.on('data', (c: Buffer) => chunks.push(c))
    const ended = new Promise<void>((resolve) => tunnel.socket.once('close', () => resolve()))
    tunnel.socket.resume()
    tunnel.socket.write(`GET /x HTTP/1.1\r\nHost: ${bucket}\r\nConnection: close\r\n\r\n`)
    await ended
    expect(Buffer.concat(chunks).toString('utf8')).toMatch(/^HTTP\/1\.1 200 [\s\S]*"origin":"http"/)
  })

  it.each([
    ['no token', undefined, 'auth-missing'],
    ['a wrong Basic token', basic('wrong-token-0123456789abcdef'), 'auth-failed'],
    ['a wrong Bearer token', 'Bearer x', 'auth-failed'],
    ['the token as the user name', `Basic ${Buffer.from(`${token}:`).toString('base64')}`, 'auth-failed'],
  ])('answers 407 to %s, before looking at the target', async (_label, authorization, reason) => {
    const before = refusedCount(reason)
    const tunnel = await connectVia(connectPort(), `${registry}:443`, authorization)
    openSockets.push(tunnel.socket)
    expect(tunnel.status).toBe(407)
    expect(tunnel.head).toMatch(/\r\nProxy-Authenticate: Basic realm="acr-bridge relay"\r\n/)
    await expectRefusal(tunnel.localPort, '-', reason)
    expect(refusedCount(reason)).toBe(before + 1)
  })

  it.each([
    [`${registry}:22`, registry, 'port-not-allowed', 403],
    [`${registry}:8080`, registry, 'port-not-allowed', 403],
    ['evil.example.com:443', 'evil.example.com', 'not-allowed', 403],
    ['metadata.cn-beijing.aliyuncs.com:80', 'metadata.cn-beijing.aliyuncs.com', 'resolves-to-metadata', 403],
  ])('refuses CONNECT %s even with the token', async (target, name, reason, status) => {
    const before = refusedCount(reason)
    const tunnel = await connectVia(connectPort(), target, basic(token))
    openSockets.push(tunnel.socket)
    expect(tunnel.status).toBe(status)
    await expectRefusal(tunnel.localPort, name, reason)
    expect(refusedCount(reason)).toBe(before + 1)
  })

  it('refuses other methods on the CONNECT listener', async () => {
    const outcome = await rawExchange(connectPort(), `GET http://${registry}/ HTTP/1.1\r\nHost: ${registry}\r\n\r\n`)
    expect(outcome.data.toString('latin1')).toMatch(/^HTTP\/1\.1 405 /)
    await expectRefusal(outcome.localPort, '-', 'wrong-method')
  })
})

describe('relay: refusals on the SNI listener', () => {
  it.each([
    ['evil.example.com', 'evil.example.com', 'not-allowed'],
    ['aliyuncs.com', 'aliyuncs.com', 'not-allowed'],
    ['loop.cn-beijing.aliyuncs.com', 'loop.cn-beijing.aliyuncs.com', 'resolves-to-loopback'],
    ['mapped-loop.cn-beijing.aliyuncs.com', 'mapped-loop.cn-beijing.aliyuncs.com', 'resolves-to-loopback'],
    ['metadata.cn-beijing.aliyuncs.com', 'metadata.cn-beijing.aliyuncs.com', 'resolves-to-metadata'],
    ['mixed.cn-beijing.aliyuncs.com', 'mixed.cn-beijing.aliyuncs.com', 'resolves-to-metadata'],
    ['linklocal.cn-beijing.aliyuncs.com', 'linklocal.cn-beijing.aliyuncs.com', 'resolves-to-link-local'],
    ['nxdomain.cn-beijing.aliyuncs.com', 'nxdomain.cn-beijing.aliyuncs.com', 'resolve-failed'],
  ])('refuses SNI %s with a TLS unrecognized_name alert', async (servername, name, reason) => {
    const before = refusedCount(reason)
    const forwarded = relay.stats().forwarded
    const outcome = await tlsGet(sniPort(), servername, cert.cert)
    expect(outcome.error?.code).toBe('ERR_SSL_TLSV1_UNRECOGNIZED_NAME')
    await expectRefusal(outcome.localPort, name, reason)
    expect(refusedCount(reason)).toBe(before + 1)
    expect(relay.stats().forwarded).toBe(forwarded)
  })

  it('refuses a ClientHello without SNI', async () => {
    const before = refusedCount('no-sni')
    const outcome = await tlsGet(sniPort(), '', cert.cert)
    expect(outcome.error?.code).toBe('ERR_SSL_TLSV1_UNRECOGNIZED_NAME')
    await expectRefusal(outcome.localPort, '-', 'no-sni')
    expect(refusedCount('no-sni')).toBe(before + 1)
  })

  it.each([
    ['an IPv4 literal SNI', buildClientHello('127.0.0.1')],
    ['an IPv6 literal SNI', buildClientHello('::1')],
    ['the metadata address as SNI', buildClientHello('100.100.100.200')],
    ['garbage', Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n')],
    ['an HTTP request on the TLS port', Buffer.from(`GET / HTTP/1.1\r\nHost: ${registry}\r\n\r\n`)],
  ])('closes on %s without forwarding (counted as invalid)', async (_label, payload) => {
    const before = refusedCount('invalid')
    const outcome = await rawExchange(sniPort(), payload)
    expect(outcome.closed).toBe(true)
    expect(outcome.data.length).toBe(0)
    await expectRefusal(outcome.localPort, '-', 'invalid')
    expect(refusedCount('invalid')).toBe(before + 1)
    expect(lookupCalls).not.toContain('127.0.0.1')
  })

  it('closes a ClientHello that is still incomplete at the deadline', async () => {
    const before = refusedCount('timeout')
    const outcome = await rawExchange(sniPort(), buildClientHello(registry).subarray(0, 20))
    expect(outcome.closed).toBe(true)
    await expectRefusal(outcome.localPort, '-', 'timeout')
    expect(refusedCount('timeout')).toBe(before + 1)
  })

  it('closes a ClientHello larger than maxHelloBytes, whether it is cut short or arrives whole', async () => {
    const before = refusedCount('too-large')
    const hello = buildClientHello(registry, 12_000)
    const partial = await rawExchange(sniPort(), hello.subarray(0, 6000))
    expect(partial.closed).toBe(true)
    await expectRefusal(partial.localPort, '-', 'too-large')
    const whole = await rawExchange(sniPort(), hello)
    expect(whole.closed).toBe(true)
    await expectRefusal(whole.localPort, '-', 'too-large')
    expect(refusedCount('too-large')).toBe(before + 2)
  })
})

describe('relay: refusals on the HTTP listener', () => {
  it.each([
    [`Host: evil.example.com`, 'evil.example.com', 'not-allowed', 403],
    [`Host: metadata.cn-beijing.aliyuncs.com`, 'metadata.cn-beijing.aliyuncs.com', 'resolves-to-metadata', 403],
    [`Host: linklocal.cn-beijing.aliyuncs.com`, 'linklocal.cn-beijing.aliyuncs.com', 'resolves-to-link-local', 403],
    [`Host: loop.cn-beijing.aliyuncs.com`, 'loop.cn-beijing.aliyuncs.com', 'resolves-to-loopback', 403],
    [`Host: ${bucket}:22`, bucket, 'port-not-allowed', 403],
    [`Host: 0x7f000001`, '0x7f000001', 'ip-literal', 403],
    [`X-No-Host: 1`, '-', 'no-host', 400],
    [`Host: 127.0.0.1`, '-', 'invalid', 400],
  ])('%s → %s', async (header, name, reason, status) => {
    const before = refusedCount(reason)
    const outcome = await rawExchange(httpPort(), `GET / HTTP/1.1\r\n${header}\r\n\r\n`)
    expect(outcome.data.toString('latin1')).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
    await expectRefusal(outcome.localPort, name, reason)
    expect(refusedCount(reason)).toBe(before + 1)
  })

  it('checks every request of a connection: a pipelined one for another host is refused before anything is forwarded', async () => {
    const before = refusedCount('other-host')
    const outcome = await rawExchange(httpPort(), `GET /a HTTP/1.1\r\nHost: ${bucket}\r\n\r\nGET /b HTTP/1.1\r\nHost: ${registry}\r\n\r\n`)
    expect(outcome.data.toString('latin1')).toMatch(/^HTTP\/1\.1 400 /)
    await expectRefusal(outcome.localPort, bucket, 'other-host')
    expect(refusedCount('other-host')).toBe(before + 1)
  })

  it('closes a kept-alive connection whose next request names another host, without passing that request on', async () => {
    const before = refusedCount('other-host')
    const socket = netConnect({ host: '127.0.0.1', port: httpPort() })
    socket.on('error', () => {})
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(`GET /keep/1 HTTP/1.1\r\nHost: ${bucket}\r\n\r\n`)
    await waitFor(() => received.includes('/keep/1'), 'the first answer')
    socket.write(`GET /keep/2 HTTP/1.1\r\nHost: ${registry}\r\n\r\n`)
    await closed
    // One answer: the second request never reached the origin (it would have answered on the open connection).
    expect(received.match(/HTTP\/1\.1 200 /g)).toHaveLength(1)
    expect(received).not.toContain('/keep/2')
    expect(refusedCount('other-host')).toBe(before + 1)
  })

  it('forwards a request that asks for a protocol upgrade like any other (the origin answers it as a plain one)', async () => {
    const outcome = await rawExchange(httpPort(), `GET /up HTTP/1.1\r\nHost: ${bucket}\r\nConnection: Upgrade, close\r\nUpgrade: h2c\r\n\r\n`)
    expect(outcome.data.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /)
    expect(outcome.data.toString('latin1')).toContain('"url":"/up"')
  })

  it('answers 408 to a request head that is incomplete at the deadline', async () => {
    const outcome = await rawExchange(httpPort(), `GET / HTTP/1.1\r\nHost: ${bucket}\r\n`)
    expect(outcome.data.toString('latin1')).toMatch(/^HTTP\/1\.1 408 /)
    await expectRefusal(outcome.localPort, '-', 'timeout')
  })

  it('answers 431 to a request head over the 16 KiB bound', async () => {
    const outcome = await rawExchange(httpPort(), `GET / HTTP/1.1\r\nHost: ${bucket}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(outcome.data.toString('latin1')).toMatch(/^HTTP\/1\.1 431 /)
    await expectRefusal(outcome.localPort, '-', 'too-large')
  })
})

describe('relay: limits', () => {
  it('refuses connections beyond maxConnections, counts them, and accepts again once below', async () => {
    const capLog = collectingLogger()
    const capped = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      lookup: testLookup,
      allowLoopbackAddresses: [tlsOriginAddress],
      maxConnections: 2,
      clientHelloDeadlineMs: 30_000,
      logger: capLog,
    })
    extraRelays.push(capped)
    const port = capped.addresses.listen.port
    const holders = [netConnect({ host: '127.0.0.1', port }), netConnect({ host: '127.0.0.1', port })]
    for (const socket of holders) {
      socket.on('error', () => {})
      openSockets.push(socket)
    }
    await waitFor(() => capped.stats().open === 2, 'two open connections')
    const third = await rawExchange(port, buildClientHello(registry))
    expect(third.closed).toBe(true)
    expect(third.data.length).toBe(0)
    expect(capped.stats().refused).toEqual({ 'connection-cap': 1 })
    expect(capLog.lines).toContain(`[relay] refused 127.0.0.1:${third.localPort} - connection-cap`)
    for (const socket of holders) socket.destroy()
    await waitFor(() => capped.stats().open === 0, 'the held connections to close')
    const again = await tlsGet(port, registry, cert.cert)
    expect(again.error).toBeUndefined()
    expect(again.status).toBe(200)
  })

  it('closes a forwarded connection that stays idle longer than idleTimeoutMs', async () => {
    const idleLog = collectingLogger()
    const idle = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      lookup: testLookup,
      allowLoopbackAddresses: [tlsOriginAddress],
      idleTimeoutMs: 300,
      logger: idleLog,
    })
    extraRelays.push(idle)
    const client = tlsConnect({ host: '127.0.0.1', port: idle.addresses.listen.port, servername: registry, ca: cert.cert })
    client.on('error', () => {})
    openSockets.push(client)
    await new Promise<void>((resolve, reject) => {
      client.once('secureConnect', () => resolve())
      client.once('close', () => reject(new Error('closed before the handshake')))
    })
    expect(client.getPeerCertificate().fingerprint256).toBe(fingerprintOf(cert.cert))
    const localPort = client.localPort
    let clientClosed = false
    client.once('close', () => {
      clientClosed = true
    })
    await waitFor(() => clientClosed, 'the relay to close the idle connection')
    expect(idle.stats().idleTimeouts).toBe(1)
    expect(idleLog.lines.filter((l) => l.startsWith('[relay] idle'))).toEqual([
      `[relay] idle 127.0.0.1:${localPort} ${registry} closed after 300 ms without traffic`,
    ])
    await waitFor(() => idle.stats().open === 0, 'the idle connection to be gone')
  })

  it('close() ends open connections and releases the ports', async () => {
    const closing = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      httpListen: { host: '127.0.0.1', port: 0 },
      lookup: testLookup,
      allowLoopbackAddresses: [tlsOriginAddress],
    })
    const client = tlsConnect({ host: '127.0.0.1', port: closing.addresses.listen.port, servername: registry, ca: cert.cert })
    client.on('error', () => {})
    openSockets.push(client)
    await new Promise<void>((resolve) => client.once('secureConnect', () => resolve()))
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    await closing.close({ drainMs: 50 })
    await clientClosed
    expect(closing.stats().open).toBe(0)
    // The port is free again: a plain server can take it.
    const probe = createNetServer()
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen({ host: '127.0.0.1', port: closing.addresses.listen.port }, () => resolve())
    })
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    await closing.close() // idempotent
  })

  it('reports a port in use as PORT_IN_USE and leaves no listener behind', async () => {
    const blocker = createNetServer()
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, () => resolve()))
    const taken = (blocker.address() as AddressInfo).port
    try {
      const error = await startRelay({
        listen: { host: '127.0.0.1', port: 0 },
        httpListen: { host: '127.0.0.1', port: taken },
        lookup: testLookup,
      }).then(
        (r) => r.close().then(() => undefined),
        (e: unknown) => e,
      )
      expect(isBridgeError(error, 'PORT_IN_USE')).toBe(true)
      expect(error).toMatchObject({ field: 'httpListen' })
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
  })

  it('rejects options it cannot honour with INVALID_CONFIG naming the field', async () => {
    const cases: [Parameters<typeof startRelay>[0], string][] = [
      [{ listen: { host: '127.0.0.1', port: 0 }, allow: ['*'] }, 'allow[0]'],
      [{ listen: { host: '127.0.0.1', port: 0 }, connectListen: { host: '127.0.0.1', port: 0, token: 'short' } }, 'connectListen.token'],
      [{ listen: { host: '127.0.0.1', port: 70000 } }, 'listen.port'],
      [{ listen: { host: '127.0.0.1', port: 0 }, allowLoopbackAddresses: ['100.100.100.200'] }, 'allowLoopbackAddresses[0]'],
      [{ listen: { host: '127.0.0.1', port: 0 }, maxConnections: 0 }, 'maxConnections'],
      [{ listen: { host: '127.0.0.1', port: 0 }, lookupCacheMs: -1 }, 'lookupCacheMs'],
      [{ listen: { host: '127.0.0.1', port: 0 }, lookupCacheMs: 0.5 }, 'lookupCacheMs'],
    ]
    for (const [options, field] of cases) {
      const error = await startRelay(options).then(
        (r) => r.close().then(() => undefined),
        (e: unknown) => e,
      )
      expect(isBridgeError(error, 'INVALID_CONFIG'), field).toBe(true)
      expect(error).toMatchObject({ field })
    }
  })
})
