// `acr-bridge relay` as the ECS runs it: the BUILT CLI on loopback with port 0, its printed addresses, refusals
// logged and counted, the token file rules, and a clean stop on SIGTERM. Forwarding to real origins through it is
// proven in the VPC world (test/world/up-modes.test.ts), where names resolve to VPC addresses and not to loopback.

import { promises as fs } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildCli, killAllCli, runCliOnce, spawnCli } from './cli-process.js'
import { builtCliTimeoutMs } from '../../helpers/cli.js'

let root: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  await buildCli()
}, builtCliTimeoutMs)

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-cli-relay-'))
  env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: root, ACR_BRIDGE_DATA_DIR: join(root, 'data'), LANG: 'C.UTF-8' }
})

afterEach(async () => {
  await killAllCli()
  await fs.rm(root, { recursive: true, force: true })
})

afterAll(async () => {
  await killAllCli()
})

function tlsHello(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false })
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    socket.on('close', () => resolve('closed'))
    setTimeout(() => {
      socket.destroy()
      resolve('timeout')
    }, 10_000)
  })
}

function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    let data = ''
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()))
    socket.on('close', () => resolve(data))
    socket.on('error', reject)
    socket.write(request)
  })
}

describe('acr-bridge relay (built CLI, loopback)', () => {
  it('prints the bound addresses, refuses and counts what it must not forward, and stops on SIGTERM', async () => {
    const tokenFile = join(root, 'token')
    await fs.writeFile(tokenFile, '  0123456789abcdef0123456789abcdef\n', { mode: 0o600 })
    const relay = spawnCli(
      ['relay', '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--allow', '*.aliyuncs.com', '--allow', 'registry.example.net',
        '--connect-listen', '[::1]:0', '--token-file', tokenFile],
      env,
    )
    const tls = Number((await relay.waitFor(/^relay: TLS by SNI on 127\.0\.0\.1:(\d+)$/m))[1])
    const http = Number((await relay.waitFor(/^relay: HTTP by Host on 127\.0\.0\.1:(\d+)$/m))[1])
    const connect = Number((await relay.waitFor(/^relay: CONNECT with token on \[::1\]:(\d+)$/m))[1])
    await relay.waitFor(/^relay: forwarding names matching \*\.aliyuncs\.com, registry\.example\.net; Ctrl-C stops$/m)
    expect(tls).toBeGreaterThan(0)
    expect(http).toBeGreaterThan(0)
    expect(connect).toBeGreaterThan(0)

    expect(await tlsHello(tls, 'evil.example.com')).toMatch(/UNRECOGNIZED_NAME|ECONNRESET|closed/)
    await relay.waitFor(/\[relay\] refused 127\.0\.0\.1:\d+ evil\.example\.com not-allowed/, { stream: 'stderr' })
    // an allowed name on another port: refused before any name lookup (nothing leaves the machine)
    expect(await rawRequest(http, 'GET / HTTP/1.1\r\nHost: registry.example.net:8080\r\n\r\n')).toMatch(/^HTTP\/1\.1 4\d\d /)
    await relay.waitFor(/\[relay\] refused 127\.0\.0\.1:\d+ registry\.example\.net port-not-allowed/, { stream: 'stderr' })
    const noToken = await new Promise<string>((resolve, reject) => {
      const socket = netConnect({ host: '::1', port: connect })
      let data = ''
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()))
      socket.on('close', () => resolve(data))
      socket.on('error', reject)
      socket.write('CONNECT registry-vpc.cn-beijing.aliyuncs.com:443 HTTP/1.1\r\nHost: registry-vpc.cn-beijing.aliyuncs.com:443\r\n\r\n')
    })
    expect(noToken).toMatch(/^HTTP\/1\.1 407 /)
    await relay.waitFor(/\[relay\] refused \[::1\]:\d+ - auth-missing/, { stream: 'stderr' })

    relay.signal('SIGTERM')
    expect(await relay.exited).toEqual({ code: 0, signal: null })
    expect(relay.stdout()).toContain('Stopping (SIGTERM): letting open connections finish for up to 3 s.')
    const refused = /^Stopped: 0 forwarded, 3 refused \(([^)]*)\), 0 upstream failures, /m.exec(relay.stdout())
    expect(refused, relay.stdout()).not.toBeNull()
    expect(refused![1]!.split(', ').sort()).toEqual(['auth-missing 1', 'not-allowed 1', 'port-not-allowed 1'])
  })

  it('refuses a token file every user can read, and bad or incomplete flags, with exit 2', async () => {
    const tokenFile = join(root, 'token')
    await fs.writeFile(tokenFile, '0123456789abcdef0123456789abcdef\n')
    await fs.chmod(tokenFile, 0o644)
    const open = await runCliOnce(['relay', '--listen', '127.0.0.1:0', '--connect-listen', '127.0.0.1:0', '--token-file', tokenFile], env)
    expect(open.code).toBe(2)
    expect(open.stderr).toContain(`The token file ${tokenFile} can be read by every user of this machine.`)
    expect(open.stderr).toContain(`chmod 600 ${tokenFile}`)

    await fs.chmod(tokenFile, 0o600)
    await fs.writeFile(tokenFile, '   \n')
    const empty = await runCliOnce(['relay', '--listen', '127.0.0.1:0', '--connect-listen', '127.0.0.1:0', '--token-file', tokenFile], env)
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain('is empty')

    const cases: [string[], RegExp][] = [
      [['relay'], /--listen is required/],
      [['relay', '--listen', '443'], /the port is missing/],
      [['relay', '--listen', '::1:443'], /put an IPv6 address in brackets/],
      [['relay', '--listen', '[::1]443'], /needs brackets and a port/],
      [['relay', '--listen', '[127.0.0.1]:443'], /is not an IPv6 address/],
      [['relay', '--listen', '0.0.0.0:65536'], /is not a port/],
      [['relay', '--listen', 'bad host:443'], /is not an address or host name/],
      [['relay', '--listen', '127.0.0.1:0', '--connect-listen', '127.0.0.1:0'], /go together/],
      [['relay', '--listen', '127.0.0.1:0', '--token-file', tokenFile], /go together/],
      [['relay', '--listen', '127.0.0.1:0', '--allow', '*'], /allow/i],
    ]
    for (const [args, message] of cases) {
      const run = await runCliOnce(args, env)
      expect(run.code, `${args.join(' ')}\n${run.stderr}`).toBe(2)
      expect(run.stderr, args.join(' ')).toMatch(message)
    }
  })
})
