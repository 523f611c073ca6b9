import { createHmac, randomBytes } from 'node:crypto'
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import {
  checkHostKey,
  entryMatchesName,
  hashKnownHostsName,
  hostKeyError,
  knownHostsName,
  knownKeyTypesFor,
  matchHostPattern,
  parseKnownHosts,
  readKnownHosts,
  sshKeyFingerprint,
  sshKeyType,
  trustHostKey,
} from '../../../electron/core/tunnel/known-hosts.js'

// Public keys made with ssh-keygen, and the fingerprints `ssh-keygen -lf` printed for them.
const ed25519 = {
  type: 'ssh-ed25519',
  base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIHvMVKrtTRsWQvX13eFkmgDrV5jbBwDxoucPe2KyvW6v',
  fingerprint: 'SHA256:D8CnrGGvw8H+PbIiPLvABRW5Na5PSG5Van6JN5MEUxM',
}
const ecdsa = {
  type: 'ecdsa-sha2-nistp256',
  base64:
    'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEpaGwUDoQqCpWdDlNzIGHqn7jNfFmL3hFP80ABX3SkGgZH7AgVH3w+B9y2yAkpOpEtRJ7BN7hEbBgQCEJZRq/0=',
  fingerprint: 'SHA256:1q2LZUP0AZITjT9Q5Z967wOigVfQQSFf2Sj5OKqL1Ig',
}
const rsa = {
  type: 'ssh-rsa',
  base64:
    'AAAAB3NzaC1yc2EAAAADAQABAAAAgQDPyZJkgELzKNqWzuDu8aIteul60EsX3zQ8WiWL54yuov+8XNmbHT5dn5xSYSJYtxBTVhZBr7PxtBVVsjBiBmmStCMdbZGyoIBrviCsSry80vune90ygA53juIm86YUE/NhIE0rcfWi5aC8xsycju2+7ZilUVn8CalHL3cfgQLJaQ==',
  fingerprint: 'SHA256:awye14QJLU9RFRt05wG4A8CUqDkcSZvJyGAn8gT9mig',
}
// `ssh-keygen -H` output for "[ecs.example.com]:2222 <ed25519>" and "ECS.example.com <ecdsa>".
const hashedByOpenSsh = [
  `|1|jbONdIAHQF7PzycxRWn5RiVbMlU=|Liy2ZvelLRUXV4Wooz9pSCYPItc= ${ed25519.type} ${ed25519.base64}`,
  `|1|JBduZOEtbHfyDLTClztCg6jevBY=|T9oI+zLR5vPE/KARS3TzOsCogMA= ${ecdsa.type} ${ecdsa.base64}`,
].join('\n')

const blob = (key: { base64: string }): Buffer => Buffer.from(key.base64, 'base64')

describe('key blobs', () => {
  it('computes the fingerprint ssh-keygen -lf prints', () => {
    for (const key of [ed25519, ecdsa, rsa]) expect(sshKeyFingerprint(blob(key))).toBe(key.fingerprint)
  })

  it('reads the key type inside a blob and rejects malformed blobs', () => {
    for (const key of [ed25519, ecdsa, rsa]) expect(sshKeyType(blob(key))).toBe(key.type)
    expect(sshKeyType(Buffer.alloc(0))).toBeUndefined()
    expect(sshKeyType(Buffer.from([0, 0, 0, 200, 65]))).toBeUndefined()
    expect(sshKeyType(Buffer.from([0, 0, 0, 0, 1]))).toBeUndefined()
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const type = sshKeyType(Buffer.from(bytes))
      return type === undefined || /^[a-z0-9][a-z0-9@.+-]*$/.test(type)
    }))
  })
})

