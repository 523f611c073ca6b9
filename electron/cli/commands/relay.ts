import { readFile, stat } from 'node:fs/promises'
import { isIP } from 'node:net'
import { BridgeError, errnoCode } from '../../core/errors.js'
import { defaultAllowPatterns } from '../../core/relay/allow-list.js'
import { startRelay } from '../../core/relay/relay.js'
import type { ListenAddress, RelayStats } from '../../core/relay/types.js'
import { formatHostPort } from '../../core/tunnel/listen.js'
import { repeatFlag, requiredFlag, stringFlag, usage } from '../args.js'
import { print } from '../context.js'
import type { Command } from '../run.js'

/** How long the relay lets open connections finish after SIGINT/SIGTERM. */
export const relayDrainMs = 3000

export const relayCommand: Command = {
  name: 'relay',
  summary: 'the SNI / Host relay for the proxy ECS',
  usage: 'acr-bridge relay --listen HOST:PORT [--http-listen HOST:PORT] [--allow PATTERN]... [--connect-listen HOST:PORT --token-file F]',
  flags: { listen: 'string', 'http-listen': 'string', allow: 'repeat', 'connect-listen': 'string', 'token-file': 'string' },
  async run(args, context) {
    const { io, logger } = context
    const interrupted = context.waitForInterrupt()
    const listen = parseListenAddress(requiredFlag(args, 'listen', 'relay'), 'listen')
    const httpFlag = stringFlag(args, 'http-listen')
    const httpListen = httpFlag === undefined ? undefined : parseListenAddress(httpFlag, 'http-listen')
    const connectFlag = stringFlag(args, 'connect-listen')
    const tokenFile = stringFlag(args, 'token-file')
    if ((connectFlag === undefined) !== (tokenFile === undefined)) {
      throw usage('--connect-listen and --token-file go together: the CONNECT listener always requires the token', 'relay')
    }
    const connectListen = connectFlag === undefined ? undefined : parseListenAddress(connectFlag, 'connect-listen')
    const token = tokenFile === undefined ? undefined : await readTokenFile(tokenFile, context.platform, (message) => logger.warn(message))
    const allowed = repeatFlag(args, 'allow')
    const allow = allowed.length === 0 ? defaultAllowPatterns : allowed

    const relay = await startRelay({
      listen,
      ...(httpListen === undefined ? {} : { httpListen }),
      ...(connectListen === undefined || token === undefined ? {} : { connectListen: { ...connectListen, token } }),
      allow,
      logger,
    })
    const { addresses } = relay
    print(io, `relay: TLS by SNI on ${where(addresses.listen)}`)
    if (addresses.httpListen !== undefined) print(io, `relay: HTTP by Host on ${where(addresses.httpListen)}`)
    if (addresses.connectListen !== undefined) print(io, `relay: CONNECT with token on ${where(addresses.connectListen)}`)
    print(io, `relay: forwarding names matching ${allow.join(', ')}; Ctrl-C stops`)

    const signal = await interrupted
    print(io, `Stopping (${signal}): letting open connections finish for up to ${relayDrainMs / 1000} s.`)
    await relay.close({ drainMs: relayDrainMs })
    print(io, `Stopped: ${summary(relay.stats())}.`)
    return 0
  },
}

/**
 * `HOST:PORT` with an IPv4 address or a name, `[IPV6]:PORT` for IPv6 (`[::]:443`, `[::1]:443`). Port 0 lets the
 * OS choose (the bound port is printed).
 */
export function parseListenAddress(value: string, flag: string): ListenAddress {
  const bad = (why: string): BridgeError =>
    usage(`--${flag} ${JSON.stringify(value)}: ${why}; write HOST:PORT, e.g. 0.0.0.0:443 or [::]:443`, 'relay')
  let host: string
  let portText: string
  if (value.startsWith('[')) {
    const close = value.indexOf(']')
    if (close === -1 || value[close + 1] !== ':') throw bad('an IPv6 address needs brackets and a port')
    host = value.slice(1, close)
    portText = value.slice(close + 2)
    if (isIP(host) !== 6) throw bad(`${JSON.stringify(host)} is not an IPv6 address`)
  } else {
    const colon = value.lastIndexOf(':')
    if (colon === -1) throw bad('the port is missing')
    host = value.slice(0, colon)
    portText = value.slice(colon + 1)
    if (host.includes(':')) throw bad('put an IPv6 address in brackets')
    if (isIP(host) === 0 && !/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
      throw bad(`${JSON.stringify(host)} is not an address or host name`)
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`${JSON.stringify(portText)} is not a port (0-65535)`)
  return { host, port: Number(portText) }
}

/**
 * Reads the CONNECT token (surrounding white space trimmed). On POSIX a token file other users can read is refused,
 * and a group-readable one is warned about: the token is the only thing between the internet and the VPC.
 */
export async function readTokenFile(path: string, platform: string, warn: (message: string) => void): Promise<string> {
  let text: string
  try {
    if (platform !== 'win32') {
      const info = await stat(path)
      if ((info.mode & 0o004) !== 0) {
        throw new BridgeError('USAGE', `The token file ${path} can be read by every user of this machine.`, {
          hint: `Make it private (chmod 600 ${path}) and start the relay again.`,
        })
      }
      if ((info.mode & 0o040) !== 0) warn(`[relay] the token file ${path} is readable by its group; chmod 600 makes it private`)
    }
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof BridgeError) throw error
    throw new BridgeError('USAGE', `Cannot read the token file ${path} (${errnoCode(error) ?? 'error'}).`, {
      hint: 'Check the --token-file path and its permissions.',
      cause: error,
    })
  }
  const token = text.trim()
  if (token === '') {
    throw new BridgeError('USAGE', `The token file ${path} is empty.`, {
      hint: 'Put a random secret of at least 16 characters in it, e.g. openssl rand -hex 24.',
    })
  }
  return token
}

function where(address: ListenAddress): string {
  return formatHostPort(address.host, address.port)
}

function summary(stats: RelayStats): string {
  const refused = Object.entries(stats.refused).filter(([, count]) => (count ?? 0) > 0)
  const detail = refused.length === 0 ? '' : ` (${refused.map(([reason, count]) => `${reason} ${count}`).join(', ')})`
  return (
    `${stats.forwarded} forwarded, ${stats.refusedTotal} refused${detail}, ${stats.upstreamFailures} upstream failures, ` +
    `${(stats.bytesDown / (1024 * 1024)).toFixed(1)} MiB down, ${(stats.bytesUp / (1024 * 1024)).toFixed(1)} MiB up`
  )
}
