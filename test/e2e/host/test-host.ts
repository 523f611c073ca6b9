// The TEST HOST: the desktop app's main process without Electron, for the browser tests and for development (never
// packaged, never for end users). It serves the built renderer and answers the IPC contract over HTTP/SSE with the
// REAL core and main's own code:
//   - main's validators (createValidators), handler implementations (ipcImplementations) and services
//     (createIpcServices: the settings store, the log, host key trust, log:write), the same objects Electron's
//     ipcMain handlers call; the quit path is main's quit sequence (installQuitSequence) around controller.dispose();
//   - a real session controller on a TEMPORARY hosts file and data folder, with the real tunnel listening on
//     127.0.0.1 (free high ports), the real probes (HealthMonitor), and the real hosts engine;
//   - the "ECS" is our relay (startRelay) on a random 127.x.y.z address, and the "VPC" one loopback origin that
//     answers as ACR does (origin.ts); the relay resolves every allowed name to that origin and exempts exactly
//     its address from the loopback refusal;
//   - nothing elevates (the temp file is ours), nothing is saved as a secret (no OS keychain: like Linux without a
//     keyring), and the resolve check reads the temp hosts file (hosts-lookup.ts) since the OS resolver does not.

import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EventChannel, EventContract } from '../../../electron/common/ipc-contract.js'
import { endpointKinds, regions } from '../../../electron/core/catalog/index.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import type { Logger } from '../../../electron/core/logger.js'
import { toPlatform } from '../../../electron/core/paths.js'
import { createHealthMonitor, runChecks } from '../../../electron/core/probes/index.js'
import type { Elevator } from '../../../electron/core/privileged/types.js'
import { startRelay } from '../../../electron/core/relay/relay.js'
import type { Relay } from '../../../electron/core/relay/types.js'
import { createSessionController, type LocalSessionController } from '../../../electron/core/session/controller.js'
import type { PreventableEvent } from '../../../electron/main/electron-surface.js'
import { ipcImplementations } from '../../../electron/main/ipc-handlers.js'
import { createIpcServices } from '../../../electron/main/ipc-handlers-services.js'
import { createValidators } from '../../../electron/main/ipc-schemas.js'
import { installQuitSequence, type QuitSequence } from '../../../electron/main/lifecycle.js'
import { createRotatingFileLogger, type RotatingFileLogger } from '../../../electron/main/log-file.js'
import { createSettingsStore, type SecretCipher } from '../../../electron/main/settings-store.js'
import { freePort } from '../../helpers/sshd.js'
import { randomLoopback } from '../../integration/tunnel/peers.js'
import { hostsFileLookup } from './hosts-lookup.js'
import { startAcrOrigin, type AcrOrigin } from './origin.js'
import { startHostServer, type HostServer } from './server.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const defaultRendererDir = join(repoRoot, 'dist', 'renderer')

/** What a fresh temp hosts file holds unless the test says otherwise (LF, a comment, no final surprises). */
export const defaultHostsText = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n# The following lines belong to the user.\n10.1.2.3\tbuild-cache.internal\n'

export interface TestHostPeers {
  /** The relay ("ECS"): TLS SNI and HTTP Host listeners. */
  readonly ecs: { readonly host: string; readonly port: number; readonly httpPort: number }
  /** Free ports on 127.0.0.1 for the tunnel's listeners. */
  readonly listen: { readonly address: string; readonly port: number; readonly httpPort: number }
}

export interface TestHostOptions {
  /** The temp hosts file at start (default defaultHostsText). */
  readonly hostsFile?: string | Buffer | ((peers: TestHostPeers) => string | Buffer)
  /**
   * The saved config at start (the config format), or undefined for none (first run). Default: the tunnel set up for
   * this host's relay and free listen ports, no region picked yet.
   */
  readonly config?: (peers: TestHostPeers) => unknown
  readonly rendererDir?: string
  /** Probe again this often while all is well (default 30 s; the window's Run diagnostics probes at once). */
  readonly healthIntervalMs?: number
  /** The quit sequence's time limit for controller.dispose() (default 15 s, as the app). */
  readonly quitTimeoutMs?: number
  /** Also write log lines to this stream (development). */
  readonly echoLog?: (line: string) => void
}