describe('parseKnownHosts', () => {
  it('parses entries, markers, comments, blank lines and CRLF, and reports bad lines', () => {
    const text = [
      '# a comment',
      '',
      `ecs.example.com,10.0.0.5 ${ed25519.type} ${ed25519.base64} root@ecs`,
      `@revoked * ${rsa.type} ${rsa.base64}`,
      `@cert-authority *.example.com ${ecdsa.type} ${ecdsa.base64}\r`,
      `@unknown-marker host ${ed25519.type} ${ed25519.base64}`,
      `host ${ecdsa.type} ${ed25519.base64}`, // type on the line differs from the blob
      `host ${ed25519.type} not*base64`,
      'host ssh-ed25519',
      `|1|c2FsdA==|aGFzaA== ${ed25519.type} ${ed25519.base64}`, // salt and hash must be 20 bytes
      `   [ecs.example.com]:2222\t${rsa.type}   ${rsa.base64}`,
    ].join('\n')
    const { entries, invalidLines } = parseKnownHosts(text)
    expect(invalidLines).toEqual([6, 7, 8, 9, 10])
    expect(entries.map((e) => [e.line, e.marker, e.keyType])).toEqual([
      [3, undefined, 'ssh-ed25519'],
      [4, 'revoked', 'ssh-rsa'],
      [5, 'cert-authority', 'ecdsa-sha2-nistp256'],
      [11, undefined, 'ssh-rsa'],
    ])
    expect(entries[0]?.hosts).toEqual({ kind: 'patterns', patterns: ['ecs.example.com', '10.0.0.5'] })
    expect(entries[3]?.key.equals(blob(rsa))).toBe(true)
  })

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (text) => {
      const { entries, invalidLines } = parseKnownHosts(text)
      return entries.length + invalidLines.length <= text.split('\n').length
    }))
  })
})

describe('host matching', () => {
  it('looks up the bare host for port 22 and [host]:port otherwise, lowercased', () => {
    expect(knownHostsName('ECS.Example.com', 22)).toBe('ecs.example.com')
    expect(knownHostsName('ecs.example.com', 2222)).toBe('[ecs.example.com]:2222')
    expect(knownHostsName('::1', 2222)).toBe('[::1]:2222')
  })

  it('matches * and ? globs case-insensitively, like OpenSSH match_pattern', () => {
    expect(matchHostPattern('ecs.example.com', '*.example.com')).toBe(true)
    expect(matchHostPattern('example.com', '*.example.com')).toBe(false)
    expect(matchHostPattern('ecs1.example.com', 'ecs?.EXAMPLE.com')).toBe(true)
    expect(matchHostPattern('ecs12.example.com', 'ecs?.example.com')).toBe(false)
    expect(matchHostPattern('[ecs.example.com]:2222', '[*.example.com]:2222')).toBe(true)
    expect(matchHostPattern('[ecs.example.com]:22222', '[*.example.com]:2222')).toBe(false)
    expect(matchHostPattern('anything', '*')).toBe(true)
    expect(matchHostPattern('', '*')).toBe(true)
    expect(matchHostPattern('abc', 'a*b*c*')).toBe(true)
    expect(matchHostPattern('abxc', 'a*c')).toBe(true)
    expect(matchHostPattern('ab', 'a*c')).toBe(false)
  })

  it('a literal pattern matches exactly its own name (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9.-]{1,20}$/)
    fc.assert(fc.property(name, name, (a, b) => matchHostPattern(a, b) === (a === b)))
  })

  it('lets a matching negated pattern veto the line', () => {
    const entry = parseKnownHosts(`*.example.com,!bad.example.com ${ed25519.type} ${ed25519.base64}`).entries[0]!
    expect(entryMatchesName(entry, 'good.example.com')).toBe(true)
    expect(entryMatchesName(entry, 'bad.example.com')).toBe(false)
    expect(entryMatchesName(entry, 'example.org')).toBe(false)
  })

  it('matches the hashed lines ssh-keygen -H wrote', () => {
    const [port2222, port22] = parseKnownHosts(hashedByOpenSsh).entries
    expect(entryMatchesName(port2222!, knownHostsName('ecs.example.com', 2222))).toBe(true)
    expect(entryMatchesName(port2222!, knownHostsName('ecs.example.com', 22))).toBe(false)
    expect(entryMatchesName(port22!, knownHostsName('ECS.EXAMPLE.COM', 22))).toBe(true)
    expect(entryMatchesName(port22!, knownHostsName('ecs.example.com', 2222))).toBe(false)
  })

  it('matches a hashed entry computed here with HMAC-SHA1 only for its own name (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9.:[\]-]{1,30}$/)
    fc.assert(fc.property(name, name, fc.uint8Array({ minLength: 20, maxLength: 20 }), (a, b, saltBytes) => {
      const salt = Buffer.from(saltBytes)
      const hash = createHmac('sha1', salt).update(a).digest('base64')
      const line = `|1|${salt.toString('base64')}|${hash} ${ed25519.type} ${ed25519.base64}`
      const entry = parseKnownHosts(line).entries[0]!
      expect(hashKnownHostsName(a, salt)).toBe(line.split(' ')[0])
      return entryMatchesName(entry, b) === (a === b)
    }))
  })
})

