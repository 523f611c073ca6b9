// The tunnel's own hops: the local listener answers (and forwards, once a name is known to work through the dialer),
// and the proxy ECS answers (TCP connect in sni mode, a CONNECT through the proxy in connect mode, the SSH handshake
// and login in ssh mode), with latency.

import { connect as netConnect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { CheckResult } from '../../common/status.js'
import type { HostEntry } from '../catalog/types.js'
import type { TunnelConfig } from '../config/types.js'
import { BridgeError, errnoCode } from '../errors.js'
import { isSshDialer } from '../session/create-dialer.js'
import { formatHostPort } from '../tunnel/listen.js'
import { noWayOutHint } from '../tunnel/tcp-connect.js'
import type { DialOptions, Dialer, UpstreamTarget } from '../tunnel/types.js'
import { fail, pass } from './check-result.js'

export interface TcpAnswer {
  readonly ok: boolean
  readonly ms: number
  /** errno (ECONNREFUSED, EHOSTUNREACH, ...), 'ETIMEDOUT' for our own limit, 'ABORTED'. */
  readonly error?: string
}

/** One TCP connect with a time limit; the socket is closed at once. */
export function probeTcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<TcpAnswer> {
  const started = performance.now()
  return new Promise<TcpAnswer>((resolve) => {
    const socket = netConnect({ host, port })
    let done = false
    const finish = (error?: string): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onabort)
      socket.destroy()
      resolve({ ok: error === undefined, ms: performance.now() - started, ...(error === undefined ? {} : { error }) })
    }
    const onabort = (): void => finish('ABORTED')
    const timer = setTimeout(() => finish('ETIMEDOUT'), timeoutMs)
    socket.on('error', (error) => finish(errnoCode(error) ?? error.message))
    socket.once('connect', () => finish())
    if (signal?.aborted === true) onabort()
    else signal?.addEventListener('abort', onabort, { once: true })
  })
}

function describeTcpError(error: string | undefined, timeoutMs: number): string {
  switch (error) {
    case 'ECONNREFUSED':
      return 'refused the connection'
    case 'ETIMEDOUT':
      return `did not answer within ${timeoutMs} ms`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `is unreachable (${error})`
    default:
      return `cannot be reached (${error ?? 'error'})`
  }
}

export interface ListenAddress {
  readonly address: string
  readonly port: number
  /** The HTTP (Host) listener; null or undefined when there is none. */
  readonly httpPort?: number | null
}

const startTunnelHint = 'Start the tunnel: `acr-bridge up --config <file>` (or Connect in the app).'

/** The listener ports that matter for these entries: the TLS port, and the HTTP port when a name needs port 80. */
export function listenerPorts(listen: ListenAddress, entries: readonly HostEntry[]): number[] {
  const ports = [listen.port]
  if (listen.httpPort !== undefined && listen.httpPort !== null && entries.some((e) => e.ports.includes(80))) ports.push(listen.httpPort)
  return ports
}

/** TCP connect to each listener port; `name` of the result is address:port. */
export async function probeListeners(listen: ListenAddress, entries: readonly HostEntry[], timeoutMs: number, signal?: AbortSignal): Promise<{ check: CheckResult; port: number }[]> {
  return Promise.all(
    listenerPorts(listen, entries).map(async (port) => {
      const where = formatHostPort(listen.address, port)
      const answer = await probeTcp(listen.address, port, timeoutMs, signal)
      const check = answer.ok
        ? pass(where, 'listener', `${where} accepts connections`, answer.ms)
        : fail(where, 'listener', `nothing answers on ${where}: it ${describeTcpError(answer.error, timeoutMs)}`, startTunnelHint, answer.ms)
      return { check, port }
    }),
  )
}

/** A Dialer that connects to the local listener, as a client of the tunnel does: 443 → listen.port, 80 → httpPort. */
export function createListenerDialer(listen: ListenAddress): Dialer {
  return {
    mode: 'sni',
    dial(target: UpstreamTarget, options: DialOptions = {}): Promise<Duplex> {
      const port = target.port === 443 ? listen.port : target.port === 80 ? listen.httpPort ?? undefined : undefined
      if (port === undefined) return Promise.reject(new BridgeError('UPSTREAM_REFUSED', `The tunnel has no listener for port ${target.port}.`))
      return new Promise<Duplex>((resolve, reject) => {
        const socket: Socket = netConnect({ host: listen.address, port, allowHalfOpen: true, noDelay: true })
        const timer = setTimeout(() => giveUp(new BridgeError('UPSTREAM_UNREACHABLE', `The listener ${formatHostPort(listen.address, port)} did not answer within ${options.timeoutMs ?? 5000} ms.`)), options.timeoutMs ?? 5000)
        const onabort = (): void => giveUp(Object.assign(new Error('The dial was aborted.'), { name: 'AbortError' }))
        const giveUp = (error: Error): void => {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', onabort)
          socket.destroy()
          reject(error)
        }
        socket.on('error', (error) => giveUp(new BridgeError('UPSTREAM_REFUSED', `The listener ${formatHostPort(listen.address, port)} ${describeTcpError(errnoCode(error), options.timeoutMs ?? 5000)}.`, { cause: error })))
        socket.once('connect', () => {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', onabort)
          socket.removeAllListeners('error')
          socket.on('error', () => {})
          resolve(socket)
        })
        if (options.signal?.aborted === true) onabort()
        else options.signal?.addEventListener('abort', onabort, { once: true })
      })
    },
    async close(): Promise<void> {},
  }
}

