// The warm upstream pools with real peers on loopback: mode sni through our relay as the ECS, mode connect through
// real tinyproxy (connections to the proxy, and per target one whose CONNECT was answered ahead). A counting TCP forwarder in front of each ECS tells how many connections reached it and can
// reset them all at once (an ECS that restarts).

import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelay } from '../../../electron/core/relay/relay.js'
import type { Relay } from '../../../electron/core/relay/types.js'
import { createConnectDialer } from '../../../electron/core/tunnel/connect-dialer.js'
import { createSniDialer } from '../../../electron/core/tunnel/sni-dialer.js'
import { startTunnel, type Tunnel } from '../../../electron/core/tunnel/tunnel.js'
import type { Dialer } from '../../../electron/core/tunnel/types.js'
import { collectingLogger, entry, eventually, httpGet, tlsExchange, type CollectingLogger } from './clients.js'
import { bulkByte, Cleanup, makeCerts, randomLoopback, startForwarder, startOrigin, startTinyproxy, type Certs, type Forwarder, type Origin } from './peers.js'

const registry = 'registry-vpc.cn-pool.aliyuncs.com'
const bucket = 'aliregistry.oss-cn-pool-internal.aliyuncs.com'
const other = 'registry-vpc.cn-elsewhere.aliyuncs.com'

function activeSockets(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()
  return handles.filter((h) => h instanceof Object && h.constructor.name === 'Socket').length
}

