import { describe, expect, it } from 'vitest'
import { hostEntriesForConfig } from '../../../electron/core/catalog/index.js'
import { addExtraHosts } from '../../../electron/core/config/extra-hosts.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import { BridgeError } from '../../../electron/core/errors.js'

const config = parseConfig({
  tunnel: { mode: 'sni', host: '203.0.113.10' },
  extraHosts: ['a.example.com', { name: 'b.example.com', ports: [80] }],
})

describe('addExtraHosts', () => {
  it('appends new names and merges ports of known ones, case-insensitively, in place', () => {
    const updated = addExtraHosts(config, [
      'B.example.com',
      { name: 'c.example.com', ports: [80] },
      { name: 'A.EXAMPLE.COM', ports: [80] },
      'c.example.com',
      'd.example.com',
      'd.example.com',
    ])
    expect(updated.extraHosts).toEqual([
      { name: 'a.example.com', ports: [80, 443] },
      { name: 'b.example.com', ports: [80, 443] },
      { name: 'c.example.com', ports: [80, 443] },
      'd.example.com',
    ])
    expect(config.extraHosts).toHaveLength(2) // a copy
    expect(hostEntriesForConfig(updated).map((e) => [e.name, e.ports])).toEqual([
      ['a.example.com', [80, 443]],
      ['b.example.com', [80, 443]],
      ['c.example.com', [80, 443]],
      ['d.example.com', [443]],
    ])
  })

  it('returns an equal config when nothing is new', () => {
    expect(addExtraHosts(config, ['a.example.com', { name: 'b.example.com', ports: [80] }])).toEqual(config)
  })

  it('validates what it adds', () => {
    let caught: unknown
    try {
      addExtraHosts(config, ['ok.example.com', 'evil.example.com; reboot'])
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(BridgeError)
    expect((caught as BridgeError).code).toBe('INVALID_CONFIG')
    expect((caught as BridgeError).field).toBe('extraHosts[3]')
  })
})
