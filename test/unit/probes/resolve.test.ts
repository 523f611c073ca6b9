import { describe, expect, it } from 'vitest'
import type { HostEntry } from '../../../electron/core/catalog/types.js'
import { HOSTS_BLOCK_BEGIN, HOSTS_BLOCK_END, HOSTS_TAKEOVER_PREFIX } from '../../../electron/core/hosts/hosts-block.js'
import { hostsFileMappings, probeResolve, readHostsText, type Lookup } from '../../../electron/core/probes/resolve.js'

const registry = 'registry-vpc.cn-beijing.aliyuncs.com'
const oss = 'oss-cn-beijing-internal.aliyuncs.com'
const entry = (name: string, address = '127.0.0.1'): HostEntry => ({ address, name, ports: [443], origins: [{ kind: 'extra' }] })

const file = (before: string[], block: string[], after: string[] = []): string =>
  [...before, HOSTS_BLOCK_BEGIN, ...block, HOSTS_BLOCK_END, ...after, ''].join('\n')

/** A resolver that reads `text` the way getaddrinfo's files backend does: the first line mapping the name. */
function filesLookup(text: string): Lookup {
  return async (name) => {
    for (const line of text.split('\n')) {
      const fields = line.replace(/#.*/, '').trim().split(/\s+/)
      if (fields.length > 1 && fields.slice(1).some((f) => f.toLowerCase() === name)) return [{ address: fields[0]!, family: 4 }]
    }
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
  }
}

async function check(text: string, name = registry, lookup: Lookup = filesLookup(text)) {
  return probeResolve(entry(name), { lookup, mappings: hostsFileMappings(text), hostsPath: '/etc/hosts', timeoutMs: 1000 })
}

describe('hostsFileMappings', () => {
  it('the first active line per name, ours or not, and our block line', () => {
    const text = file(['127.0.0.1 localhost', `10.9.9.9 ${registry.toUpperCase()} # pinned`], [`127.0.0.1 ${registry}`, `127.0.0.1 ${oss}`], [`10.1.1.1 ${oss}`])
    const map = hostsFileMappings(text)
    expect(map.get(registry)).toEqual({ first: { line: 2, address: '10.9.9.9', ours: false }, ours: { line: 4, address: '127.0.0.1' } })
    expect(map.get(oss)).toEqual({ first: { line: 5, address: '127.0.0.1', ours: true }, ours: { line: 5, address: '127.0.0.1' } })
    expect(map.get('localhost')?.first.line).toBe(1)
  })

  it('lines we took over (commented out by acr-bridge) and comments do not count', () => {
    const text = file([`${HOSTS_TAKEOVER_PREFIX}10.9.9.9 ${registry}`, `# 10.8.8.8 ${registry}`], [`127.0.0.1 ${registry}`])
    expect(hostsFileMappings(text).get(registry)?.first).toEqual({ line: 4, address: '127.0.0.1', ours: true })
  })
})

describe('probeResolve', () => {
  it('passes when the name resolves to the listen address through our block', async () => {
    const result = await check(file(['127.0.0.1 localhost'], [`127.0.0.1 ${registry}`]))
    expect(result).toMatchObject({ name: registry, hop: 'resolve', ok: true, reason: 'resolves to 127.0.0.1 (/etc/hosts line 3)' })
  })

  it('an earlier line mapping the name elsewhere shadows our block: names the line and how to fix it', async () => {
    const result = await check(file(['127.0.0.1 localhost', `10.9.9.9 ${registry}`], [`127.0.0.1 ${registry}`]))
    expect(result.ok).toBe(false)
    expect(result.reason).toBe(`line 2 of /etc/hosts maps ${registry} to 10.9.9.9, before the acr-bridge block (line 4): resolvers use the first match`)
    expect(result.hint).toContain('Remove or comment out line 2 of /etc/hosts')
    expect(result.hint).toContain('hosts.takeOver')
  })

  it('an earlier line with the same address is not shadowing', async () => {
    expect((await check(file([`127.0.0.1 ${registry}`], [`127.0.0.1 ${registry}`]))).ok).toBe(true)
  })

  it('a name missing from the block: does not resolve, run up', async () => {
    const result = await check(file(['127.0.0.1 localhost'], [`127.0.0.1 ${registry}`]), oss)
    expect(result).toMatchObject({ ok: false, reason: `${oss} does not resolve (ENOTFOUND): the hosts file does not map it` })
    expect(result.hint).toContain('acr-bridge up')
  })

  it('resolving through DNS to somewhere else is not good enough', async () => {
    const dns: Lookup = async () => [{ address: '100.118.58.10', family: 4 }]
    const result = await check(file([], [`127.0.0.1 ${registry}`]), oss, dns)
    expect(result).toMatchObject({ ok: false, reason: 'resolves to 100.118.58.10 through DNS: the hosts file does not map it' })
  })

  it('the file maps it but the resolver answers otherwise (a stale cache)', async () => {
    const stale: Lookup = async () => [{ address: '100.118.58.10', family: 4 }]
    const result = await check(file([], [`127.0.0.1 ${registry}`]), registry, stale)
    expect(result.ok).toBe(false)
    expect(result.reason).toContain('although the hosts file maps it to 127.0.0.1 (line 2)')
    expect(result.hint).toContain('Flush the resolver cache')
  })

  it('our block maps it to an old listen address', async () => {
    const result = await check(file([], [`127.0.0.2 ${registry}`]))
    expect(result).toMatchObject({ ok: false, reason: `the acr-bridge block maps ${registry} to 127.0.0.2, not the listen address 127.0.0.1` })
  })

  it('a resolver that hangs costs the time limit, not more', async () => {
    const hang: Lookup = () => new Promise(() => {})
    const started = performance.now()
    const result = await probeResolve(entry(registry), { lookup: hang, hostsPath: '/etc/hosts', timeoutMs: 50 })
    expect(result).toMatchObject({ ok: false, reason: `${registry} does not resolve (ETIMEOUT): the hosts file does not map it` })
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('an unreadable hosts file still gives a verdict from the resolver', async () => {
    expect(await readHostsText('/nonexistent/hosts')).toEqual({ error: 'ENOENT' })
    const result = await probeResolve(entry(registry), { lookup: async () => [{ address: '127.0.0.1', family: 4 }], hostsPath: '/x', timeoutMs: 100 })
    expect(result).toMatchObject({ ok: true, reason: 'resolves to 127.0.0.1' })
  })
})
