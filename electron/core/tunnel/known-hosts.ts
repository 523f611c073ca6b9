// OpenSSH known_hosts: parse, match a host, check an offered host key, and add a trusted key (for the "trust this
// key" button). Parsing and matching are pure; readKnownHosts and trustHostKey touch the file system.
//
// Supported as OpenSSH does (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): comma-separated host patterns with `*`, `?` and
// `!` negation, case-insensitive; `[host]:port` for ports other than 22; hashed names `|1|salt|hash`
// (HMAC-SHA1 keyed with the salt over the name); @revoked (a listed key is refused for the hosts its line matches).
// @cert-authority lines are parsed but never vouch for a key: the SSH client (ssh2) does not negotiate host
// certificates, so a host only covered by a CA line is "unknown" (details.certAuthorityOnly says so).

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, chown, mkdir, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { BridgeError, errnoCode } from '../errors.js'

export type KnownHostsMarker = 'cert-authority' | 'revoked'

export type KnownHostsHosts =
  | { readonly kind: 'patterns'; readonly patterns: readonly string[] }
  | { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer }

export interface KnownHostsEntry {
  /** 1-based line number in the file. */
  readonly line: number
  readonly marker?: KnownHostsMarker
  readonly hosts: KnownHostsHosts
  /** As written on the line and inside the key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, …). */
  readonly keyType: string
  readonly keyBase64: string
  /** The decoded public key blob (SSH wire format). */
  readonly key: Buffer
}

export interface ParsedKnownHosts {
  readonly entries: readonly KnownHostsEntry[]
  /** 1-based numbers of lines that are neither blank, comments nor valid entries (OpenSSH skips them too). */
  readonly invalidLines: readonly number[]
}

/** The result of checking an offered host key against the entries. */
export type HostKeyVerdict =
  | { readonly kind: 'known'; readonly line: number }
  | { readonly kind: 'revoked'; readonly line: number }
  /** Keys of the offered type are listed for the host, none equal to the offered one. */
  | { readonly kind: 'mismatch'; readonly lines: readonly number[] }
  /** No key of the offered type is listed for the host. */
  | {
      readonly kind: 'unknown'
      /** Key types listed for the host (of other types than the offered one). */
      readonly otherKeyTypes: readonly string[]
      /** A @cert-authority line matches the host (unsupported: see the file header). */
      readonly certAuthority: boolean
    }

const HASH_MAGIC = '|1|'
const keyTypePattern = /^[a-z0-9][a-z0-9@.+-]*$/
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/

/** Parses known_hosts text; bad lines are reported in invalidLines and otherwise ignored. */
export function parseKnownHosts(text: string): ParsedKnownHosts {
  const entries: KnownHostsEntry[] = []
  const invalidLines: number[] = []
  const lines = text.split('\n')
  for (let index = 0; index < lines.length; index++) {
    const raw = (lines[index] ?? '').replace(/\r$/, '').trim()
    if (raw === '' || raw.startsWith('#')) continue
    const entry = parseEntry(raw, index + 1)
    if (entry === undefined) invalidLines.push(index + 1)
    else entries.push(entry)
  }
  return { entries, invalidLines }
}

function parseEntry(raw: string, line: number): KnownHostsEntry | undefined {
  const fields = raw.split(/[ \t]+/)
  let marker: KnownHostsMarker | undefined
  if (fields[0]?.startsWith('@')) {
    const word = fields.shift()
    if (word === '@cert-authority') marker = 'cert-authority'
    else if (word === '@revoked') marker = 'revoked'
    else return undefined
  }
  const [hostField, keyType, keyBase64] = fields
  if (hostField === undefined || keyType === undefined || keyBase64 === undefined) return undefined
  const hosts = parseHostField(hostField)
  if (hosts === undefined) return undefined
  const key = decodeKey(keyType, keyBase64)
  if (key === undefined) return undefined
  return { line, ...(marker === undefined ? {} : { marker }), hosts, keyType, keyBase64, key }
}

function parseHostField(field: string): KnownHostsHosts | undefined {
  if (field.startsWith(HASH_MAGIC)) {
    const parts = field.slice(HASH_MAGIC.length).split('|')
    if (parts.length !== 2) return undefined
    const [salt64, hash64] = parts as [string, string]
    if (!base64Pattern.test(salt64) || !base64Pattern.test(hash64)) return undefined
    const salt = Buffer.from(salt64, 'base64')
    const hash = Buffer.from(hash64, 'base64')
    if (salt.length !== 20 || hash.length !== 20) return undefined
    return { kind: 'hashed', salt, hash }
  }
  const patterns = field.split(',').filter((pattern) => pattern !== '')
  if (patterns.length === 0) return undefined
  return { kind: 'patterns', patterns }
}