describe('warm upstream pool', () => {
  const cleanup = new Cleanup()
  let certs: Certs
  let origin: Origin
  let relay: Relay
  let relayLog: CollectingLogger

  beforeAll(async () => {
    certs = await makeCerts([registry, bucket, other])
    cleanup.add(() => rm(certs.dir, { recursive: true, force: true }))
    // The relay dials <name>:443 and <name>:80: the origin sits on those ports of a loopback address of its own.
    origin = await startOrigin(certs, randomLoopback(), { tls: 443, http: 80 })
    cleanup.add(() => origin.close())
    relayLog = collectingLogger()
    relay = await startRelay({
      listen: { host: randomLoopback(), port: 0 },
      httpListen: { host: randomLoopback(), port: 0 },
      allow: ['*.aliyuncs.com'],
      lookup: async () => [{ address: origin.address, family: 4 }],
      allowLoopbackAddresses: [origin.address],
      logger: relayLog,
    })
    cleanup.add(() => relay.close())
  })

  afterAll(async () => {
    await cleanup.run()
  })

  /** tunnel → counting forwarders → our relay (TLS and HTTP ports) → origin, with a fresh dialer (cold pool). */
  const sniWorld = async (local: Cleanup, pool: Parameters<typeof createSniDialer>[0]['pool'] = undefined) => {
    const ecs = randomLoopback()
    const tlsHop = await startForwarder(ecs, { host: relay.addresses.listen.host, port: relay.addresses.listen.port })
    local.add(() => tlsHop.close())
    const httpHop = await startForwarder(ecs, { host: relay.addresses.httpListen!.host, port: relay.addresses.httpListen!.port })
    local.add(() => httpHop.close())
    const dialer = createSniDialer({ host: ecs, port: tlsHop.port, httpPort: httpHop.port, ...(pool === undefined ? {} : { pool }) })
    local.add(() => dialer.close())
    const tunnel = await startTunnel({
      listen: { address: '127.0.0.1', port: 0, httpPort: 0 },
      names: [entry(registry), entry(bucket, [80, 443])],
      dialer,
      clientHelloDeadlineMs: 2000,
    })
    local.add(() => tunnel.close())
    return { tlsHop, httpHop, dialer, tunnel }
  }

  const echo = async (tunnel: Tunnel, text: string): Promise<string> => {
    const result = await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: `ECHO\n${text}`, until: text.length })
    expect(result.error).toBeUndefined()
    expect(result.fingerprint256).toBe(certs.fingerprint256)
    return result.data.toString()
  }

  const poolOf = (tunnel: Tunnel) => tunnel.stats().pool!

  describe('mode sni, our relay as the ECS', () => {
    it('refused names make no upstream connection at all, and do not warm the pool', async () => {
      const local = new Cleanup()
      try {
        const { tlsHop, httpHop, dialer, tunnel } = await sniWorld(local)
        for (let i = 0; i < 3; i++) {
          const refused = await tlsExchange({ port: tunnel.addresses.port, servername: other, ca: certs.caPem, payload: 'ECHO\nx' })
          expect(refused.fingerprint256).toBeUndefined()
        }
        const notHttp = await httpGet({ port: tunnel.addresses.httpPort!, path: '/', host: registry }) // 443-only name
        expect(notHttp.status).toBe(403)
        const unknown = await httpGet({ port: tunnel.addresses.httpPort!, path: '/', host: other })
        expect(unknown.status).toBe(403)
        // Longer than it takes the pool to dial ahead, had anything warmed it.
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(tlsHop.accepted()).toBe(0)
        expect(httpHop.accepted()).toBe(0)
        expect(tunnel.stats().refused['name-not-allowed']).toBe(4)
        expect(poolOf(tunnel)).toEqual({ hits: 0, misses: 0, idle: 0, dialed: 0, failures: 0 })

        // A dial that is not a tunnel client's (a probe, discovery) is one fresh connection and warms nothing.
        const probe = await dialer.dial({ name: registry, port: 443 })
        probe.destroy()
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(tlsHop.accepted()).toBe(1)
        expect(poolOf(tunnel)).toEqual({ hits: 0, misses: 0, idle: 0, dialed: 0, failures: 0 })
      } finally {
        await local.run()
      }
    })

    it('pooled connections carry correct bytes: the first dial is a miss, the next ones hits, on both ports', async () => {
      const local = new Cleanup()
      try {
        const { tlsHop, httpHop, tunnel } = await sniWorld(local)
        expect(await echo(tunnel, 'first, dialed fresh')).toBe('first, dialed fresh')
        expect(poolOf(tunnel)).toMatchObject({ hits: 0, misses: 1 })
        await eventually(() => poolOf(tunnel).idle === 2, 'two connections to be held ready')
        expect(tlsHop.accepted()).toBe(3)

        for (let i = 0; i < 5; i++) {
          const text = `pooled ${i} ${'x'.repeat(i * 1000)}`
          expect(await echo(tunnel, text)).toBe(text)
          await eventually(() => poolOf(tunnel).idle === 2, 'the pool to be topped up')
        }
        expect(poolOf(tunnel)).toMatchObject({ hits: 5, misses: 1 })
        // Every connection the ECS saw was the fresh dial or one the pool made (and held ready or handed out).
        await eventually(() => tlsHop.accepted() === 1 + poolOf(tunnel).dialed, 'ECS accepts = 1 fresh + pool dials')
        expect(poolOf(tunnel).dialed).toBeGreaterThanOrEqual(7)

        // A bulk download over a pooled connection arrives intact.
        const size = 4 * 1024 * 1024
        const bulk = await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: `BULK ${size}\n` })
        expect(bulk.error).toBeUndefined()
        expect(bulk.data.length).toBe(size)
        expect(bulk.data.every((byte, i) => byte === bulkByte(i))).toBe(true)
        expect(poolOf(tunnel).hits).toBe(6)

        // Port 80 has a pool of its own, warmed by its own first dial.
        const first = await httpGet({ port: tunnel.addresses.httpPort!, path: '/blob?a=1', host: bucket })
        expect(first).toEqual({ status: 200, body: `host=${bucket} path=/blob?a=1 connection=close` })
        await eventually(() => httpHop.accepted() === 3, 'the HTTP pool to dial two ahead')
        const second = await httpGet({ port: tunnel.addresses.httpPort!, path: '/blob?a=2', host: bucket })
        expect(second).toEqual({ status: 200, body: `host=${bucket} path=/blob?a=2 connection=close` })
        expect(poolOf(tunnel)).toMatchObject({ hits: 7, misses: 2 })
      } finally {
        await local.run()
      }
    })

    it('a pooled connection the ECS killed is never handed out; the client gets a fresh one', async () => {
      const local = new Cleanup()
      try {
        const { tlsHop, tunnel } = await sniWorld(local)
        expect(await echo(tunnel, 'warm up')).toBe('warm up')
        await eventually(() => poolOf(tunnel).idle === 2 && tlsHop.open() === 4, 'two connections held ready through the ECS')
        tlsHop.kill() // resets both held connections
        await eventually(() => poolOf(tunnel).idle === 0, 'the pool to drop the dead connections')
        expect(poolOf(tunnel).failures).toBe(2)
        const hitsBefore = poolOf(tunnel).hits
        expect(await echo(tunnel, 'after the reset')).toBe('after the reset')
        expect(poolOf(tunnel).hits).toBe(hitsBefore)
        expect(poolOf(tunnel).misses).toBe(2)
      } finally {
        await local.run()
      }
    })

    it('recycling idle connections is quiet at the relay (no refusal lines), and tunnel.close() leaves no socket', async () => {
      const local = new Cleanup()
      try {
        const socketsBefore = activeSockets()
        const linesBefore = relayLog.lines.length
        const abandonedBefore = relay.stats().abandoned
        const { tlsHop, tunnel } = await sniWorld(local, { maxIdleMs: 300 })
        expect(await echo(tunnel, 'one')).toBe('one')
        // The two held connections reach their age and are replaced, a few times over.
        await eventually(() => poolOf(tunnel).dialed >= 6, 'idle connections to be recycled and replaced')
        expect(poolOf(tunnel).failures).toBe(0)
        await eventually(() => relay.stats().abandoned - abandonedBefore >= 4, 'the relay to see the recycled connections go')
        const newLines = relayLog.lines.slice(linesBefore)
        expect(newLines.filter((line) => !line.startsWith('debug'))).toEqual([])
        expect(newLines.some((line) => line.includes('went away before its first request'))).toBe(true)

        await tunnel.close()
        expect(poolOf(tunnel).idle).toBe(0)
        await eventually(() => tlsHop.open() === 0, 'the ECS to hold no connection of ours')
        await eventually(() => activeSockets() <= socketsBefore, "no socket of the tunnel left")
        // And it stays that way: nothing dials after the close.
        const accepted = tlsHop.accepted()
        await new Promise((resolve) => setTimeout(resolve, 700))
        expect(tlsHop.accepted()).toBe(accepted)
      } finally {
        await local.run()
      }
    })
  })

  describe('mode connect, real tinyproxy as the ECS', () => {
    let proxyHop: Forwarder
    let dialer: Dialer
    let tunnel: Tunnel
    const local = new Cleanup()

    beforeAll(async () => {
      const proxy = await startTinyproxy({
        address: randomLoopback(),
        port: 8888,
        hosts: { [registry]: origin.address, [bucket]: origin.address },
        connectPorts: [443, 80],
      })
      local.add(() => proxy.close())
      proxyHop = await startForwarder(randomLoopback(), { host: proxy.address, port: proxy.port })
      local.add(() => proxyHop.close())
      dialer = createConnectDialer({ host: proxyHop.address, port: proxyHop.port })
      local.add(() => dialer.close())
      tunnel = await startTunnel({
        listen: { address: '127.0.0.1', port: 0, httpPort: 0 },
        names: [entry(registry), entry(bucket, [80, 443])],
        dialer,
        clientHelloDeadlineMs: 2000,
      })
      local.add(() => tunnel.close())
    })
    afterAll(async () => {
      await local.run()
    })

    it('a refused name contacts nobody; a served target then has a connection whose CONNECT was answered ahead, and the next client connection starts on it', async () => {
      const refused = await tlsExchange({ port: tunnel.addresses.port, servername: other, ca: certs.caPem, payload: 'ECHO\nx' })
      expect(refused.fingerprint256).toBeUndefined()
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(proxyHop.accepted()).toBe(0)

      expect(await echo(tunnel, 'through tinyproxy')).toBe('through tinyproxy')
      // two proxy connections, and one through which tinyproxy already reached the origin for the registry's port 443
      await eventually(() => poolOf(tunnel).idle === 3, 'two proxy connections and one answered CONNECT held ready')
      await eventually(async () => (await origin.connections()) === 1, 'the origin to hold the answered connection alone')
      for (let i = 0; i < 4; i++) {
        const text = `pooled CONNECT ${i}`
        expect(await echo(tunnel, text)).toBe(text)
        await eventually(() => poolOf(tunnel).idle === 3, 'the pools to be topped up')
      }
      expect(poolOf(tunnel)).toMatchObject({ hits: 4, misses: 1 })
      // A target with no answered connection yet (the bucket's port 80): a pooled proxy connection, the CONNECT sent then.
      const proxyConnectionsBefore = proxyHop.accepted()
      const answer = await httpGet({ port: tunnel.addresses.httpPort!, path: '/b', host: bucket })
      expect(answer).toEqual({ status: 200, body: `host=${bucket} path=/b connection=close` })
      expect(poolOf(tunnel)).toMatchObject({ hits: 4, misses: 2 })
      await eventually(() => poolOf(tunnel).idle === 4, 'an answered CONNECT for the bucket too')
      // the bucket's request went over a proxy connection made before it, and what was made since only refills
      expect(proxyHop.accepted() - proxyConnectionsBefore).toBe(2)
    })

    it('pooled proxy connections the proxy side reset are skipped', async () => {
      await eventually(() => poolOf(tunnel).idle === 4, 'two proxy connections and two answered CONNECTs held ready')
      const failuresBefore = poolOf(tunnel).failures
      proxyHop.kill()
      await eventually(() => poolOf(tunnel).idle === 0, 'the pools to drop the dead connections')
      expect(poolOf(tunnel).failures).toBe(failuresBefore + 4)
      const hitsBefore = poolOf(tunnel).hits
      expect(await echo(tunnel, 'after the reset')).toBe('after the reset')
      expect(poolOf(tunnel).hits).toBe(hitsBefore)
    })

    it('tunnel.close() cools the pools: the proxy is left with no connection of ours', async () => {
      await echo(tunnel, 'warm')
      await eventually(() => poolOf(tunnel).idle >= 3, 'proxy connections and an answered CONNECT held ready')
      await tunnel.close()
      expect(poolOf(tunnel).idle).toBe(0)
      await eventually(() => proxyHop.open() === 0, 'no connection left at the proxy hop')
    })
  })
})
