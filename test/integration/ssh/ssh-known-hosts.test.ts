// Host key checking against a real sshd, with known_hosts files written the way OpenSSH writes them (plain,
// `[host]:port`, hashed by `ssh-keygen -H`, scanned by `ssh-keyscan -H`), and the trust flow a UI would drive.

import { randomInt } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isBridgeError, type BridgeError } from '../../../electron/core/errors.js'
import { trustHostKey } from '../../../electron/core/tunnel/known-hosts.js'
import type { SshDialer } from '../../../electron/core/tunnel/ssh-dialer.js'
import { generateKeyPair, runChecked, startSshd, type KeyPair, type Sshd } from '../../helpers/sshd.js'
import { startSshdFixture, type SshdFixture } from './sshd-fixture.js'
import { readAll, startEchoServer, type TestServer } from './servers.js'

let fixture: SshdFixture
let dir: string
let sshd: Sshd
let echo: TestServer
let clientKey: KeyPair
let otherKey: KeyPair
let fileCount = 0

beforeAll(async () => {
  fixture = await startSshdFixture('ssh-kh', { hostKeyAlgorithms: ['ed25519', 'ecdsa', 'rsa'] })
  ;({ dir, sshd, clientKey } = fixture)
  otherKey = await generateKeyPair(dir, 'id_other')
  echo = await startEchoServer()
})

afterAll(async () => {
  await Promise.allSettled([fixture?.dispose(), echo?.close()])
})

function hostKey(keyType: string): KeyPair {
  const key = sshd.hostKeys.find((k) => k.keyType === keyType)
  if (key === undefined) throw new Error(`sshd has no ${keyType} host key`)
  return key
}

async function knownHostsFile(text: string): Promise<string> {
  const path = join(dir, `known_hosts_${++fileCount}`)
  await writeFile(path, text)
  return path
}

function dialerFor(knownHostsPath: string, host = '127.0.0.1', port = sshd.port): SshDialer {
  return fixture.dialer({ host, port, knownHostsPath, readyTimeoutMs: 10_000, backoff: { initialMs: 50, maxMs: 200 } })
}

async function roundTrip(dialer: SshDialer): Promise<void> {
  const stream = await dialer.dial({ name: '127.0.0.1', port: echo.port })
  stream.end('ping')
  expect((await readAll(stream)).toString()).toBe('ping')
}

async function refusal(dialer: SshDialer): Promise<BridgeError> {
  const error = await dialer.connect().then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isBridgeError(error)) throw new Error(`expected a BridgeError, got ${String(error)}`)
  return error
}

function connectionsSoFar(): number {
  return sshd.log().match(/Connection from 127\.0\.0\.1 port \d+/g)?.length ?? 0
}

