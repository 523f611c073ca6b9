// The renderer's pure helpers: validation (same rules as the config), draft → config, rates, discovery merge.
import { describe, expect, it } from 'vitest'
import { formatBytes } from '../../renderer/components/format.js'
import { withEndpointKind, withRegion } from '../../renderer/features/regions/region-list.js'
import { regionMatches } from '../../renderer/features/regions/region-names.js'
import {
  normalizePersonalId,
  parsePort,
  validateHost,
  validateInstanceId,
  validateInstanceName,
  validatePersonalId,
} from '../../renderer/features/regions/validation.js'
import { withMissingHosts } from '../../renderer/features/status/discover-form.js'
import { checkDraft, configWith, draftFieldOf, draftFrom, withMode } from '../../renderer/features/tunnel/tunnel-draft.js'
import { throughputBetween } from '../../renderer/state/session.js'
import { parseConfig } from '../../electron/core/config/schema.js'
import type { BridgeError } from '../../electron/core/errors.js'
import { sampleCatalog, sampleConfig } from '../fakes/fake-bridge.js'

const view = { config: sampleConfig, storedSecrets: { proxyPassword: false, sshPassword: false, sshPassphrase: false }, secretStorageAvailable: true }

describe('validation', () => {
  it('instance names follow ^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$', () => {
    for (const ok of ['a', 'myinst', 'my-inst-2', `a${'b'.repeat(62)}`]) expect(validateInstanceName(ok), ok).toBeUndefined()
    expect(validateInstanceName('')).toBe('validate.nameRequired')
    for (const bad of ['My', '1abc', 'abc-', 'a_b', 'a b', `a${'b'.repeat(63)}`, 'ab\n']) {
      expect(validateInstanceName(bad), bad).toBe('validate.nameInvalid')
    }
  })

  it('instance ids are cri- plus lowercase letters and digits, optional', () => {
    expect(validateInstanceId('')).toBeUndefined()
    expect(validateInstanceId('cri-r0xfyoxudmtseqq7')).toBeUndefined()
    for (const bad of ['cri-', 'CRI-abc', 'cri-ab_c', 'crpi-abc', 'abc']) expect(validateInstanceId(bad), bad).toBe('validate.instanceIdInvalid')
  })

  it('Personal Edition ids take or leave the crpi- prefix', () => {
    expect(normalizePersonalId(' crpi-abc123 ')).toBe('abc123')
    expect(normalizePersonalId('abc123')).toBe('abc123')
    expect(validatePersonalId('crpi-abc123')).toBeUndefined()
    expect(validatePersonalId('')).toBe('validate.crpiRequired')
    expect(validatePersonalId('crpi-')).toBe('validate.crpiInvalid')
    expect(validatePersonalId('crpi-ABC')).toBe('validate.crpiInvalid')
  })

  it('hosts and ports', () => {
    for (const ok of ['203.0.113.10', 'ecs.example.com', '::1', 'fe80::1', 'localhost']) expect(validateHost(ok), ok).toBeUndefined()
    for (const bad of ['ecs host', 'a;b', 'a#b', '$(x)', 'a\nb', '-a.com', '1.2.3.4.5:::::::::']) {
      expect(validateHost(bad), bad).toBe('validate.hostInvalid')
    }
    expect(parsePort('443')).toBe(443)
    expect(parsePort('0')).toBeUndefined()
    expect(parsePort('65536')).toBeUndefined()
    expect(parsePort('4 43')).toBeUndefined()
    expect(parsePort('1e3')).toBeUndefined()
  })
})

describe('regions', () => {
  it('matches the id, the English name or the Chinese name', () => {
    const beijing = sampleCatalog.regions[0]
    if (beijing === undefined) throw new Error('catalog fixture changed')
    expect(regionMatches(beijing, 'BEIJ')).toBe(true)
    expect(regionMatches(beijing, '北京')).toBe(true)
    expect(regionMatches(beijing, 'cn-bei')).toBe(true)
    expect(regionMatches(beijing, '杭州')).toBe(false)
    expect(regionMatches(beijing, '  ')).toBe(true)
  })

  it('toggles regions and kinds; a region with no kind left is off', () => {
    const on = withRegion(sampleConfig, 'cn-beijing', true, ['registry-vpc'])
    expect(on.regions).toEqual([{ id: 'cn-beijing', endpoints: ['registry-vpc'] }])
    expect(withEndpointKind(on, 'cn-beijing', 'registry-vpc', false).regions).toEqual([])
    expect(withEndpointKind(on, 'cn-beijing', 'oss-internal', true).regions[0]?.endpoints).toEqual(['registry-vpc', 'oss-internal'])
    expect(withRegion(on, 'cn-beijing', false, []).regions).toEqual([])
  })
})