/**
 * The proxy ECS answers. sni: a TCP connect to tunnel.port (and tunnel.httpPort when a name needs port 80);
 * connect: one CONNECT through the proxy to the first name (the proxy's login counts; a refusal of that one name
 * does not: it shows on the name); ssh: the SSH handshake and login of the shared connection.
 */
export async function probeUpstream(
  tunnel: TunnelConfig,
  dialer: Dialer,
  entries: readonly HostEntry[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckResult[]> {
  const ecs = (port: number): string => formatHostPort(tunnel.host, port)
  if (tunnel.mode === 'sni') {
    const ports = [tunnel.port]
    if (entries.some((e) => e.ports.includes(80))) ports.push(tunnel.httpPort ?? 80)
    return Promise.all(
      ports.map(async (port) => {
        const answer = await probeTcp(tunnel.host, port, timeoutMs, signal)
        const field = port === tunnel.port ? 'tunnel.port' : 'tunnel.httpPort'
        return answer.ok
          ? pass(ecs(port), 'upstream', `the proxy ECS ${ecs(port)} accepts connections`, answer.ms)
          : fail(
              ecs(port),
              'upstream',
              `the proxy ECS ${ecs(port)} ${describeTcpError(answer.error, timeoutMs)}`,
              answer.error === 'ECONNREFUSED'
                ? `Start the SNI relay on the ECS (\`acr-bridge relay\`, goproxy or nginx) on port ${port}, or fix ${field}.`
                : noWayOutHint(answer.error, tunnel.host) ??
                    `Check tunnel.host and ${field}, the ECS security group (allow this machine on ${port}) and this machine's network.`,
              answer.ms,
            )
      }),
    )
  }
  const name = ecs(tunnel.port)
  const started = performance.now()
  if (isSshDialer(dialer)) {
    try {
      await dialer.connect({ timeoutMs, ...(signal === undefined ? {} : { signal }) })
      return [pass(name, 'upstream', `SSH to ${name} is up (host key known, logged in)`, performance.now() - started)]
    } catch (error) {
      return [upstreamFailure(name, error, performance.now() - started)]
    }
  }
  const target = entries.find((e) => e.ports.includes(443)) ?? entries[0]
  if (target === undefined) {
    const answer = await probeTcp(tunnel.host, tunnel.port, timeoutMs, signal)
    return [
      answer.ok
        ? pass(name, 'upstream', `the proxy ${name} accepts connections`, answer.ms)
        : fail(
            name,
            'upstream',
            `the proxy ${name} ${describeTcpError(answer.error, timeoutMs)}`,
            noWayOutHint(answer.error, tunnel.host) ?? 'Check tunnel.host and tunnel.port, and that the proxy runs.',
            answer.ms,
          ),
    ]
  }
  const port = target.ports.includes(443) ? 443 : (target.ports[0] as number)
  try {
    const stream = await dialer.dial({ name: target.name, port }, { timeoutMs, ...(signal === undefined ? {} : { signal }) })
    stream.destroy()
    return [pass(name, 'upstream', `the proxy ${name} answers (CONNECT ${target.name}:${port} accepted)`, performance.now() - started)]
  } catch (error) {
    // A CONNECT the proxy answered with an error status: the proxy works; that name's checks say what is wrong.
    if (error instanceof BridgeError && error.code === 'UPSTREAM_REFUSED' && typeof error.details?.['proxyStatus'] === 'number') {
      return [pass(name, 'upstream', `the proxy ${name} answers`, performance.now() - started)]
    }
    return [upstreamFailure(name, error, performance.now() - started)]
  }
}

function upstreamFailure(name: string, error: unknown, ms: number): CheckResult {
  if (error instanceof BridgeError) {
    return fail(name, 'upstream', error.message.replace(/\.$/, ''), error.hint ?? 'Check the tunnel settings.', ms)
  }
  return fail(name, 'upstream', `${name} cannot be reached (${error instanceof Error ? error.message : String(error)})`, 'Check the tunnel settings.', ms)
}