describe('checkHostKey', () => {
  const file = (lines: string[]) => parseKnownHosts(lines.join('\n')).entries

  it('knows a listed key, and finds it through a host list', () => {
    const entries = file([`other.example.com ${rsa.type} ${rsa.base64}`, `10.0.0.5,ecs.example.com ${ed25519.type} ${ed25519.base64}`])
    expect(checkHostKey(entries, 'ecs.example.com', 22, blob(ed25519))).toEqual({ kind: 'known', line: 2 })
  })

  it('reports a mismatch when keys of the same type are listed but none is the offered one', () => {
    const entries = file([`[ecs.example.com]:2222 ${rsa.type} ${rsa.base64}`, `[ecs.example.com]:2222 ${ecdsa.type} ${ecdsa.base64}`])
    const other = `AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBB${randomBytes(64).toString('base64').slice(0, 86)}`
    const offered = Buffer.from(other, 'base64')
    expect(checkHostKey(entries, 'ecs.example.com', 2222, offered)).toEqual({ kind: 'mismatch', lines: [2] })
  })

  it('calls a host unknown when only other key types, other ports or CA lines match', () => {
    const entries = file([
      `ecs.example.com ${rsa.type} ${rsa.base64}`,
      `[ecs.example.com]:2222 ${ed25519.type} ${ed25519.base64}`,
      `@cert-authority *.example.com ${ecdsa.type} ${ecdsa.base64}`,
    ])
    expect(checkHostKey(entries, 'ecs.example.com', 22, blob(ed25519))).toEqual({ kind: 'unknown', otherKeyTypes: ['ssh-rsa'], certAuthority: true })
    expect(checkHostKey([], 'ecs.example.com', 22, blob(ed25519))).toEqual({ kind: 'unknown', otherKeyTypes: [], certAuthority: false })
  })

  it('refuses a revoked key even when it is also listed, but only for hosts the @revoked line matches', () => {
    const entries = file([`ecs.example.com ${ed25519.type} ${ed25519.base64}`, `@revoked *.example.com ${ed25519.type} ${ed25519.base64}`])
    expect(checkHostKey(entries, 'ecs.example.com', 22, blob(ed25519))).toEqual({ kind: 'revoked', line: 2 })
    const elsewhere = file([`ecs.example.org ${ed25519.type} ${ed25519.base64}`, `@revoked *.example.com ${ed25519.type} ${ed25519.base64}`])
    expect(checkHostKey(elsewhere, 'ecs.example.org', 22, blob(ed25519))).toEqual({ kind: 'known', line: 1 })
  })

  it('lists the known key types for a host in file order, without CA or revoked lines', () => {
    const entries = file([
      `@revoked * ${ed25519.type} ${ed25519.base64}`,
      `[h]:2222 ${rsa.type} ${rsa.base64}`,
      `[h]:2222 ${ecdsa.type} ${ecdsa.base64}`,
      `[h]:2222 ${rsa.type} ${rsa.base64}`,
      `h ${ed25519.type} ${ed25519.base64}`,
    ])
    expect(knownKeyTypesFor(entries, 'h', 2222)).toEqual(['ssh-rsa', 'ecdsa-sha2-nistp256'])
  })

  it('builds errors that carry the offered fingerprint and key for a trust prompt', () => {
    const unknown = hostKeyError({ kind: 'unknown', otherKeyTypes: [], certAuthority: false }, 'ecs.example.com', 22, blob(ed25519), 'kh')
    expect(unknown.code).toBe('SSH_HOST_KEY_UNKNOWN')
    expect(unknown.message).toContain(ed25519.fingerprint)
    expect(unknown.details).toMatchObject({ fingerprint: ed25519.fingerprint, keyType: 'ssh-ed25519', host: 'ecs.example.com', port: 22, key: ed25519.base64 })
    expect(unknown.hint).toBeTruthy()
    const mismatch = hostKeyError({ kind: 'mismatch', lines: [3, 7] }, 'h', 2222, blob(rsa), 'kh')
    expect(mismatch.code).toBe('SSH_HOST_KEY_MISMATCH')
    expect(mismatch.message).toContain('line 3, 7')
    expect(mismatch.details).toMatchObject({ fingerprint: rsa.fingerprint, revoked: false })
    const revoked = hostKeyError({ kind: 'revoked', line: 2 }, 'h', 22, blob(ecdsa), 'kh')
    expect(revoked.code).toBe('SSH_HOST_KEY_MISMATCH')
    expect(revoked.details).toMatchObject({ fingerprint: ecdsa.fingerprint, revoked: true })
  })
})

