// Contract channels → the session controller and the app's services. Every channel is registered through handle().

import {
  invokeChannels,
  type AppInfo,
  type AppSettings,
  type AppSettingsPatch,
  type CatalogView,
  type ConfigSetRequest,
  type ConfigView,
  type HostKeyTrustRequest,
  type InvokeChannel,
  type LogEntry,
  type ProfileExportResult,
  type ProfileImportResult,
  type RendererLogRequest,
  type RendererLogResult,
} from '../common/ipc-contract.js'
import type { CheckResult } from '../common/status.js'
import type { SessionController } from '../core/session/types.js'
import { handle, type HandleContext, type Implementation } from './ipc.js'
import type { Validators } from './ipc-schemas.js'

/** What the handlers call besides the controller (createIpcServices in ipc-handlers-services.ts builds it). */
export interface IpcServices {
  readonly controller: SessionController
  catalog(): CatalogView
  configView(): ConfigView
  saveConfig(request: ConfigSetRequest): Promise<ConfigView>
  logTail(limit: number): readonly LogEntry[]
  exportProfile(): Promise<ProfileExportResult>
  importProfile(): Promise<ProfileImportResult>
  appSettings(): AppSettings
  setAppSettings(patch: AppSettingsPatch): Promise<AppSettings>
  appInfo(): AppInfo
  /** Diagnostics ran (from the window or the tray): tell every view. */
  diagnosticsCompleted(results: readonly CheckResult[]): void
  /** Checks the request against the saved ssh tunnel and the key itself, then adds it to known_hosts. */
  trustHostKey(request: HostKeyTrustRequest): Promise<void>
  /** The window's own errors into the main log, rate-limited and bounded. */
  writeRendererLog(request: RendererLogRequest): RendererLogResult
}

export type Implementations = { readonly [C in InvokeChannel]: Implementation<C> }

export function ipcImplementations(services: IpcServices): Implementations {
  const { controller } = services
  return {
    'catalog:get': () => services.catalog(),
    'config:get': () => services.configView(),
    'config:set': (request) => services.saveConfig(request),
    'hosts:preview': (request) => controller.previewHosts(request.config),
    'session:connect': async () => {
      await controller.connect()
      return controller.state
    },
    'session:disconnect': async () => {
      await controller.disconnect()
      return controller.state
    },
    'session:state': () => controller.state,
    'diagnostics:run': async () => {
      const results = await controller.runDiagnostics()
      services.diagnosticsCompleted(results)
      return results
    },
    'discover:run': (request) => controller.discover(request),
    'lease:find': async () => (await controller.findStaleLease()) ?? null,
    'lease:revert': async () => {
      await controller.revertStaleLease()
      return null
    },
    'log:tail': (request) => services.logTail(request.limit ?? 200),
    'log:write': (request) => services.writeRendererLog(request),
    'ssh:trust-host-key': async (request) => {
      await services.trustHostKey(request)
      return null
    },
    'profile:export': () => services.exportProfile(),
    'profile:import': () => services.importProfile(),
    'app:settings': () => services.appSettings(),
    'app:set-settings': (patch) => services.setAppSettings(patch),
    'app:info': () => services.appInfo(),
  }
}

/** Registers exactly the contract's invoke channels, each through the one checking wrapper. */
export function registerIpcHandlers(context: HandleContext, validators: Validators, implementations: Implementations): void {
  for (const channel of invokeChannels) register(context, channel, validators, implementations)
}

function register<C extends InvokeChannel>(context: HandleContext, channel: C, validators: Validators, implementations: Implementations): void {
  handle(context, channel, validators[channel], implementations[channel])
}

/** Removes what registerIpcHandlers added (tests; a window re-creation would not need it). */
export function unregisterIpcHandlers(context: Pick<HandleContext, 'ipcMain'>): void {
  for (const channel of invokeChannels) context.ipcMain.removeHandler(channel)
}
