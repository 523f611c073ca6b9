// Binding a listener, with the listen-phase errors turned into what the user must do.

import type { Server } from 'node:net'
import { BridgeError, errnoCode } from '../errors.js'

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * Starts `server` listening on address:port and resolves with the bound port (port 0 picks one).
 * EADDRINUSE → PORT_IN_USE, EACCES → PORT_NEEDS_PRIVILEGE, EADDRNOTAVAIL → INVALID_CONFIG; `field` names the
 * config field the port came from.
 */
export function listenOn(server: Server, address: string, port: number, field: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onerror = (error: Error): void => {
      server.off('listening', onlistening)
      reject(mapListenError(error, address, port, field))
    }
    const onlistening = (): void => {
      server.off('error', onerror)
      const bound = server.address()
      resolve(typeof bound === 'object' && bound !== null ? bound.port : port)
    }
    server.once('error', onerror)
    server.once('listening', onlistening)
    server.listen({ host: address, port, backlog: 1024 })
  })
}

export function mapListenError(error: unknown, address: string, port: number, field: string): BridgeError | unknown {
  const where = formatHostPort(address, port)
  switch (errnoCode(error)) {
    case 'EADDRINUSE':
      return new BridgeError('PORT_IN_USE', `Another program already listens on ${where}.`, {
        hint: `Stop the program that uses ${where}, or choose another ${field}.`,
        field,
        cause: error,
      })
    case 'EACCES':
      return new BridgeError('PORT_NEEDS_PRIVILEGE', `Listening on ${where} needs privileges this process does not have.`, {
        hint: `Allow binding low ports once (the app offers this step), or choose a ${field} above 1023.`,
        field,
        cause: error,
      })
    case 'EADDRNOTAVAIL':
      return new BridgeError('INVALID_CONFIG', `The address ${address} does not belong to this machine.`, {
        hint: 'Choose a listen.address that is assigned to a local interface (for example 127.0.0.1).',
        field: 'listen.address',
        cause: error,
      })
    default:
      return error
  }
}
