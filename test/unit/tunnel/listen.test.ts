import { describe, expect, it } from 'vitest'
import { BridgeError } from '../../../electron/core/errors.js'
import { formatHostPort, mapListenError } from '../../../electron/core/tunnel/listen.js'

const errno = (code: string): Error => Object.assign(new Error(`listen ${code}`), { code })

describe('mapListenError', () => {
  it('EADDRINUSE → PORT_IN_USE, naming the address in message and hint', () => {
    const error = mapListenError(errno('EADDRINUSE'), '127.0.0.1', 443, 'listen.port')
    expect(error).toBeInstanceOf(BridgeError)
    expect(error).toMatchObject({ code: 'PORT_IN_USE', field: 'listen.port' })
    expect((error as BridgeError).message).toContain('127.0.0.1:443')
    expect((error as BridgeError).hint).toContain('127.0.0.1:443')
  })

  it('EACCES → PORT_NEEDS_PRIVILEGE', () => {
    expect(mapListenError(errno('EACCES'), '::1', 80, 'listen.httpPort')).toMatchObject({ code: 'PORT_NEEDS_PRIVILEGE', field: 'listen.httpPort' })
    expect((mapListenError(errno('EACCES'), '::1', 80, 'listen.httpPort') as BridgeError).message).toContain('[::1]:80')
  })

  it('EADDRNOTAVAIL → INVALID_CONFIG on listen.address; anything else passes through', () => {
    expect(mapListenError(errno('EADDRNOTAVAIL'), '10.9.9.9', 443, 'listen.port')).toMatchObject({ code: 'INVALID_CONFIG', field: 'listen.address' })
    const other = errno('EMFILE')
    expect(mapListenError(other, '127.0.0.1', 443, 'listen.port')).toBe(other)
  })

  it('brackets IPv6 addresses', () => {
    expect(formatHostPort('127.0.0.1', 1)).toBe('127.0.0.1:1')
    expect(formatHostPort('fe80::1', 443)).toBe('[fe80::1]:443')
  })
})
