// Faults and limits: half-close, an upstream killed mid-transfer, connections cut because the address they left
// from is gone, clients that send nothing / garbage / too much, and 10,000 connections that must leave nothing behind.

import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { connect as netConnect, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSniDialer } from '../../../electron/core/tunnel/sni-dialer.js'
import { startTunnel, type Tunnel } from '../../../electron/core/tunnel/tunnel.js'
import { Cleanup, makeCerts, randomLoopback, spawnPeer, startForwarder, startOrigin, startRawEcho, waitForPort, which, type Certs, type Origin } from './peers.js'
import { entry, eventually, rawExchange, tlsExchange } from './clients.js'

const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/client-hello/${name}`, import.meta.url)))

/** A real ClientHello from Node for registry-vpc.cn-hangzhou.aliyuncs.com. */
const hello = fixture('tls13-sni.bin')
const helloName = 'registry-vpc.cn-hangzhou.aliyuncs.com'
/** A real ClientHello for a name that is not in the set. */
const otherHello = fixture('uppercase-sni.bin')

describe('tunnel faults', () => {
  const cleanup = new Cleanup()
  let certs: Certs
  let origin: Origin
  const registry = 'registry-vpc.cn-test.aliyuncs.com'

  beforeAll(async () => {
    certs = await makeCerts([registry])
    cleanup.add(() => rm(certs.dir, { recursive: true, force: true }))
    origin = await startOrigin(certs, randomLoopback())
    cleanup.add(() => origin.close())
  })

  afterAll(async () => {
    await cleanup.run()
  })

  /** A 256 MiB download through the tunnel, paused after its first MiB: a forwarded connection held mid-transfer. */
  async function pausedDownload(port: number): Promise<{ paused: TLSSocket; transfer: ReturnType<typeof tlsExchange>; size: number }> {
    const size = 256 * 1024 * 1024
    let paused: TLSSocket | undefined
    const transfer = tlsExchange({
      port, servername: registry, ca: certs.caPem, payload: `BULK ${size}\n`,
      onData: (received, socket) => {
        if (paused === undefined && received >= 1024 * 1024) {
          paused = socket
          socket.pause()
        }
      },
    })
    await eventually(() => paused !== undefined, 'the first MiB to arrive')
    return { paused: paused!, transfer, size }
  }

  it('half-close: an answer sent after the client\'s FIN still gets through', async () => {
    const local = new Cleanup()
    try {
      const echo = await startRawEcho(randomLoopback(), 300)
      local.add(() => echo.close())
      const ecs = await startForwarder(randomLoopback(), { host: echo.address, port: echo.port })
      local.add(() => ecs.close())
      const tunnel = await startTunnel({ listen: { address: '127.0.0.1', port: 0 }, names: [entry(helloName)], dialer: createSniDialer({ host: ecs.address, port: ecs.port }) })
      local.add(() => tunnel.close())
      const payload = Buffer.concat([hello, Buffer.from('request body')])
      const result = await rawExchange({ port: tunnel.addresses.port, payload, end: true })
      expect(result.error).toBeUndefined()
      expect(result.data.equals(Buffer.concat([payload, Buffer.from('|late')]))).toBe(true)
      await eventually(() => tunnel.stats().open === 0, 'the tunnel to close the connection')
      expect(tunnel.stats().names[0]).toMatchObject({ open: 0, total: 1, errors: 0, bytesUp: payload.length, bytesDown: payload.length + 5 })
    } finally {
      await local.run()
    }
  })

  it('an upstream killed mid-transfer ends the client\'s connection; the next one works once it is back', async () => {
    const socat = which('socat')
    const ecsAddress = randomLoopback()
    const ecsPort = 8443
    const startEcs = async () => {
      const child = spawnPeer(socat, [`TCP-LISTEN:${ecsPort},bind=${ecsAddress},reuseaddr,fork`, `TCP:${origin.address}:${origin.tlsPort}`])
      await waitForPort(ecsAddress, ecsPort, 'socat (ECS)', child.process)
      return child
    }
    const local = new Cleanup()
    try {
      let ecs = await startEcs()
      local.add(() => ecs.kill())
      const tunnel = await startTunnel({ listen: { address: '127.0.0.1', port: 0 }, names: [entry(registry)], dialer: createSniDialer({ host: ecsAddress, port: ecsPort }) })
      local.add(() => tunnel.close())

      const { paused, transfer, size } = await pausedDownload(tunnel.addresses.port)
      await ecs.kill()
      paused.resume()
      const cut = await transfer
      expect(cut.data.length).toBeGreaterThanOrEqual(1024 * 1024)
      expect(cut.data.length).toBeLessThan(size)
      await eventually(() => tunnel.stats().open === 0, 'the tunnel to drop both legs')
      // a connection cut mid-transfer is an error, not a failed dial
      expect(tunnel.stats().dialFailures).toBe(0)

      // While the ECS is down: the client is dropped, an error is counted, and so is the failed dial.
      const down = await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nx' })
      expect(down.fingerprint256).toBeUndefined()
      expect(tunnel.stats().names[0]!.errors).toBeGreaterThanOrEqual(1)
      await eventually(() => tunnel.stats().dialFailures === 1, 'the failed dial to be counted')

      ecs = await startEcs()
      const again = await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nback again', until: 10 })
      expect(again.fingerprint256).toBe(certs.fingerprint256)
      expect(again.data.toString()).toBe('back again')
      expect(tunnel.stats().dialFailures).toBe(1)
    } finally {
      await local.run()
    }
  })

  it('dropConnectionsFrom closes the forwarded connections that left from a gone address, and only those', async () => {
    const local = new Cleanup()
    try {
      const ecs = await startForwarder(randomLoopback(), { host: origin.address, port: origin.tlsPort })
      local.add(() => ecs.close())
      const tunnel = await startTunnel({ listen: { address: '127.0.0.1', port: 0 }, names: [entry(registry)], dialer: createSniDialer({ host: ecs.address, port: ecs.port }) })
      local.add(() => tunnel.close())
      // The address a connection to the ECS leaves from, as the kernel picks it for the tunnel too.
      const from = await new Promise<string>((resolve, reject) => {
        const probe = netConnect({ host: ecs.address, port: ecs.port }, () => {
          resolve(probe.localAddress!)
          probe.destroy()
        })
        probe.once('error', reject)
      })

      const { paused, transfer, size } = await pausedDownload(tunnel.addresses.port)
      expect(tunnel.dropConnectionsFrom(['192.0.2.1', '2001:db8::1'])).toBe(0)
      expect(tunnel.stats().open).toBe(1)
      expect(tunnel.dropConnectionsFrom([from])).toBe(1)
      paused.resume()
      const cut = await transfer
      expect(cut.data.length).toBeLessThan(size)
      await eventually(() => tunnel.stats().open === 0, 'both legs closed')
      expect(tunnel.stats().names[0]).toMatchObject({ total: 1, errors: 1 })
      // The tunnel itself goes on.
      const next = await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nstill here', until: 10 })
      expect(next.data.toString()).toBe('still here')
    } finally {
      await local.run()
    }
  })

  describe('clients that misbehave', () => {
    let tunnel: Tunnel
    const local = new Cleanup()

    beforeAll(async () => {
      const ecs = await startForwarder(randomLoopback(), { host: origin.address, port: origin.tlsPort })
      local.add(() => ecs.close())
      tunnel = await startTunnel({
        listen: { address: '127.0.0.1', port: 0, httpPort: 0 },
        names: [entry(registry)],
        dialer: createSniDialer({ host: ecs.address, port: ecs.port }),
        clientHelloDeadlineMs: 500,
      })
      local.add(() => tunnel.close())
    })
    afterAll(async () => {
      await local.run()
    })

    it('drops silent, partial, garbage and 1 MB "ClientHello" clients while a good connection completes', async () => {
      const before = { ...tunnel.stats().refused }
      const silent = rawExchange({ port: tunnel.addresses.port, payload: Buffer.alloc(0) })
      const partial = rawExchange({ port: tunnel.addresses.port, payload: hello.subarray(0, 100) })
      const garbage = rawExchange({ port: tunnel.addresses.port, payload: 'hello world, not TLS\r\n' })
      const huge = Buffer.alloc(1024 * 1024, 0x41)
      Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff]).copy(huge)
      const big = rawExchange({ port: tunnel.addresses.port, payload: huge })
      const httpSilent = rawExchange({ port: tunnel.addresses.httpPort!, payload: 'GET / HTTP/1.1\r\nHost: ' })

      const good = await tlsExchange({ port: tunnel.addresses.port, servername: registry, ca: certs.caPem, payload: 'ECHO\nstill served', until: 12 })
      expect(good.data.toString()).toBe('still served')

      // Each bad client is closed by the tunnel (bounded by the 500 ms deadline; the waits here are generous).
      for (const bad of [silent, partial, garbage, big, httpSilent]) {
        const result = await bad
        expect(result.data.length).toBe(0)
      }
      const after = tunnel.stats().refused
      expect(after.timeout - before.timeout).toBe(3)
      expect(after.invalid - before.invalid).toBe(2)
      await eventually(() => tunnel.stats().open === 0, 'no connection left open')
    })
  })

  it('10,000 connections, opened and closed in batches of 200, leave no socket behind', async () => {
    const local = new Cleanup()
    try {
      const echo = await startRawEcho(randomLoopback(), 0)
      local.add(() => echo.close())
      const tunnel = await startTunnel({
        listen: { address: '127.0.0.1', port: 0 },
        names: [entry(helloName)],
        dialer: createSniDialer({ host: echo.address, port: echo.port }),
        clientHelloDeadlineMs: 5000,
      })
      local.add(() => tunnel.close())
      const handlesBefore = activeSockets()

      const total = 10_000
      const batch = 200
      const outcomes = { graceful: 0, reset: 0, refused: 0, failed: 0 }
      for (let start = 0; start < total; start += batch) {
        await Promise.all(
          Array.from({ length: batch }, (_, i) => {
            const n = start + i
            const kind = n % 10 === 9 ? 'refused' : n % 3 === 0 ? 'reset' : 'graceful'
            return oneConnection(tunnel.addresses.port, kind).then((ok) => {
              if (ok) outcomes[kind] += 1
              else outcomes.failed += 1
            })
          }),
        )
      }
      expect(outcomes.failed).toBe(0)
      expect(outcomes.graceful + outcomes.reset + outcomes.refused).toBe(total)

      // Both legs closed; what the far end still holds is the tunnel's warm pool (connections made ahead).
      await eventually(() => tunnel.stats().open === 0 && echo.open() === tunnel.stats().pool!.idle, 'every connection to be closed on both legs', 20_000)
      const stats = tunnel.stats()
      expect(stats.names[0]).toMatchObject({ name: helloName, open: 0, total: outcomes.graceful + outcomes.reset })
      expect(stats.refused['name-not-allowed']).toBe(outcomes.refused)
      expect(stats.pool!.idle).toBeLessThanOrEqual(2)
      await tunnel.close()
      await eventually(() => echo.open() === 0, 'the far end to hold nothing once the tunnel is closed', 10_000)
      await eventually(() => activeSockets() <= handlesBefore, 'the process to hold no more sockets than before', 10_000)
    } finally {
      await local.run()
    }
  }, 180_000)
})

function activeSockets(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()
  return handles.filter((h) => h instanceof Object && h.constructor.name === 'Socket').length
}

/**
 * graceful: hello, read its echo, FIN, read `|late`, close. reset: hello, read its echo, destroy.
 * refused: a hello for a name outside the set; the tunnel answers only with a TLS alert and closes.
 */
function oneConnection(port: number, kind: 'graceful' | 'reset' | 'refused'): Promise<boolean> {
  return new Promise((resolve) => {
    const payload = kind === 'refused' ? otherHello : hello
    let received = 0
    let settled = false
    const done = (ok: boolean): void => {
      if (settled) return
      settled = true
      resolve(ok)
    }
    const socket: Socket = netConnect({ host: '127.0.0.1', port, allowHalfOpen: true })
    socket.on('connect', () => socket.write(payload))
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received === payload.length) {
        if (kind === 'reset') {
          socket.resetAndDestroy()
          done(true)
        } else {
          socket.end()
        }
      }
    })
    socket.on('end', () => socket.end())
    socket.on('error', () => {})
    socket.on('close', () => {
      if (kind === 'graceful') done(received === payload.length + '|late'.length)
      else if (kind === 'refused') done(received === 7) // the TLS alert unrecognized_name, nothing else
      else done(false)
    })
  })
}
