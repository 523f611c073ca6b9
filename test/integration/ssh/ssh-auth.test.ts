// The ssh dialer against a real OpenSSH sshd: each login method, and login failures that must not retry.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import { createSshDialer, type SshDialer, type SshDialerOptions } from '../../../electron/core/tunnel/ssh-dialer.js'
import { createPasswordUser, generateKeyPair, startSshAgent, startSshd, type KeyPair, type Sshd, type SshAgent, type TestUser } from '../../helpers/sshd.js'
import { readAll, startEchoServer, waitUntil, type TestServer } from './servers.js'

const me = userInfo().username
const passphrase = 'correct horse battery staple'

let dir: string
let sshd: Sshd
let echo: TestServer
let agent: SshAgent
let user: TestUser
let plainKey: KeyPair
let encryptedKey: KeyPair
let agentKey: KeyPair
let strangerKey: KeyPair
let knownHostsPath: string
const dialers: SshDialer[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acrb-ssh-auth-'))
  plainKey = await generateKeyPair(dir, 'id_plain')
  encryptedKey = await generateKeyPair(dir, 'id_encrypted', { passphrase })
  agentKey = await generateKeyPair(dir, 'id_agent', { algorithm: 'ecdsa' })
  strangerKey = await generateKeyPair(dir, 'id_stranger')
  user = await createPasswordUser()
  sshd = await startSshd({
    authorizedKeys: [plainKey.publicKeyLine, encryptedKey.publicKeyLine, agentKey.publicKeyLine],
    passwordAuthentication: true,
    allowUsers: [me, user.name],
  })
  agent = await startSshAgent()
  await agent.add(agentKey.privateKeyPath)
  echo = await startEchoServer()
  knownHostsPath = join(dir, 'known_hosts')
  const hostKey = sshd.hostKeys[0]!
  await writeFile(knownHostsPath, `[127.0.0.1]:${sshd.port} ${hostKey.keyType} ${hostKey.keyBase64}\n`)
})

afterAll(async () => {
  await Promise.allSettled(dialers.map((dialer) => dialer.close()))
  await Promise.allSettled([sshd?.dispose(), agent?.dispose(), user?.dispose(), echo?.close()])
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

function dialer(options: Partial<SshDialerOptions>): SshDialer {
  const created = createSshDialer({
    host: '127.0.0.1',
    port: sshd.port,
    username: me,
    knownHostsPath,
    readyTimeoutMs: 10_000,
    dialTimeoutMs: 15_000,
    backoff: { initialMs: 50, maxMs: 200 },
    ...options,
  })
  dialers.push(created)
  return created
}

/** Sends a line through a forwarded channel to the echo server and reads it back after a half-close. */
async function roundTrip(through: SshDialer): Promise<void> {
  const stream = await through.dial({ name: '127.0.0.1', port: echo.port })
  const text = `hello from ${Math.random()}`
  stream.end(text)
  expect((await readAll(stream)).toString()).toBe(text)
  await waitUntil(() => through.stats().openChannels === 0, 'the channel to close')
}

function connectionsSoFar(): number {
  return sshd.log().match(/Connection from 127\.0\.0\.1 port \d+/g)?.length ?? 0
}

describe('ssh dialer: login methods against a real sshd', () => {
  it('logs in with a private key, runs exec("true") once, and forwards bytes', async () => {
    const through = dialer({ privateKey: plainKey.privateKey })
    await roundTrip(through)
    expect(through.stats()).toEqual({ connected: true, openChannels: 0, reconnects: 0, warmChannels: 0 })
    await sshd.waitForLog(new RegExp(`Accepted publickey for ${me} from 127\\.0\\.0\\.1 port \\d+ ssh2: ED25519 ${escape(plainKey.fingerprint)}`))
    // PERF-NOTES trap 1: the non-pty session that makes sshd set TCP_NODELAY.
    await sshd.waitForLog(new RegExp(`Starting session: command for ${me} from 127\\.0\\.0\\.1`))
    await through.close()
    expect(through.state.kind).toBe('closed')
  })

  it('logs in with a passphrase-protected key and its passphrase', async () => {
    const through = dialer({ privateKey: encryptedKey.privateKey, passphrase })
    await roundTrip(through)
    await sshd.waitForLog(new RegExp(`Accepted publickey for ${me} .* ${escape(encryptedKey.fingerprint)}`))
    await through.close()
  })

  it('refuses an encrypted key without its passphrase, or with a wrong one, before connecting and without retrying', async () => {
    const before = connectionsSoFar()
    for (const [given, message] of [
      [undefined, /encrypted and no passphrase was given/],
      ['wrong', /could not be decrypted with the passphrase/],
    ] as const) {
      const through = dialer({ privateKey: encryptedKey.privateKey, ...(given === undefined ? {} : { passphrase: given }) })
      const error = await through.dial({ name: '127.0.0.1', port: echo.port }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isBridgeError(error, 'SSH_AUTH_FAILED')).toBe(true)
      expect((error as Error).message).toMatch(message)
      expect(through.state.kind).toBe('failed')
      await through.close()
    }
    expect(connectionsSoFar()).toBe(before)
  })

  it('logs in with a key held by an ssh-agent', async () => {
    const through = dialer({ agent: agent.socketPath })
    await roundTrip(through)
    await sshd.waitForLog(new RegExp(`Accepted publickey for ${me} .* ECDSA ${escape(agentKey.fingerprint)}`))
    await through.close()
  })

  it('logs in with a password (an account whose shell refuses commands: exec fails quietly)', async () => {
    const through = dialer({ username: user.name, password: user.password })
    await roundTrip(through)
    await sshd.waitForLog(new RegExp(`Accepted password for ${user.name} from 127\\.0\\.0\\.1`))
    expect(through.state.kind).toBe('connected')
    await through.close()
  })

  it('reports a wrong password as SSH_AUTH_FAILED once and does not retry', async () => {
    const before = connectionsSoFar()
    const states: string[] = []
    const through = dialer({ username: user.name, password: 'not-the-password' })
    through.onDidChangeState((state) => states.push(state.kind))
    const error = await through.connect().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isBridgeError(error, 'SSH_AUTH_FAILED')).toBe(true)
    expect(isBridgeError(error) && error.hint).toMatch(/Tried the password; the server accepts .*password/)
    // A retry loop would have made several more connections in this time (backoff 50-200 ms).
    await new Promise((resolve) => setTimeout(resolve, 800))
    expect(connectionsSoFar() - before).toBe(1)
    expect(states).toEqual(['connecting', 'failed'])
    const again = await through.dial({ name: '127.0.0.1', port: echo.port }).catch((e: unknown) => e)
    expect(again).toBe(error)
    await through.close()
  })

  it('names every method it tried when none is accepted', async () => {
    const emptyAgent = await startSshAgent()
    try {
      const through = dialer({ privateKey: strangerKey.privateKey, agent: emptyAgent.socketPath, password: 'nope' })
      const error = await through.connect().catch((e: unknown) => e)
      expect(isBridgeError(error, 'SSH_AUTH_FAILED')).toBe(true)
      if (!isBridgeError(error)) return
      expect(error.details?.tried).toBe('publickey,agent,password')
      expect(error.hint).toContain("the private key, the agent's keys, the password")
      expect(error.message).toContain(`refused the login of ${me}`)
      await through.close()
    } finally {
      await emptyAgent.dispose()
    }
  })
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