describe('ssh dialer: host keys against a real sshd', () => {
  it('accepts a plain [host]:port entry', async () => {
    const key = hostKey('ssh-ed25519')
    const dialer = dialerFor(await knownHostsFile(`# comment\n[127.0.0.1]:${sshd.port} ${key.keyType} ${key.keyBase64} host\n`))
    await roundTrip(dialer)
    await dialer.close()
  })

  it('accepts an entry hashed by ssh-keygen -H', async () => {
    const key = hostKey('ssh-ed25519')
    const path = await knownHostsFile(`[127.0.0.1]:${sshd.port} ${key.keyType} ${key.keyBase64}\n`)
    await runChecked('ssh-keygen', ['-q', '-H', '-f', path])
    const text = await readFile(path, 'utf8')
    expect(text).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /)
    expect(text).not.toContain('127.0.0.1')
    const dialer = dialerFor(path)
    await roundTrip(dialer)
    await dialer.close()
  })

  it('prefers the key type known_hosts lists: an rsa-only file from ssh-keyscan -H works although sshd has ed25519', async () => {
    const { stdout } = await runChecked('ssh-keyscan', ['-H', '-t', 'rsa', '-p', String(sshd.port), '127.0.0.1'])
    expect(stdout).toMatch(/^\|1\|\S+ ssh-rsa /m)
    const dialer = dialerFor(await knownHostsFile(stdout))
    await roundTrip(dialer)
    await dialer.close()
  })

  it('prefers an ecdsa-only entry the same way', async () => {
    const key = hostKey('ecdsa-sha2-nistp256')
    const dialer = dialerFor(await knownHostsFile(`[127.0.0.1]:${sshd.port} ${key.keyType} ${key.keyBase64}\n`))
    await roundTrip(dialer)
    await dialer.close()
  })

  it('uses the bare host name for port 22, also inside a host list', async () => {
    const address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`
    const port22 = await startSshd({ listenAddress: address, port: 22, authorizedKeys: [clientKey.publicKeyLine] })
    try {
      const key = port22.hostKeys[0]!
      const dialer = dialerFor(await knownHostsFile(`registry.example,${address} ${key.keyType} ${key.keyBase64}\n`), address, 22)
      await roundTrip(dialer)
      await dialer.close()
      // The [host]:port form is not what OpenSSH looks up for port 22.
      const bracketed = dialerFor(await knownHostsFile(`[${address}]:22 ${key.keyType} ${key.keyBase64}\n`), address, 22)
      expect((await refusal(bracketed)).code).toBe('SSH_HOST_KEY_UNKNOWN')
      await bracketed.close()
    } finally {
      await port22.dispose()
    }
  })

  it('refuses an unknown host key with its fingerprint, does not retry, and connects once the key is trusted', async () => {
    const path = join(dir, 'missing', 'known_hosts')
    const dialer = dialerFor(path)
    const before = connectionsSoFar()
    const error = await refusal(dialer)
    const key = hostKey('ssh-ed25519')
    expect(error.code).toBe('SSH_HOST_KEY_UNKNOWN')
    expect(error.details).toMatchObject({ fingerprint: key.fingerprint, keyType: 'ssh-ed25519', host: '127.0.0.1', port: sshd.port, key: key.keyBase64 })
    expect(error.message).toContain(key.fingerprint)
    expect(dialer.state.kind).toBe('failed')
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(connectionsSoFar() - before).toBe(1)

    await trustHostKey(path, '127.0.0.1', sshd.port, String(error.details?.keyType), String(error.details?.key))
    // OpenSSH itself finds the line we wrote.
    const { stdout } = await runChecked('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', path])
    expect(stdout).toContain(`ssh-ed25519 ${key.keyBase64}`)
    await dialer.connect()
    await roundTrip(dialer)
    await dialer.close()
  })

  it('refuses a changed host key with the offered fingerprint; trusting it with replace drops the old entry', async () => {
    const key = hostKey('ssh-ed25519')
    const path = await knownHostsFile(`[127.0.0.1]:${sshd.port} ${otherKey.keyType} ${otherKey.keyBase64}\n`)
    const dialer = dialerFor(path)
    const error = await refusal(dialer)
    expect(error.code).toBe('SSH_HOST_KEY_MISMATCH')
    expect(error.details).toMatchObject({ fingerprint: key.fingerprint, keyType: 'ssh-ed25519', revoked: false })
    expect(error.message).toContain(key.fingerprint)
    expect(error.message).not.toContain(otherKey.fingerprint)

    const result = await trustHostKey(path, '127.0.0.1', sshd.port, key.keyType, key.keyBase64, { replace: true })
    expect(result).toMatchObject({ added: true, replaced: 1, remainingConflicts: 0 })
    const text = await readFile(path, 'utf8')
    expect(text).not.toContain(otherKey.keyBase64)
    await dialer.connect()
    await roundTrip(dialer)
    await dialer.close()
  })

  it('refuses a key marked @revoked even when it is also listed, and will not trust it', async () => {
    const key = hostKey('ssh-ed25519')
    const path = await knownHostsFile(`[127.0.0.1]:${sshd.port} ${key.keyType} ${key.keyBase64}\n@revoked * ${key.keyType} ${key.keyBase64}\n`)
    const dialer = dialerFor(path)
    const error = await refusal(dialer)
    expect(error.code).toBe('SSH_HOST_KEY_MISMATCH')
    expect(error.details).toMatchObject({ fingerprint: key.fingerprint, revoked: true })
    await expect(trustHostKey(path, '127.0.0.1', sshd.port, key.keyType, key.keyBase64)).rejects.toMatchObject({ code: 'SSH_HOST_KEY_MISMATCH' })
    await dialer.close()
  })
})