describe('tunnel draft', () => {
  it('round-trips the saved config unchanged', () => {
    expect(configWith(sampleConfig, draftFrom(view))).toEqual(sampleConfig)
  })

  it('moves the port with the mode only while it is the old mode’s default', () => {
    const draft = draftFrom(view)
    expect(withMode(draft, 'ssh').port).toBe('22')
    expect(withMode({ ...draft, port: '8443' }, 'ssh').port).toBe('8443')
  })

  it('refuses bad fields and builds the ssh options otherwise', () => {
    const draft = { ...withMode(draftFrom(view), 'ssh'), sshUsername: '' }
    expect(checkDraft(draft)).toEqual({ sshUsername: 'validate.usernameRequired' })
    const ok = { ...draft, sshUsername: 'root', sshKeyPath: '~/.ssh/id', sshAgent: true, listenHttpPort: '', proxyPort: '8080' }
    expect(checkDraft(ok)).toEqual({})
    const config = configWith(sampleConfig, ok)
    expect(config.tunnel).toEqual({ mode: 'ssh', host: '203.0.113.10', port: 22, ssh: { username: 'root', privateKeyPath: '~/.ssh/id', agent: true } })
    expect(config.listen).toEqual({ address: '127.0.0.1', port: 443, httpPort: null, proxyPort: 8080 })
  })

  it('maps refusal fields to form fields', () => {
    expect(draftFieldOf('tunnel.port')).toBe('port')
    expect(draftFieldOf('tunnel.httpPort')).toBe('httpPort')
    expect(draftFieldOf('listen.port')).toBe('listenPort')
    expect(draftFieldOf('tunnel.ssh.username')).toBe('sshUsername')
    expect(draftFieldOf('regions[0].id')).toBeUndefined()
    expect(draftFieldOf(undefined)).toBeUndefined()
  })
})

describe('status helpers', () => {
  it('computes rates from two traffic samples', () => {
    const t = (bytesUp: number, bytesDown: number) => [{ name: 'a', open: 1, total: 1, bytesUp, bytesDown, errors: 0 }]
    const rate = throughputBetween({ at: 1000, traffic: t(0, 0) }, { at: 3000, traffic: t(2048, 4096) })
    expect(rate.total).toEqual({ up: 1024, down: 2048 })
    expect(rate.byName.get('a')).toEqual({ up: 1024, down: 2048 })
    expect(throughputBetween({ at: 1000, traffic: t(5, 5) }, { at: 1000, traffic: t(9, 9) }).total).toEqual({ up: 0, down: 0 })
  })

  it('formats bytes', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB')
    expect(formatBytes(200 * 1024)).toBe('200 KiB')
  })

  it('adds missing discovered names once, with their ports', () => {
    const next = withMissingHosts({ ...sampleConfig, extraHosts: ['x.example.com'] }, [
      { name: 'x.example.com', port: 443, scheme: 'https', role: 'realm', covered: false },
      { name: 'b.example.com', port: 80, scheme: 'http', role: 'blob', covered: false },
      { name: 'b.example.com', port: 443, scheme: 'https', role: 'blob', covered: false },
      { name: 'c.example.com', port: 443, scheme: 'https', role: 'realm', covered: false },
    ])
    expect(next.extraHosts).toEqual(['x.example.com', { name: 'b.example.com', ports: [80, 443] }, 'c.example.com'])
  })
})

describe('tunnel draft and the config schema', () => {
  it('keeps only the chosen mode’s options, as the schema requires', () => {
    const saved = {
      ...sampleConfig,
      tunnel: { mode: 'connect' as const, host: 'p.example.com', port: 3128, connect: { username: 'u', tls: true } },
    }
    const toSsh = { ...withMode(draftFrom({ ...view, config: saved }), 'ssh'), sshUsername: 'root' }
    expect(configWith(saved, toSsh).tunnel).toEqual({ mode: 'ssh', host: 'p.example.com', port: 22, ssh: { username: 'root', agent: false } })
    const toSni = { ...withMode(draftFrom({ ...view, config: saved }), 'sni'), httpPort: '8080' }
    expect(configWith(saved, toSni).tunnel).toEqual({ mode: 'sni', host: 'p.example.com', port: 443, httpPort: 8080 })
  })

  it('refuses a proxy password without a user name', () => {
    const draft = { ...withMode(draftFrom(view), 'connect'), connectPassword: 'x' }
    expect(checkDraft(draft)).toEqual({ connectUsername: 'validate.usernameRequired' })
  })
})

