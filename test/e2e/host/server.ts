// The test host's HTTP side, on 127.0.0.1 only:
//   GET  /, /host.html, /assets/…   the BUILT renderer (dist/renderer), with the app's production CSP as a header
//   POST /invoke/<channel>          body {"args": [request]} → one JSON Result, through main's own validators and
//                                   handler implementations (invokeValidated), exactly as ipcMain.handle does
//   GET  /events                    Server-Sent Events: `event: <channel>` + `data: <JSON payload>` per event
// The Electron sender check (own window, top frame, own page) becomes: the request is addressed to this host
// (Host header: no DNS rebinding) and comes from its own page (Origin on invoke; Sec-Fetch-Site when sent), with a
// JSON content type (a cross-site form cannot send one without a preflight, which this server never grants).

import { readFile, realpath, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { isInvokeChannel, type EventChannel, type EventContract, type InvokeChannel } from '../../../electron/common/ipc-contract.js'
import { err, type Result } from '../../../electron/common/result.js'
import type { Logger } from '../../../electron/core/logger.js'
import { forbidden, invokeValidated } from '../../../electron/main/ipc.js'
import type { Implementations } from '../../../electron/main/ipc-handlers.js'
import type { Validators } from '../../../electron/main/ipc-schemas.js'
import { productionCsp } from '../../../electron/main/security.js'

export interface HostServerOptions {
  readonly rendererDir: string
  readonly validators: Validators
  readonly implementations: Implementations
  readonly logger: Logger
}

export interface HostServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string
  broadcast<C extends EventChannel>(channel: C, payload: EventContract[C]): void
  /** Event streams open now. */
  eventClients(): number
  /** Ends the event streams and every connection, then stops listening. */
  close(): Promise<void>
}

const maxBody = 1024 * 1024

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

export async function startHostServer(options: HostServerOptions): Promise<HostServer> {
  const root = await realpath(options.rendererDir)
  const streams = new Set<ServerResponse>()
  let origin = ''
  let host = ''

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger.error('[host] request failed', error)
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n')
      else res.destroy()
    })
  })
  server.on('clientError', (_error, socket) => socket.destroy())

  function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': productionCsp,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    })
    res.end(body)
  }

  function sendResult(res: ServerResponse, status: number, result: Result<unknown>): void {
    send(res, status, 'application/json', JSON.stringify(result))
  }

  /** Addressed to this host, from this host's own page. */
  function fromOwnPage(req: IncomingMessage, needOrigin: boolean): boolean {
    if (req.headers.host !== host) return false
    const site = req.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin') return false
    const from = req.headers.origin
    if (from === undefined) return !needOrigin
    return from === origin
  }

  async function readBody(req: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > maxBody) return undefined
      chunks.push(chunk)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  async function invoke(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (!fromOwnPage(req, true) || !/^application\/json(;|$)/i.test(req.headers['content-type'] ?? '')) {
      options.logger.warn(`[host] ${name}: refused a call from ${req.headers.origin ?? 'no origin'} (host ${req.headers.host ?? 'none'})`)
      sendResult(res, 403, err(forbidden))
      return
    }
    if (!isInvokeChannel(name)) {
      sendResult(res, 404, err({ code: 'FORBIDDEN', message: `${name} is not an ACR Bridge channel.` }))
      return
    }
    const text = await readBody(req)
    if (text === undefined) {
      sendResult(res, 413, err({ code: 'USAGE', message: `The ${name} request is larger than 1 MiB.` }))
      return
    }
    let args: unknown
    try {
      args = (JSON.parse(text) as { args?: unknown }).args
    } catch {
      args = undefined
    }
    if (!Array.isArray(args)) {
      sendResult(res, 400, err({ code: 'USAGE', message: `The ${name} request body must be {"args": [request]}.` }))
      return
    }
    sendResult(res, 200, await dispatch(name, args))
  }

  function dispatch<C extends InvokeChannel>(channel: C, args: readonly unknown[]): Promise<Result<unknown>> {
    return invokeValidated(options.logger, channel, options.validators[channel], options.implementations[channel], args)
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    if (!fromOwnPage(req, false)) {
      send(res, 403, 'text/plain', 'forbidden\n')
      return
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    })
    res.write(': acr-bridge test host\n\n')
    streams.add(res)
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000)
    ping.unref()
    res.on('close', () => {
      clearInterval(ping)
      streams.delete(res)
    })
  }

  async function file(res: ServerResponse, urlPath: string): Promise<void> {
    let relative: string
    try {
      relative = decodeURIComponent(urlPath === '/' ? '/host.html' : urlPath)
    } catch {
      send(res, 400, 'text/plain', 'bad path\n')
      return
    }
    const path = normalize(join(root, relative))
    if (relative.includes('\0') || (path !== root && !path.startsWith(root + sep))) {
      send(res, 404, 'text/plain', 'not found\n')
      return
    }
    try {
      const real = await realpath(path)
      if (!real.startsWith(root + sep) || !(await stat(real)).isFile()) throw new Error('not a file')
      send(res, 200, contentTypes[extname(real)] ?? 'application/octet-stream', await readFile(real))
    } catch {
      send(res, 404, 'text/plain', 'not found\n')
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin)
    if (url.pathname.startsWith('/invoke/')) {
      if (req.method !== 'POST') {
        send(res, 405, 'text/plain', 'POST only\n')
        return
      }
      let channel: string
      try {
        channel = decodeURIComponent(url.pathname.slice('/invoke/'.length))
      } catch {
        channel = ''
      }
      await invoke(req, res, channel)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain', 'GET only\n')
      return
    }
    if (url.pathname === '/events') {
      events(req, res)
      return
    }
    await file(res, url.pathname)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  host = `127.0.0.1:${port}`
  origin = `http://${host}`

  let closing: Promise<void> | undefined
  return {
    origin,
    broadcast(channel, payload) {
      const frame = `event: ${channel}\ndata: ${JSON.stringify(payload)}\n\n`
      for (const stream of streams) stream.write(frame)
    },
    eventClients: () => streams.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const stream of streams) stream.end()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}
