import { describe, expect, it } from 'vitest'
import { noWayOutHint } from '../../../electron/core/tunnel/tcp-connect.js'

describe('noWayOutHint', () => {
  it('no route or no network: points at this computer being offline, naming the host', () => {
    for (const code of ['ENETUNREACH', 'ENETDOWN']) {
      expect(noWayOutHint(code, '203.0.113.10')).toBe('This computer has no route to 203.0.113.10: check that it is online (Wi-Fi, cable, VPN).')
    }
  })

  it('no answer on the way (EHOSTUNREACH): this computer or the ECS', () => {
    const hint = noWayOutHint('EHOSTUNREACH', '203.0.113.10')
    expect(hint).toContain('203.0.113.10')
    expect(hint).toContain('online')
    expect(hint).toContain('the ECS is running')
  })

  it('a name that does not resolve: the name in tunnel.host, or this computer offline', () => {
    for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
      expect(noWayOutHint(code, 'ecs.example.com')).toBe('ecs.example.com does not resolve: check the name in tunnel.host, and that this computer is online.')
    }
  })

  it('says nothing for errors that are about the peer, or for no code', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', undefined]) expect(noWayOutHint(code, 'h')).toBeUndefined()
  })
})