describe('tunnel draft: the listen overrides', () => {
  const base = draftFrom(view)

  it('starts automatic and writes nothing for automatic', () => {
    expect(base).toMatchObject({ listenAlias: 'auto', listenMechanism: 'auto', highTlsPort: '', highHttpPort: '' })
    expect(configWith(sampleConfig, base).listen).toEqual(sampleConfig.listen)
    expect(Object.keys(configWith(sampleConfig, base).listen)).not.toContain('mechanism')
  })

  it('maps Always / Never, the mechanism and the fixed high ports, and back', () => {
    const draft = { ...base, listenAlias: 'never' as const, listenMechanism: 'redirect' as const, highTlsPort: '14443', highHttpPort: '14080' }
    const config = configWith(sampleConfig, draft)
    expect(config.listen).toEqual({ ...sampleConfig.listen, alias: false, mechanism: 'redirect', highPorts: { tls: 14443, http: 14080 } })
    expect(draftFrom({ ...view, config })).toEqual(draft)
    expect(configWith(sampleConfig, { ...base, listenAlias: 'always' }).listen.alias).toBe(true)
    // Back to automatic removes the saved overrides.
    expect(configWith(config, { ...draft, listenAlias: 'auto', listenMechanism: 'auto', highTlsPort: '', highHttpPort: '' }).listen).toEqual(sampleConfig.listen)
  })

  it('maps refusals of the new fields to their form fields', () => {
    expect(draftFieldOf('listen.alias')).toBe('listenAlias')
    expect(draftFieldOf('listen.mechanism')).toBe('listenMechanism')
    expect(draftFieldOf('listen.highPorts.http')).toBe('highHttpPort')
    expect(draftFieldOf('listen.highPorts.tls')).toBe('highTlsPort')
    expect(draftFieldOf('listen.highPorts')).toBe('highTlsPort')
  })

  // The form refuses exactly what the core's schema refuses (and blames the same field).
  const rows: readonly (readonly [string, Partial<typeof base>, string | undefined])[] = [
    ['automatic', {}, undefined],
    ['alias always on IPv4', { listenAddress: '10.200.10.1', listenAlias: 'always' }, undefined],
    ['alias always on IPv6', { listenAddress: '::1', listenAlias: 'always' }, 'listenAlias'],
    ['alias never on IPv6', { listenAddress: '::1', listenAlias: 'never' }, undefined],
    ['redirect on IPv6', { listenAddress: 'fd00::17', listenMechanism: 'redirect' }, 'listenMechanism'],
    ['direct on IPv6', { listenAddress: 'fd00::17', listenMechanism: 'direct' }, undefined],
    ['high ports', { highTlsPort: '14443', highHttpPort: '14080' }, undefined],
    ['high ports with redirect', { listenMechanism: 'redirect', highTlsPort: '14443', highHttpPort: '14080' }, undefined],
    ['high ports with direct', { listenMechanism: 'direct', highTlsPort: '14443', highHttpPort: '14080' }, 'highTlsPort'],
    ['high TLS port only', { highTlsPort: '14443' }, 'highHttpPort'],
    ['high HTTP port only', { highHttpPort: '14080' }, 'highTlsPort'],
    ['high port below 1024', { highTlsPort: '443', highHttpPort: '14080' }, 'highTlsPort'],
    ['high port 70000', { highTlsPort: '14443', highHttpPort: '70000' }, 'highHttpPort'],
    ['high ports equal', { highTlsPort: '14443', highHttpPort: '14443' }, 'highHttpPort'],
    ['high port equal to the proxy port', { proxyPort: '14443', highTlsPort: '14443', highHttpPort: '14080' }, 'highTlsPort'],
  ]
  it.each(rows)('%s: form and schema agree', (_name, patch, field) => {
    const draft = { ...base, ...patch }
    const errors = checkDraft(draft)
    expect(Object.keys(errors)).toEqual(field === undefined ? [] : [field])
    let refused: string | undefined
    try {
      parseConfig(configWith(sampleConfig, draft))
    } catch (error) {
      refused = draftFieldOf((error as BridgeError).field)
    }
    // A field the form refuses is never sent; the rows it allows must pass the schema. Where the form refuses, the
    // schema refuses the same field too whenever the value can be built at all (an incomplete or unparsable pair of
    // high ports, or ports beside "direct", is simply not built into the config).
    const built = configWith(sampleConfig, draft).listen
    if (field === undefined) expect(refused).toBeUndefined()
    else if (!field.startsWith('high') || built.highPorts !== undefined) expect(refused).toBe(field)
    else expect(built.highPorts).toBeUndefined()
  })
})