export interface TestHost {
  /** The page to open: http://127.0.0.1:<port>/host.html */
  readonly url: string
  readonly origin: string
  /** The temp folder holding everything below (removed by cleanup()). */
  readonly root: string
  readonly hostsPath: string
  readonly dataDir: string
  readonly logsDir: string
  readonly peers: TestHostPeers
  readonly controller: LocalSessionController
  readonly relay: Relay
  readonly acr: AcrOrigin
  readonly logger: RotatingFileLogger
  readonly server: HostServer
  readonly quitSequence: QuitSequence
  /** Quit as the app does (tray Quit / Cmd-Q): the quit sequence → controller.dispose() → the servers close. */
  quit(): Promise<void>
  /** Resolves once the host has exited (after quit(), or a fatal error). */
  readonly exited: Promise<number>
  /** quit() if still running, then close the peers and remove the temp folder. Safe to call more than once. */
  cleanup(): Promise<void>
}

/** The test host never elevates: its hosts file is a temp file it owns. Reaching this is a bug. */
const noElevation: Elevator = {
  run: async () => {
    throw new Error('the test host never elevates: its hosts file is a temporary file it can write')
  },
}

/** No OS keychain here (as Linux without a keyring): the window says secrets cannot be saved. */
const noKeychain: SecretCipher = {
  available: () => false,
  encrypt: () => {
    throw new Error('no encrypted storage in the test host')
  },
  decrypt: () => {
    throw new Error('no encrypted storage in the test host')
  },
}

/**
 * Electron's `app` as far as the quit sequence needs it: quit() fires before-quit and will-quit (preventable, as in
 * Electron); when will-quit is not prevented, the host exits. exit(code) exits at once.
 */
function hostApp(exit: (code: number) => void) {
  const events = new EventEmitter()
  const app = {
    on(event: string, listener: (...args: never[]) => void): unknown {
      events.on(event, listener as (...args: unknown[]) => void)
      return app
    },
    quit(): void {
      const preventable = (): PreventableEvent & { prevented: boolean } => ({
        prevented: false,
        preventDefault() {
          this.prevented = true
        },
      })
      events.emit('before-quit', preventable())
      const willQuit = preventable()
      events.emit('will-quit', willQuit)
      if (!willQuit.prevented) exit(0)
    },
    exit(code = 0): void {
      exit(code)
    },
  }
  return app
}

