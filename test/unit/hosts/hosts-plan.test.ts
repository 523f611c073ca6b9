import { describe, expect, it } from 'vitest'
import { isBridgeError } from '../../../electron/core/errors.js'
import { parseHosts } from '../../../electron/core/hosts/document.js'
import { HOSTS_BLOCK_BEGIN as BEGIN, HOSTS_BLOCK_END as END, inspectHosts, revertHosts } from '../../../electron/core/hosts/hosts-block.js'
import { assertNoBlockingConflicts, planHosts, planHostsBytes, revertHostsBytes, type HostsPlanOptions } from '../../../electron/core/hosts/hosts-plan.js'

const reg = 'registry-vpc.cn-beijing.aliyuncs.com'
const auth = 'dockerauth-vpc.cn-beijing.aliyuncs.com'
const entries = [
  { address: '127.0.0.1', name: reg },
  { address: '127.0.0.1', name: auth },
]
const linux: HostsPlanOptions = { takeOver: false, platform: 'linux' }

function apply(text: string, options: HostsPlanOptions = linux, list = entries): string {
  const plan = planHosts(parseHosts(text), list, options)
  assertNoBlockingConflicts(plan)
  return plan.newContent
}

function revert(text: string): string {
  return revertHosts(parseHosts(text)).newContent
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('planHosts', () => {
  it('appends the block with the file line ending and reverts to the same text', () => {
    const before = '127.0.0.1 localhost\n::1 localhost\n'
    const after = apply(before)
    expect(after).toBe(`${before}${BEGIN}\n127.0.0.1 ${reg}\n127.0.0.1 ${auth}\n${END}\n`)
    expect(revert(after)).toBe(before)
    expect(apply(after)).toBe(after)
  })

  it('gives a last line without a line break one, ends the block without one, and revert takes it away', () => {
    const before = '127.0.0.1 localhost\r\n# last'
    const after = apply(before)
    expect(after).toBe(`127.0.0.1 localhost\r\n# last\r\n${BEGIN}\r\n127.0.0.1 ${reg}\r\n127.0.0.1 ${auth}\r\n${END}`)
    expect(revert(after)).toBe(before)
    expect(apply(after)).toBe(after)
  })

  it('uses the platform line ending on an empty file', () => {
    expect(apply('', { takeOver: false, platform: 'win32' })).toBe(`${BEGIN}\r\n127.0.0.1 ${reg}\r\n127.0.0.1 ${auth}\r\n${END}\r\n`)
    expect(apply('', { takeOver: false, platform: 'darwin' })).toBe(`${BEGIN}\n127.0.0.1 ${reg}\n127.0.0.1 ${auth}\n${END}\n`)
    expect(revert(apply('', { takeOver: false, platform: 'win32' }))).toBe('')
  })

  it('replaces a stale block in place and reports what changed', () => {
    const text = `a.b\n${BEGIN}\n10.0.0.1 ${reg}\n10.0.0.1 old.example.com\n${END}\n127.0.0.1 after\n`
    const plan = planHosts(parseHosts(text), entries, linux)
    expect(plan.newContent).toBe(`a.b\n${BEGIN}\n127.0.0.1 ${reg}\n127.0.0.1 ${auth}\n${END}\n127.0.0.1 after\n`)
    expect(plan.added).toEqual(entries)
    expect(plan.removed).toEqual([
      { address: '10.0.0.1', name: reg },
      { address: '10.0.0.1', name: 'old.example.com' },
    ])
    expect(plan.unchanged).toEqual([])
    const again = planHosts(parseHosts(plan.newContent), entries, linux)
    expect(again.changed).toBe(false)
    expect(again.unchanged).toEqual(entries)
  })

  it('reports a conflict with its line and owner and refuses without take-over', () => {
    const text = `127.0.0.1 localhost\n10.1.2.3 ${reg.toUpperCase()} other.example\n`
    const plan = planHosts(parseHosts(text), entries, linux)
    expect(plan.conflicts).toEqual([
      { name: reg, line: 2, address: '10.1.2.3', owner: 'user', canTakeOver: true, takenOver: false, otherNames: ['other.example'] },
    ])
    expect(plan.shadowed).toEqual([reg])
    const error = thrown(() => assertNoBlockingConflicts(plan))
    expect(isBridgeError(error, 'HOSTS_CONFLICT')).toBe(true)
    expect((error as Error).message).toContain(`${reg} (line 2)`)
  })

  it('takes over conflicting lines with the marker and restores them on revert', () => {
    const before = `127.0.0.1 localhost\n  10.1.2.3\t${reg}\n`
    const after = apply(before, { takeOver: true, platform: 'linux' })
    expect(after.split('\n')[1]).toBe(`#acr-bridge-off#   10.1.2.3\t${reg}`)
    expect(inspectHosts(parseHosts(after)).takenOver).toEqual([{ line: 2, text: `  10.1.2.3\t${reg}` }])
    expect(revert(after)).toBe(before)
    // Consent given once holds: applying again without take-over keeps the line commented out.
    expect(apply(after, linux)).toBe(after)
  })

  it('never rewrites Docker Desktop lines: they block even with take-over', () => {
    const text = `# Added by Docker Desktop\r\n192.168.65.2 ${reg}\r\n# End of section\r\n`
    const plan = planHosts(parseHosts(text), entries, { takeOver: true, platform: 'win32' })
    expect(plan.conflicts[0]).toMatchObject({ name: reg, line: 2, owner: 'docker-desktop', canTakeOver: false, takenOver: false })
    expect(plan.newContent.startsWith(text)).toBe(true)
    const error = thrown(() => assertNoBlockingConflicts(plan))
    expect(isBridgeError(error, 'HOSTS_CONFLICT')).toBe(true)
    expect((error as { hint?: string }).hint).toContain('never rewrites')
  })

  it('names other tools by their marker line', () => {
    const text = `# BEGIN ANSIBLE MANAGED BLOCK\n1.2.3.4 ${auth}\n# END ANSIBLE MANAGED BLOCK\n`
    const plan = planHosts(parseHosts(text), entries, { takeOver: true, platform: 'linux' })
    expect(plan.conflicts[0]?.owner).toBe('# BEGIN ANSIBLE MANAGED BLOCK')
  })

  it('puts the block before SwitchHosts content, which SwitchHosts rewrites', () => {
    const text = '127.0.0.1 localhost\n# --- SWITCHHOSTS_CONTENT_START ---\n1.1.1.1 x.example\n'
    const after = apply(text)
    expect(after).toBe(`127.0.0.1 localhost\n${BEGIN}\n127.0.0.1 ${reg}\n127.0.0.1 ${auth}\n${END}\n# --- SWITCHHOSTS_CONTENT_START ---\n1.1.1.1 x.example\n`)
    expect(revert(after)).toBe(text)
  })

  it('does not count a later line as shadowing', () => {
    const text = `${BEGIN}\n${END}\n10.0.0.9 ${reg}\n`
    const plan = planHosts(parseHosts(text), entries, linux)
    expect(plan.conflicts).toHaveLength(1)
    expect(plan.shadowed).toEqual([])
  })

  it('refuses markers that do not pair up', () => {
    for (const text of [`${BEGIN}\n1.1.1.1 a.b\n`, `${END}\n`, `${BEGIN}\n${BEGIN}\n${END}\n`]) {
      const error = thrown(() => planHosts(parseHosts(text), entries, linux))
      expect(isBridgeError(error, 'HOSTS_READ_FAILED')).toBe(true)
      expect(isBridgeError(thrown(() => revertHosts(parseHosts(text))), 'HOSTS_READ_FAILED')).toBe(true)
      expect(inspectHosts(parseHosts(text)).malformed).toBeDefined()
    }
  })

  it('re-validates every entry before writing', () => {
    const bad = [
      { address: '127.0.0.1', name: 'a.b\n1.2.3.4 evil.com' },
      { address: '127.0.0.1', name: 'x y' },
      { address: '127.0.0.1', name: '中文.com' },
      { address: '127.0.0.1', name: '$(reboot)' },
      { address: '127.0.0.1 evil.com', name: 'a.b' },
      { address: 'localhost', name: 'a.b' },
      { address: 'fe80::1%eth0', name: 'a.b' },
    ]
    for (const entry of bad) {
      const error = thrown(() => planHosts(parseHosts(''), [entry], linux))
      expect(isBridgeError(error, 'INVALID_CONFIG')).toBe(true)
    }
    const twice = thrown(() => planHosts(parseHosts(''), [{ address: '127.0.0.1', name: 'A.b' }, { address: '127.0.0.2', name: 'a.B' }], linux))
    expect(isBridgeError(twice, 'INVALID_CONFIG')).toBe(true)
  })

  it('refuses a file with NUL bytes (UTF-16 without a BOM)', () => {
    const error = thrown(() => planHostsBytes(Buffer.from('a\0b\0', 'latin1'), entries, linux))
    expect(isBridgeError(error, 'HOSTS_ENCODING_UNSUPPORTED')).toBe(true)
  })

  it('keeps a UTF-16 LE file UTF-16 LE', () => {
    const before = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('# 主机\r\n127.0.0.1 localhost\r\n', 'utf16le')])
    const planned = planHostsBytes(before, entries, linux)
    expect(planned.encoding).toEqual({ charset: 'utf16le', bom: true })
    expect(planned.newBytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xfe]))
    expect(planned.newBytes.subarray(2).toString('utf16le')).toContain(`\r\n127.0.0.1 ${reg}\r\n`)
    expect(revertHostsBytes(planned.newBytes).newBytes.equals(before)).toBe(true)
  })
})
