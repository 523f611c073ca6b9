// What most ssh integration test files start from: one real sshd, a client key it accepts, a known_hosts that
// names its host key, and dialers to it that are closed after each test.

import { appendFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { createSshDialer, type SshDialer, type SshDialerOptions } from '../../../electron/core/tunnel/ssh-dialer.js'
import { generateKeyPair, startSshd, type KeyPair, type Sshd, type StartSshdOptions } from '../../helpers/sshd.js'

export interface SshdFixture {
  /** A temp folder of the test file's own (keys, known_hosts); removed by dispose(). */
  readonly dir: string
  readonly sshd: Sshd
  /** The key the sshd accepts for the current user. */
  readonly clientKey: KeyPair
  /** Names the sshd's host key for 127.0.0.1 on its port (and on every port given to trustOn). */
  readonly knownHostsPath: string
  /** Also names the sshd's host key for 127.0.0.1:`port` (a relay in front of the sshd). */
  trustOn(port: number): Promise<void>
  /**
   * A dialer to the sshd as the current user with the client key and known_hosts, 15 s dial timeout; `options`
   * override any of these. closeDialers() closes it.
   */
  dialer(options?: Partial<SshDialerOptions>): SshDialer
  /** Closes every dialer made so far (for afterEach). */
  closeDialers(): Promise<void>
  /** Closes the dialers, stops the sshd and removes the folder (for afterAll; safe after a failed start). */
  dispose(): Promise<void>
}

/** Starts the sshd of one test file; `name` names its temp folder. `sshdOptions` go to startSshd. */
export async function startSshdFixture(name: string, sshdOptions: Omit<StartSshdOptions, 'authorizedKeys'> = {}): Promise<SshdFixture> {
  const dir = await mkdtemp(join(tmpdir(), `acrb-${name}-`))
  const dialers: SshDialer[] = []
  let sshd: Sshd | undefined
  const dispose = async (): Promise<void> => {
    await Promise.allSettled(dialers.splice(0).map((dialer) => dialer.close()))
    await sshd?.dispose()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const clientKey = await generateKeyPair(dir, 'id_client')
    const started = await startSshd({ ...sshdOptions, authorizedKeys: [clientKey.publicKeyLine] })
    sshd = started
    const knownHostsPath = join(dir, 'known_hosts')
    const hostKey = started.hostKeys[0]!
    const trustOn = (port: number): Promise<void> => appendFile(knownHostsPath, `[127.0.0.1]:${port} ${hostKey.keyType} ${hostKey.keyBase64}\n`)
    await trustOn(started.port)
    return {
      dir,
      sshd: started,
      clientKey,
      knownHostsPath,
      trustOn,
      dialer: (options = {}) => {
        const created = createSshDialer({
          host: '127.0.0.1',
          port: started.port,
          username: userInfo().username,
          privateKey: clientKey.privateKey,
          knownHostsPath,
          dialTimeoutMs: 15_000,
          ...options,
        })
        dialers.push(created)
        return created
      },
      closeDialers: async () => {
        await Promise.allSettled(dialers.splice(0).map((dialer) => dialer.close()))
      },
      dispose,
    }
  } catch (error) {
    await dispose()
    throw error
  }
}