export async function startTestHost(options: TestHostOptions = {}): Promise<TestHost> {
  const root = await mkdtemp(join(tmpdir(), 'acr-bridge-test-host-'))
  const hostsPath = join(root, 'hosts')
  const dataDir = join(root, 'data')
  const logsDir = join(root, 'logs')
  const homeDir = join(root, 'home')
  const undo: (() => Promise<unknown>)[] = [() => rm(root, { recursive: true, force: true })]
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => undefined)
  }
  try {
    await mkdir(homeDir, { recursive: true })
    const rendererDir = options.rendererDir ?? defaultRendererDir
    await readFile(join(rendererDir, 'host.html')).catch(() => {
      throw new Error(`the built renderer is missing (${join(rendererDir, 'host.html')}): run \`npm run build:renderer\` first`)
    })

    // The VPC and the ECS.
    const acr = await startAcrOrigin(randomLoopback())
    undo.push(() => acr.close())
    const ecsAddress = randomLoopback()
    let logger: RotatingFileLogger | undefined
    const relayLogger: Logger = {
      error: (m, e) => logger?.error(m, e),
      warn: (m, e) => logger?.warn(m, e),
      info: (m) => logger?.debug(m),
      debug: (m) => logger?.debug(m),
    }
    const relay = await startRelay({
      listen: { host: ecsAddress, port: 0 },
      httpListen: { host: ecsAddress, port: 0 },
      // The VPC's DNS: every allowed name is the origin, the one loopback address the relay may dial.
      lookup: async () => [{ address: acr.address, family: 4 }],
      allowLoopbackAddresses: [acr.address],
      logger: relayLogger,
    })
    undo.push(() => relay.close())
    const peers: TestHostPeers = {
      ecs: { host: ecsAddress, port: relay.addresses.listen.port, httpPort: relay.addresses.httpListen?.port ?? 0 },
      listen: { address: '127.0.0.1', port: await freePort(), httpPort: await freePort() },
    }

    const hostsFile = typeof options.hostsFile === 'function' ? options.hostsFile(peers) : (options.hostsFile ?? defaultHostsText)
    await writeFile(hostsPath, hostsFile)

    // Main's parts, as app.ts composes them.
    let server: HostServer | undefined
    const broadcast = <C extends EventChannel>(channel: C, payload: EventContract[C]): void => server?.broadcast(channel, payload)
    let store: ReturnType<typeof createSettingsStore> | undefined
    logger = createRotatingFileLogger({
      dir: logsDir,
      knownSecrets: () => store?.secretValues() ?? [],
      onEntry: (entry) => {
        broadcast('log:appended', entry)
        options.echoLog?.(`${entry.time} ${entry.level} ${entry.message}`)
      },
    })
    const log = logger
    const settings = createSettingsStore({ dir: dataDir, parseConfig, cipher: noKeychain, logger: log })
    store = settings
    const seed = options.config === undefined ? defaultConfig(peers) : options.config(peers)
    if (seed !== undefined) await settings.saveConfig(parseConfig(seed))
    await settings.load()

    const ca = acr.certs.caPem
    const controller = createSessionController({
      config: settings.config() ?? parseConfig({ regions: [], tunnel: { mode: 'sni', host: '192.0.2.1', port: 443 } }),
      hostsPath,
      dataDir,
      platform: toPlatform(process.platform),
      env: {},
      homeDir,
      elevator: noElevation,
      logger: log,
      drainMs: 1000,
      createHealthMonitor: (context) =>
        createHealthMonitor(context, {
          ca,
          probeTimeoutMs: 3000,
          intervalMs: options.healthIntervalMs ?? 30_000,
          run: (run) => runChecks({ ...run, lookup: hostsFileLookup(hostsPath) }),
        }),
    })
    undo.push(() => controller.dispose())
    controller.onDidChangeState((state) => broadcast('session:state-changed', state))

    const services = createIpcServices({
      controller,
      store: settings,
      catalog: () => ({ regions, endpointKinds }),
      parseConfig,
      logger: log,
      // No native dialogs: export writes <root>/exported-profile.json, import reads it back.
      dialog: {
        showSaveDialog: async () => ({ canceled: false, filePath: join(root, 'exported-profile.json') }),
        showOpenDialog: async () => {
          const path = join(root, 'exported-profile.json')
          const exists = await readFile(path).then(
            () => true,
            () => false,
          )
          return exists ? { canceled: false, filePaths: [path] } : { canceled: true, filePaths: [] }
        },
      },
      appInfo: () => ({ version: packageVersion(), platform: process.platform, packaged: false }),
      homeDir,
      broadcast,
    })
    server = await startHostServer({
      rendererDir,
      validators: createValidators(parseConfig),
      implementations: ipcImplementations(services),
      logger: log,
    })
    const httpServer = server
    undo.push(() => httpServer.close())

    // The quit path: main's quit sequence around the same controller.dispose() Electron's quit awaits.
    let resolveExited: (code: number) => void = () => {}
    const exited = new Promise<number>((resolve) => (resolveExited = resolve))
    let exiting: Promise<void> | undefined
    const exit = (code: number): void => {
      exiting ??= (async () => {
        log.info(`[host] exiting (${code})`)
        await httpServer.close()
        await relay.close()
        await acr.close()
        resolveExited(code)
      })()
    }
    const app = hostApp(exit)
    const quitSequence = installQuitSequence({
      app,
      dispose: () => controller.dispose(),
      timeoutMs: options.quitTimeoutMs ?? 15_000,
      logger: log,
    })
    log.info(`[host] serving ${rendererDir} at ${httpServer.origin}; hosts file ${hostsPath}; ECS ${ecsAddress}; origin ${acr.address}`)

    let cleaned: Promise<void> | undefined
    return {
      url: `${httpServer.origin}/host.html`,
      origin: httpServer.origin,
      root,
      hostsPath,
      dataDir,
      logsDir,
      peers,
      controller,
      relay,
      acr,
      logger: log,
      server: httpServer,
      quitSequence,
      async quit() {
        app.quit()
        await exited
      },
      exited,
      cleanup() {
        cleaned ??= (async () => {
          app.quit()
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, (options.quitTimeoutMs ?? 15_000) + 2000).unref())])
          await unwind()
        })()
        return cleaned
      },
    }
  } catch (error) {
    await unwind()
    throw error
  }
}

/** The tunnel set up for this host's relay and free listen ports; no region yet (the window picks them). */
export function defaultConfig(peers: TestHostPeers): unknown {
  return {
    regions: [],
    tunnel: { mode: 'sni', host: peers.ecs.host, port: peers.ecs.port, httpPort: peers.ecs.httpPort },
    listen: { address: peers.listen.address, port: peers.listen.port, httpPort: peers.listen.httpPort },
  }
}

/** package.json's version (app:info). */
function packageVersion(): string {
  try {
    return String((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version?: unknown }).version ?? '0.0.0')
  } catch {
    return '0.0.0'
  }
}
