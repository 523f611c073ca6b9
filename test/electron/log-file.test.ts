import { readFile, readdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createRotatingFileLogger } from '../../electron/main/log-file.js'
import { redact } from '../../electron/main/redact.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acr-bridge-log-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('redact', () => {
  test.each([
    ['Proxy-Authorization: Basic dTpzM2NyZXQ=', 'Proxy-Authorization: Basic ***'],
    ['authorization: Bearer eyJhbGciOi.abc.def', 'authorization: Bearer ***'],
    ['Authorization: s3cr3tvalue', 'Authorization: ***'],
    ['dial http://user:hunter2@203.0.113.10:3128/', 'dial http://user:***@203.0.113.10:3128/'],
    ['{"password":"hunter2","username":"u"}', '{"password":"***","username":"u"}'],
    ['passphrase=correct horse', 'passphrase=*** horse'],
    ['ACR_BRIDGE_PROXY_PASSWORD=pw123', 'ACR_BRIDGE_PROXY_PASSWORD=***'],
    ['token: abcdef', 'token: ***'],
    ['"access_token": "xyz"', '"access_token": "***"'],
    ['{"auths":{"r.aliyuncs.com":{"auth":"dTpw"}}}', '{"auths":{"r.aliyuncs.com":{"auth":"***"}}}'],
    ['got eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl from realm', 'got *** from realm'],
  ])('%s', (input, output) => {
    expect(redact(input)).toBe(output)
  })

  test('private keys are removed whole', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----'
    expect(redact(`key: ${pem} done`)).toBe('key: [private key redacted] done')
  })

  test('known secret values are removed wherever they appear', () => {
    expect(redact('the ECS said no to pw-Zebra-42 twice: pw-Zebra-42', ['pw-Zebra-42'])).toBe('the ECS said no to *** twice: ***')
  })

  test('ordinary diagnostics stay readable', () => {
    for (const line of [
      '[session] UPSTREAM_AUTH_REQUIRED: The proxy asks for a user name and password.',
      '[probe] dockerauth-vpc.cn-beijing.aliyuncs.com: realm https://dockerauth-vpc.cn-beijing.aliyuncs.com/auth answered 200',
      '[tunnel] SSH_AUTH_FAILED: the ECS refused the key',
      '[hosts] wrote 3 names to /etc/hosts',
    ]) {
      expect(redact(line)).toBe(line)
    }
  })
})

describe('createRotatingFileLogger', () => {
  test('writes redacted, timestamped lines and keeps a tail', async () => {
    const logger = createRotatingFileLogger({ dir, now: () => new Date('2026-01-02T03:04:05.000Z'), knownSecrets: () => ['Sup3rSecret'] })
    logger.info('[tunnel] connect via http://u:pw@203.0.113.10:3128')
    logger.warn('[ipc] saw Sup3rSecret in a message')
    logger.error('[app] failed', new Error('password=abc'))
    logger.debug('not written at info level')
    const text = await readFile(join(dir, 'main.log'), 'utf8')
    expect(text).toContain('2026-01-02T03:04:05.000Z INFO  [tunnel] connect via http://u:***@203.0.113.10:3128\n')
    expect(text).toContain('WARN  [ipc] saw *** in a message')
    expect(text).toContain('ERROR [app] failed password=***')
    expect(text).not.toMatch(/Sup3rSecret|:pw@|password=abc|not written/)
    expect(logger.tail(2).map((e) => e.level)).toEqual(['warn', 'error'])
    expect((await stat(join(dir, 'main.log'))).mode & 0o077).toBe(0)
  })

  test('rotates by size and keeps N files, newest in main.log', async () => {
    const logger = createRotatingFileLogger({ dir, maxBytes: 200, maxFiles: 3, now: () => new Date(0) })
    for (let i = 0; i < 40; i++) logger.info(`line ${String(i).padStart(2, '0')} ${'x'.repeat(40)}`)
    const files = (await readdir(dir)).sort()
    expect(files).toEqual(['main.1.log', 'main.2.log', 'main.log'])
    for (const file of files) expect((await stat(join(dir, file))).size).toBeLessThanOrEqual(200)
    const newest = await readFile(join(dir, 'main.log'), 'utf8')
    expect(newest).toContain('line 39')
    const older = await readFile(join(dir, 'main.1.log'), 'utf8')
    const oldest = await readFile(join(dir, 'main.2.log'), 'utf8')
    const firstNumber = (t: string) => Number(/line (\d+)/.exec(t)?.[1])
    expect(firstNumber(oldest)).toBeLessThan(firstNumber(older))
    expect(firstNumber(older)).toBeLessThan(firstNumber(newest))
    // Nothing lost between the kept files: their lines are consecutive.
    const all = [oldest, older, newest].join('').match(/line \d+/g)?.map((l) => Number(l.slice(5)))
    expect(all).toEqual(Array.from({ length: all?.length ?? 0 }, (_, i) => 40 - (all?.length ?? 0) + i))
  })

  test('keeps appending to an existing file across restarts, counting its size', async () => {
    const first = createRotatingFileLogger({ dir, maxBytes: 150, maxFiles: 2, now: () => new Date(0) })
    first.info('a'.repeat(80))
    const second = createRotatingFileLogger({ dir, maxBytes: 150, maxFiles: 2, now: () => new Date(0) })
    second.info('b'.repeat(80))
    expect(await readFile(join(dir, 'main.1.log'), 'utf8')).toContain('a'.repeat(80))
    expect(await readFile(join(dir, 'main.log'), 'utf8')).toContain('b'.repeat(80))
  })

  test('a folder it cannot write does not throw; entries still reach the tail', async () => {
    const logger = createRotatingFileLogger({ dir: join(dir, 'file-not-dir', 'x'), now: () => new Date(0) })
    const { writeFile } = await import('node:fs/promises')
    await writeFile(join(dir, 'file-not-dir'), 'a file where a folder should be')
    const originalWrite = process.stderr.write.bind(process.stderr)
    const stderr: string[] = []
    process.stderr.write = ((chunk: string) => {
      stderr.push(String(chunk))
      return true
    }) as typeof process.stderr.write
    try {
      expect(() => logger.info('still fine')).not.toThrow()
      expect(() => logger.info('still fine again')).not.toThrow()
    } finally {
      process.stderr.write = originalWrite
    }
    expect(stderr).toHaveLength(1)
    expect(logger.tail(10).map((e) => e.message)).toEqual(['still fine', 'still fine again'])
  })
})
