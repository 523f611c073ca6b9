import { describe, expect, it } from 'vitest'
import { BridgeError, serializeError } from '../../electron/core/errors.js'

describe('BridgeError', () => {
  it('serializes code, message, hint and field, and nothing else', () => {
    const error = new BridgeError('INVALID_CONFIG', 'listen.port: 70000 is not a port', { hint: 'use 1-65535', field: 'listen.port', cause: new Error('x') })
    expect(serializeError(error)).toEqual({ code: 'INVALID_CONFIG', message: 'listen.port: 70000 is not a port', hint: 'use 1-65535', field: 'listen.port' })
  })
})