describe('readKnownHosts and trustHostKey (temp files)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'acrb-kh-unit-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  let n = 0
  const fresh = () => join(dir, `case${++n}`, 'known_hosts')

  it('reads a missing file as empty, and an unreadable one as INVALID_CONFIG', async () => {
    expect((await readKnownHosts(fresh())).entries).toEqual([])
    await expect(readKnownHosts(dir)).rejects.toMatchObject({ code: 'INVALID_CONFIG', field: 'tunnel.ssh.knownHostsPath' })
  })

  it('creates the file (0600) and its folder (0700), writing [host]:port for other ports', async () => {
    const path = fresh()
    const result = await trustHostKey(path, 'ecs.example.com', 2222, ed25519.type, ed25519.base64, { hash: false })
    expect(result).toMatchObject({ added: true, replaced: 0, remainingConflicts: 0 })
    expect(await readFile(path, 'utf8')).toBe(`[ecs.example.com]:2222 ${ed25519.type} ${ed25519.base64}\n`)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700)
    const again = await trustHostKey(path, 'ECS.example.com', 2222, ed25519.type, ed25519.base64)
    expect(again.added).toBe(false)
  })

  it('appends after a last line without newline, keeps CRLF and the file mode, and hashes when the file does', async () => {
    const path = fresh()
    await mkdir(join(path, '..'))
    await writeFile(path, `${hashedByOpenSsh.split('\n').join('\r\n')}`, { mode: 0o644 })
    await trustHostKey(path, '10.0.0.5', 22, rsa.type, rsa.base64)
    const text = await readFile(path, 'utf8')
    const lines = text.split('\r\n')
    expect(lines).toHaveLength(4)
    expect(lines[3]).toBe('')
    expect(lines[2]).toMatch(/^\|1\|\S+\|\S+ ssh-rsa /)
    expect(lines[2]).not.toContain('10.0.0.5')
    expect(checkHostKey(parseKnownHosts(text).entries, '10.0.0.5', 22, blob(rsa))).toEqual({ kind: 'known', line: 3 })
    expect((await stat(path)).mode & 0o777).toBe(0o644)
  })

  it('with replace, drops or narrows only the conflicting entries for the host', async () => {
    const path = fresh()
    const old = `AAAAC3NzaC1lZDI1NTE5AAAAI${randomBytes(33).toString('base64').slice(0, 43)}`
    await mkdir(join(path, '..'))
    await writeFile(
      path,
      [
        `ecs.example.com ssh-ed25519 ${old}`,
        `other.example.com,ecs.example.com ssh-ed25519 ${old}`,
        `*.example.com ssh-ed25519 ${old}`,
        `${hashKnownHostsName('ecs.example.com')} ssh-ed25519 ${old}`,
        `ecs.example.com ${rsa.type} ${rsa.base64}`,
        `other.example.com ssh-ed25519 ${old}`,
        '',
      ].join('\n'),
    )
    const result = await trustHostKey(path, 'ecs.example.com', 22, ed25519.type, ed25519.base64, { replace: true, hash: false })
    expect(result).toMatchObject({ added: true, replaced: 3, remainingConflicts: 1 })
    expect((await readFile(path, 'utf8')).split('\n')).toEqual([
      `other.example.com ssh-ed25519 ${old}`,
      `*.example.com ssh-ed25519 ${old}`,
      `ecs.example.com ${rsa.type} ${rsa.base64}`,
      `other.example.com ssh-ed25519 ${old}`,
      `ecs.example.com ${ed25519.type} ${ed25519.base64}`,
      '',
    ])
  })

  it('without replace, leaves a conflicting entry and says so', async () => {
    const path = fresh()
    await mkdir(join(path, '..'))
    const old = `AAAAC3NzaC1lZDI1NTE5AAAAI${randomBytes(33).toString('base64').slice(0, 43)}`
    await writeFile(path, `ecs.example.com ssh-ed25519 ${old}\n`)
    const result = await trustHostKey(path, 'ecs.example.com', 22, ed25519.type, ed25519.base64)
    expect(result).toMatchObject({ added: true, replaced: 0, remainingConflicts: 1 })
    expect(await readFile(path, 'utf8')).toContain(old)
  })

  it('writes through a symlink to its target', async () => {
    const path = fresh()
    await mkdir(join(path, '..'))
    const target = join(path, '..', 'real_known_hosts')
    await writeFile(target, '')
    await symlink(target, path)
    await trustHostKey(path, 'h', 22, ed25519.type, ed25519.base64)
    expect((await lstat(path)).isSymbolicLink()).toBe(true)
    expect(await readFile(target, 'utf8')).toBe(`h ${ed25519.type} ${ed25519.base64}\n`)
  })

  it('refuses a revoked key, a bad host or port, and a key that is not of its type', async () => {
    const path = fresh()
    await mkdir(join(path, '..'))
    await writeFile(path, `@revoked * ${ed25519.type} ${ed25519.base64}\n`)
    const revoked = await trustHostKey(path, 'h', 22, ed25519.type, ed25519.base64).catch((e: unknown) => e)
    expect(isBridgeError(revoked, 'SSH_HOST_KEY_MISMATCH')).toBe(true)
    for (const host of ['a b', 'a,b', '*.example.com', '', 'h\nx']) {
      await expect(trustHostKey(path, host, 22, ed25519.type, ed25519.base64)).rejects.toMatchObject({ code: 'INVALID_CONFIG', field: 'tunnel.host' })
    }
    await expect(trustHostKey(path, 'h', 0, ed25519.type, ed25519.base64)).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(trustHostKey(path, 'h', 22, rsa.type, ed25519.base64)).rejects.toThrow(/not a base64 ssh-rsa/)
    expect(await readFile(path, 'utf8')).toBe(`@revoked * ${ed25519.type} ${ed25519.base64}\n`)
  })
})