/** Decodes a key as written on a line; undefined unless it is base64 of a blob whose type equals `keyType`. */
function decodeKey(keyType: string, keyBase64: string): Buffer | undefined {
  if (!keyTypePattern.test(keyType) || !base64Pattern.test(keyBase64)) return undefined
  const key = Buffer.from(keyBase64, 'base64')
  if (sshKeyType(key) !== keyType) return undefined
  return key
}

/** The key type named inside an SSH public key blob (its first string), or undefined if the blob is malformed. */
export function sshKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined
  const length = blob.readUInt32BE(0)
  if (length === 0 || length > 64 || blob.length < 4 + length + 1) return undefined
  const type = blob.subarray(4, 4 + length).toString('latin1')
  return keyTypePattern.test(type) ? type : undefined
}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` + unpadded base64 of its SHA-256 (as `ssh-keygen -l`). */
export function sshKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** The name OpenSSH looks up for a host: the lowercased host for port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase()
  return port === 22 ? name : `[${name}]:${port}`
}

/** `|1|salt|hash` for `name` (as `ssh-keygen -H` writes it); a random 20-byte salt unless one is given. */
export function hashKnownHostsName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest()
  return `${HASH_MAGIC}${salt.toString('base64')}|${hash.toString('base64')}`
}

/** OpenSSH's match_pattern: `*` any run of characters, `?` one character; case-insensitive. */
export function matchHostPattern(name: string, pattern: string): boolean {
  const s = name.toLowerCase()
  const p = pattern.toLowerCase()
  // Iterative glob match with backtracking to the last `*`.
  let si = 0
  let pi = 0
  let starPi = -1
  let starSi = 0
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      si++
      pi++
    } else if (pi < p.length && p[pi] === '*') {
      starPi = pi++
      starSi = si
    } else if (starPi !== -1) {
      pi = starPi + 1
      si = ++starSi
    } else {
      return false
    }
  }
  while (pi < p.length && p[pi] === '*') pi++
  return pi === p.length
}

/** Whether an entry's host field matches `name` (see knownHostsName): a negated pattern that matches wins. */
export function entryMatchesName(entry: Pick<KnownHostsEntry, 'hosts'>, name: string): boolean {
  const hosts = entry.hosts
  if (hosts.kind === 'hashed') {
    const hash = createHmac('sha1', hosts.salt).update(name.toLowerCase()).digest()
    return timingSafeEqual(hash, hosts.hash)
  }
  let matched = false
  for (const pattern of hosts.patterns) {
    if (pattern.startsWith('!')) {
      if (matchHostPattern(name, pattern.slice(1))) return false
    } else if (matchHostPattern(name, pattern)) {
      matched = true
    }
  }
  return matched
}

/** Checks the key a server offered for host:port, the way OpenSSH does: revoked first, then known, then changed. */
export function checkHostKey(entries: readonly KnownHostsEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port)
  const keyType = sshKeyType(key)
  let knownLine: number | undefined
  const mismatchLines: number[] = []
  const otherKeyTypes = new Set<string>()
  let certAuthority = false
  for (const entry of entries) {
    if (!entryMatchesName(entry, name)) continue
    if (entry.marker === 'revoked') {
      if (entry.key.equals(key)) return { kind: 'revoked', line: entry.line }
    } else if (entry.marker === 'cert-authority') {
      certAuthority = true
    } else if (entry.keyType === keyType) {
      if (entry.key.equals(key)) knownLine ??= entry.line
      else mismatchLines.push(entry.line)
    } else {
      otherKeyTypes.add(entry.keyType)
    }
  }
  if (knownLine !== undefined) return { kind: 'known', line: knownLine }
  if (mismatchLines.length > 0) return { kind: 'mismatch', lines: mismatchLines }
  return { kind: 'unknown', otherKeyTypes: [...otherKeyTypes], certAuthority }
}

/** The key types listed (not revoked, not CA) for host:port, in file order: the client should prefer these. */
export function knownKeyTypesFor(entries: readonly KnownHostsEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port)
  const types: string[] = []
  for (const entry of entries) {
    if (entry.marker !== undefined || types.includes(entry.keyType)) continue
    if (entryMatchesName(entry, name)) types.push(entry.keyType)
  }
  return types
}

/**
 * The BridgeError for a verdict other than 'known': SSH_HOST_KEY_UNKNOWN or SSH_HOST_KEY_MISMATCH (revoked keys
 * too, with details.revoked). The message and details carry the offered key's fingerprint; details also carry the
 * key itself (`key`, base64) so a UI can show it and call trustHostKey.
 */
export function hostKeyError(
  verdict: Exclude<HostKeyVerdict, { kind: 'known' }>,
  host: string,
  port: number,
  key: Buffer,
  knownHostsPath: string,
): BridgeError {
  const fingerprint = sshKeyFingerprint(key)
  const keyType = sshKeyType(key) ?? 'unknown'
  const where = `${host}:${port}`
  const details = { fingerprint, keyType, host, port, key: key.toString('base64'), knownHostsPath }
  switch (verdict.kind) {
    case 'unknown': {
      const others = verdict.otherKeyTypes.length > 0 ? ` (it lists ${verdict.otherKeyTypes.join(', ')} keys for it)` : ''
      return new BridgeError(
        'SSH_HOST_KEY_UNKNOWN',
        `The SSH host key of ${where} (${keyType} ${fingerprint}) is not in ${knownHostsPath}${others}.`,
        {
          hint: verdict.certAuthority
            ? 'Host certificates (@cert-authority) are not supported: compare the fingerprint with the ECS (ssh-keygen -lf on its host key) and trust the key itself.'
            : 'Compare the fingerprint with the ECS (ssh-keygen -lf on its host key, e.g. in the ECS console), then trust the key.',
          details: { ...details, certAuthorityOnly: verdict.certAuthority },
        },
      )
    }
    case 'mismatch':
      return new BridgeError(
        'SSH_HOST_KEY_MISMATCH',
        `The SSH host key of ${where} (${keyType} ${fingerprint}) differs from the one in ${knownHostsPath} (line ${verdict.lines.join(', ')}).`,
        {
          hint: 'Someone may be intercepting the connection, or the ECS was rebuilt: confirm the new fingerprint on the ECS before replacing the old entry.',
          details: { ...details, revoked: false, lines: verdict.lines.join(',') },
        },
      )
    case 'revoked':
      return new BridgeError(
        'SSH_HOST_KEY_MISMATCH',
        `The SSH host key of ${where} (${keyType} ${fingerprint}) is marked @revoked in ${knownHostsPath} (line ${verdict.line}).`,
        {
          hint: 'Do not trust this key: ask the ECS owner for its current host key.',
          details: { ...details, revoked: true, lines: String(verdict.line) },
        },
      )
  }
}

/** Reads and parses a known_hosts file; a missing file is an empty one. */
export async function readKnownHosts(path: string): Promise<ParsedKnownHosts> {
  try {
    return parseKnownHosts(await readFile(path, 'utf8'))
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { entries: [], invalidLines: [] }
    throw new BridgeError('INVALID_CONFIG', `Cannot read the known_hosts file ${path} (${errnoCode(error) ?? 'error'}).`, {
      hint: 'Check tunnel.ssh.knownHostsPath and the file permissions.',
      field: 'tunnel.ssh.knownHostsPath',
      cause: error,
    })
  }
}

export interface TrustHostKeyOptions {
  /** Write the name hashed (`|1|salt|hash`). 'auto' (the default): hash when the file already has hashed entries. */
  readonly hash?: boolean | 'auto'
  /**
   * Also remove the entries the key conflicts with (same host, same key type, another key): for a key change the
   * user has verified. A hashed or single-name line is dropped; a literal name is taken out of a list; a line that
   * matches only through a wildcard is left as it is (counted in `remainingConflicts`).
   */
  readonly replace?: boolean
}

export interface TrustHostKeyResult {
  /** False when the key was already listed for the host. */
  readonly added: boolean
  /** The line appended (empty when nothing was added). */
  readonly line: string
  /** Entries removed or narrowed (replace). */
  readonly replaced: number
  /** Conflicting entries left in place (without replace, or matched only by a wildcard). */
  readonly remainingConflicts: number
}

const trustableHostPattern = /^[A-Za-z0-9._:%-]{1,253}$/

/**
 * Adds `keyType keyBase64` for host:port to the known_hosts file, atomically (temp file in the same folder, fsync,
 * rename; a symlink is followed to its target; mode and owner kept). Creates the file (0600) and its folder (0700)
 * when missing. Refuses a key that a @revoked line lists for the host.
 */
export async function trustHostKey(
  knownHostsPath: string,
  host: string,
  port: number,
  keyType: string,
  keyBase64: string,
  options: TrustHostKeyOptions = {},
): Promise<TrustHostKeyResult> {
  if (!trustableHostPattern.test(host)) {
    throw new BridgeError('INVALID_CONFIG', `"${host}" is not a host name or address that known_hosts can list.`, {
      hint: 'Use the ECS address or DNS name, without spaces, commas or wildcards.',
      field: 'tunnel.host',
    })
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BridgeError('INVALID_CONFIG', `${port} is not a TCP port.`, { hint: 'Use a port from 1 to 65535.', field: 'tunnel.port' })
  }
  const key = decodeKey(keyType, keyBase64)
  if (key === undefined) throw new Error(`trustHostKey: the key is not a base64 ${keyType} public key blob`)

  const target = await resolveTarget(knownHostsPath)
  let text = ''
  let existing: { mode: number; uid: number; gid: number } | undefined
  try {
    text = await readFile(target, 'utf8')
    const info = await stat(target)
    existing = { mode: info.mode & 0o7777, uid: info.uid, gid: info.gid }
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw writeFailed(knownHostsPath, error)
  }

  const { entries } = parseKnownHosts(text)
  const verdict = checkHostKey(entries, host, port, key)
  if (verdict.kind === 'revoked') throw hostKeyError(verdict, host, port, key, knownHostsPath)
  const name = knownHostsName(host, port)
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text === '' ? [] : text.split(/\r?\n/)
  const hadFinalNewline = text === '' || /\r?\n$/.test(text)
  if (hadFinalNewline && lines.length > 0) lines.pop()

  let replaced = 0
  let remainingConflicts = verdict.kind === 'mismatch' ? verdict.lines.length : 0
  const dropped = new Set<number>()
  if (options.replace === true && verdict.kind === 'mismatch') {
    remainingConflicts = 0
    const conflicting = new Set(verdict.lines)
    for (const entry of entries) {
      if (!conflicting.has(entry.line)) continue
      const index = entry.line - 1
      if (entry.hosts.kind === 'hashed') {
        dropped.add(index)
        replaced++
        continue
      }
      const patterns = entry.hosts.patterns
      const kept = patterns.filter((pattern) => pattern.toLowerCase() !== name)
      const narrowed = { hosts: { kind: 'patterns', patterns: kept } } as const
      if (kept.length === patterns.length || entryMatchesName(narrowed, name)) {
        // The name is not literally listed (a wildcard matches it): removing the line would untrust other hosts.
        remainingConflicts++
        continue
      }
      if (!kept.some((pattern) => !pattern.startsWith('!'))) {
        dropped.add(index)
      } else {
        const fields = (lines[index] ?? '').trim().split(/[ \t]+/)
        fields[fields[0]?.startsWith('@') === true ? 1 : 0] = kept.join(',')
        lines[index] = fields.join(' ')
      }
      replaced++
    }
  }

  const added = verdict.kind !== 'known'
  const hashed = options.hash === 'auto' || options.hash === undefined ? entries.some((e) => e.hosts.kind === 'hashed') : options.hash
  const line = added ? `${hashed ? hashKnownHostsName(name) : name} ${keyType} ${keyBase64}` : ''
  if (!added && replaced === 0) return { added, line, replaced, remainingConflicts }

  const out = lines.filter((_, index) => !dropped.has(index))
  if (added) out.push(line)
  await writeAtomically(target, out.join(eol) + eol, existing, knownHostsPath)
  return { added, line, replaced, remainingConflicts }
}

async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return path
    throw writeFailed(path, error)
  }
}

async function writeAtomically(
  target: string,
  content: string,
  existing: { mode: number; uid: number; gid: number } | undefined,
  displayPath: string,
): Promise<void> {
  const folder = dirname(target)
  const temp = join(folder, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 })
    const handle = await open(temp, 'wx', existing?.mode ?? 0o600)
    try {
      await handle.writeFile(content, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await chmod(temp, existing?.mode ?? 0o600)
    if (existing !== undefined && process.getuid?.() === 0) await chown(temp, existing.uid, existing.gid)
    await rename(temp, target)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw writeFailed(displayPath, error)
  }
  try {
    const dir = await open(folder, 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  } catch {
    // Directory fsync is not possible everywhere (Windows); the rename has happened either way.
  }
}

function writeFailed(path: string, error: unknown): BridgeError {
  return new BridgeError('CONFIG_WRITE_FAILED', `Cannot update the known_hosts file ${path} (${errnoCode(error) ?? 'error'}).`, {
    hint: 'Check that the file and its folder are writable by you.',
    field: 'tunnel.ssh.knownHostsPath',
    cause: error,
  })
}
