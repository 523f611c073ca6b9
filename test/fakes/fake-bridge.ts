// An in-memory AcrApi for renderer tests (and anything else that needs a window.acr without Electron).
// It records every call, lets a test push events (state, log, config, diagnostics) and queue failures, and answers
// like the real main process would in shape: Results, never throws. It is NOT a second implementation of the core:
// config:set only strips secrets and remembers them; validation errors are queued by the test with failNext().
import type {
  AcrApi,
  AppSettings,
  CatalogView,
  CheckResult,
  Config,
  ConfigSetRequest,
  ConfigView,
  DiscoveryRequest,
  DiscoveryResult,
  EventContract,
  HostsPreview,
  InvokeChannel,
  InvokeResponse,
  LogEntry,
  Result,
  SecretName,
  SerializedError,
  SessionState,
  SessionStateKind,
  StaleLease,
} from '../../electron/common/ipc-contract.js'

/** Every invoke channel of the contract (`ssh:trust-host-key` and `log:write` included). */
export type FakeChannel = InvokeChannel

export interface RecordedCall {
  readonly channel: FakeChannel
  readonly request: unknown
}

/** The fake's api: exactly the contract's. */
export type FakeAcrApi = AcrApi

export const sampleCatalog: CatalogView = {
  regions: [
    { id: 'cn-beijing', nameEn: 'China (Beijing)', nameZh: '华北2（北京）', status: 'available' },
    { id: 'cn-hangzhou', nameEn: 'China (Hangzhou)', nameZh: '华东1（杭州）', status: 'available' },
    { id: 'cn-shanghai', nameEn: 'China (Shanghai)', nameZh: '华东2（上海）', status: 'available' },
    {
      id: 'cn-nanjing',
      nameEn: 'China (Nanjing – Local Region)',
      nameZh: '华东5（南京-本地地域）',
      status: 'closing',
      note: 'Closing down per the OSS documentation.',
    },
    { id: 'cn-fuzhou', nameEn: 'China (Fuzhou – Local Region)', nameZh: '华东6（福州-本地地域）', status: 'closed' },
    {
      id: 'cn-zhengzhou-jva',
      nameEn: 'Zhengzhou (China Unicom JV)',
      nameZh: '郑州（联通合营）',
      status: 'available',
      unconfirmed: true,
      note: 'ACR availability is not confirmed by a source.',
    },
  ],
  endpointKinds: [
    { kind: 'registry', network: 'internet', label: 'Registry (public)', pattern: 'registry.<region>.aliyuncs.com', ports: [443] },
    { kind: 'registry-vpc', network: 'vpc', label: 'Registry (VPC)', pattern: 'registry-vpc.<region>.aliyuncs.com', ports: [443] },
    { kind: 'dockerauth-vpc', network: 'vpc', label: 'Token service (VPC)', pattern: 'dockerauth-vpc.<region>.aliyuncs.com', ports: [443] },
    { kind: 'oss-internal', network: 'vpc', label: 'Blob storage (VPC)', pattern: 'oss-<region>-internal.aliyuncs.com', ports: [443] },
    {
      kind: 'pe-bucket-internal',
      network: 'vpc',
      label: 'Personal Edition blob bucket (VPC)',
      pattern: 'aliregistry-<region>.oss-<region>-internal.aliyuncs.com',
      ports: [80, 443],
      unconfirmed: 'The VPC form of the bucket host is not confirmed.',
    },
  ],
}

export const sampleConfig: Config = {
  regions: [],
  instances: [],
  personalInstances: [],
  extraHosts: [],
  tunnel: { mode: 'sni', host: '203.0.113.10', port: 443 },
  listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
  hosts: { takeOver: false },
}

export function sampleState(kind: SessionStateKind, extra: Partial<SessionState> = {}): SessionState {
  return { kind, since: '2026-01-02T03:04:05.000Z', failing: [], checks: [], traffic: [], ...extra }
}

export const samplePreview: HostsPreview = {
  block: [
    '# >>> acr-bridge >>>',
    '127.0.0.1 registry-vpc.cn-beijing.aliyuncs.com',
    '127.0.0.1 dockerauth-vpc.cn-beijing.aliyuncs.com',
    '127.0.0.1 oss-cn-beijing-internal.aliyuncs.com',
    '# <<< acr-bridge <<<',
    '',
  ].join('\n'),
  entries: [
    { address: '127.0.0.1', name: 'registry-vpc.cn-beijing.aliyuncs.com', ports: [443], origins: [{ kind: 'region', region: 'cn-beijing', endpoint: 'registry-vpc' }] },
    { address: '127.0.0.1', name: 'dockerauth-vpc.cn-beijing.aliyuncs.com', ports: [443], origins: [{ kind: 'region', region: 'cn-beijing', endpoint: 'dockerauth-vpc' }] },
    { address: '127.0.0.1', name: 'oss-cn-beijing-internal.aliyuncs.com', ports: [443], origins: [{ kind: 'region', region: 'cn-beijing', endpoint: 'oss-internal' }] },
  ],
  added: ['registry-vpc.cn-beijing.aliyuncs.com', 'dockerauth-vpc.cn-beijing.aliyuncs.com', 'oss-cn-beijing-internal.aliyuncs.com'],
  removed: [],
  conflicts: [{ name: 'registry-vpc.cn-beijing.aliyuncs.com', line: 7, address: '10.0.0.5', owner: 'SwitchHosts' }],
  shadowed: ['oss-cn-beijing-internal.aliyuncs.com'],
}

export interface FakeBridgeOptions {
  readonly catalog?: CatalogView
  readonly config?: Config
  readonly storedSecrets?: Partial<Record<SecretName, boolean>>
  readonly secretStorageAvailable?: boolean
  readonly state?: SessionState
  readonly preview?: HostsPreview
  readonly lease?: StaleLease | null
  readonly log?: readonly LogEntry[]
  readonly settings?: Partial<AppSettings>
  readonly diagnostics?: readonly CheckResult[]
  readonly discovery?: DiscoveryResult
  /** State the fake answers session:connect with (and pushes). Default: healthy. */
  readonly connectedState?: SessionState
}

type Listener<E extends keyof EventContract> = (payload: EventContract[E]) => void

export interface FakeBridge {
  readonly api: FakeAcrApi
  readonly calls: readonly RecordedCall[]
  /** Requests of one channel, in order. */
  requestsOf(channel: FakeChannel): readonly unknown[]
  /** The configs sent to config:set, in order. */
  readonly configSets: readonly ConfigSetRequest[]
  /** The next call of `channel` answers this error instead. */
  failNext(channel: FakeChannel, error: SerializedError): void
  /** Holds every later call of `channel` until the returned function is called (for "busy" states). */
  hold(channel: FakeChannel): () => void
  pushState(state: SessionState): void
  pushLog(entry: LogEntry): void
  pushConfig(view: ConfigView): void
  pushDiagnostics(results: readonly CheckResult[]): void
  /** How many listeners an event has right now (0 after the window unmounted). */
  listenerCount(event: keyof EventContract): number
  readonly current: { config: Config; state: SessionState; settings: AppSettings }
}

const secretPaths: readonly (readonly [SecretName, (c: Config) => string | undefined])[] = [
  ['proxyPassword', (c) => c.tunnel.connect?.password],
  ['sshPassword', (c) => c.tunnel.ssh?.password],
  ['sshPassphrase', (c) => c.tunnel.ssh?.passphrase],
]

function stripSecrets(config: Config): Config {
  const { connect, ssh, ...tunnel } = config.tunnel
  return {
    ...config,
    tunnel: {
      ...tunnel,
      ...(connect === undefined ? {} : { connect: (({ password: _p, ...rest }) => rest)(connect) }),
      ...(ssh === undefined ? {} : { ssh: (({ password: _p, passphrase: _q, ...rest }) => rest)(ssh) }),
    },
  }
}

export function createFakeBridge(options: FakeBridgeOptions = {}): FakeBridge {
  const calls: RecordedCall[] = []
  const configSets: ConfigSetRequest[] = []
  const failures = new Map<FakeChannel, SerializedError[]>()
  const holds = new Map<FakeChannel, Promise<void>>()
  const listeners: { [E in keyof EventContract]: Set<Listener<E>> } = {
    'session:state-changed': new Set(),
    'log:appended': new Set(),
    'config:changed': new Set(),
    'diagnostics:completed': new Set(),
  }
  const secrets: Record<SecretName, boolean> = {
    proxyPassword: false,
    sshPassword: false,
    sshPassphrase: false,
    ...options.storedSecrets,
  }
  const current = {
    config: stripSecrets(options.config ?? sampleConfig),
    state: options.state ?? sampleState('off'),
    settings: { startAtLogin: false, language: 'system', theme: 'system', notifications: true, connectAtStart: false, ...options.settings } as AppSettings,
  }
  const catalog = options.catalog ?? sampleCatalog
  let lease = options.lease ?? null
  const log = [...(options.log ?? [])]

  function view(): ConfigView {
    return { config: current.config, storedSecrets: { ...secrets }, secretStorageAvailable: options.secretStorageAvailable ?? true }
  }

  function emit<E extends keyof EventContract>(event: E, payload: EventContract[E]) {
    for (const listener of [...listeners[event]]) listener(payload)
  }

  function subscribe<E extends keyof EventContract>(event: E) {
    return (listener: Listener<E>) => {
      listeners[event].add(listener)
      return () => {
        listeners[event].delete(listener)
      }
    }
  }

  async function answer<T>(channel: FakeChannel, request: unknown, produce: () => T): Promise<Result<T>> {
    calls.push({ channel, request })
    await holds.get(channel)
    // Always settle on a later tick, as IPC does.
    await Promise.resolve()
    const queued = failures.get(channel)
    const failure = queued?.shift()
    if (failure !== undefined) return { ok: false, error: failure }
    return { ok: true, value: produce() }
  }

  const defaultDiagnostics: readonly CheckResult[] = options.diagnostics ?? [
    { name: 'registry-vpc.cn-beijing.aliyuncs.com', hop: 'upstream', ok: true, latencyMs: 12, reason: 'The proxy ECS answered.' },
  ]

  const api: FakeAcrApi = {
    catalog: { get: () => answer('catalog:get', undefined, () => catalog) },
    config: {
      get: () => answer('config:get', undefined, view),
      set: (request) =>
        answer('config:set', request, () => {
          configSets.push(request)
          for (const [name, read] of secretPaths) if (read(request.config) !== undefined) secrets[name] = true
          for (const name of request.clearSecrets ?? []) secrets[name] = false
          current.config = stripSecrets(request.config)
          return view()
        }),
    },
    hosts: {
      preview: (request) =>
        answer('hosts:preview', request, () => options.preview ?? { ...samplePreview, conflicts: [], shadowed: [] }),
    },
    session: {
      connect: () =>
        answer('session:connect', undefined, () => {
          current.state = options.connectedState ?? sampleState('healthy')
          emit('session:state-changed', current.state)
          return current.state
        }),
      disconnect: () =>
        answer('session:disconnect', undefined, () => {
          current.state = sampleState('off')
          emit('session:state-changed', current.state)
          return current.state
        }),
      state: () => answer('session:state', undefined, () => current.state),
    },
    diagnostics: {
      run: () =>
        answer('diagnostics:run', undefined, () => {
          emit('diagnostics:completed', defaultDiagnostics)
          return defaultDiagnostics
        }),
    },
    discover: {
      run: (request: DiscoveryRequest) =>
        answer('discover:run', request, () => options.discovery ?? { hosts: [], missing: [] }),
    },
    lease: {
      find: () => answer('lease:find', undefined, () => lease),
      revert: () =>
        answer('lease:revert', undefined, () => {
          lease = null
          return null
        }),
    },
    log: {
      tail: (request) => answer('log:tail', request, () => log.slice(-(request.limit ?? 200))),
      write: (request) => answer('log:write', request, () => ({ written: true })),
    },
    profile: {
      export: () => answer('profile:export', undefined, () => ({ saved: false }) as InvokeResponse<'profile:export'>),
      import: () => answer('profile:import', undefined, () => ({ imported: false }) as InvokeResponse<'profile:import'>),
    },
    app: {
      settings: () => answer('app:settings', undefined, () => current.settings),
      setSettings: (patch) =>
        answer('app:set-settings', patch, () => {
          current.settings = { ...current.settings, ...patch }
          return current.settings
        }),
      info: () => answer('app:info', undefined, () => ({ version: '0.0.0-test', platform: 'linux', packaged: false })),
    },
    ssh: { trustHostKey: (request) => answer('ssh:trust-host-key', request, () => null) },
    onSessionStateChanged: subscribe('session:state-changed'),
    onLogAppended: subscribe('log:appended'),
    onConfigChanged: subscribe('config:changed'),
    onDiagnosticsCompleted: subscribe('diagnostics:completed'),
  }

  return {
    api,
    calls,
    configSets,
    current,
    requestsOf: (channel) => calls.filter((c) => c.channel === channel).map((c) => c.request),
    failNext: (channel, error) => failures.set(channel, [...(failures.get(channel) ?? []), error]),
    hold: (channel) => {
      let release = () => {}
      holds.set(
        channel,
        new Promise<void>((resolve) => {
          release = () => {
            holds.delete(channel)
            resolve()
          }
        }),
      )
      return release
    },
    pushState: (state) => {
      current.state = state
      emit('session:state-changed', state)
    },
    pushLog: (entry) => {
      log.push(entry)
      emit('log:appended', entry)
    },
    pushConfig: (configView) => {
      current.config = configView.config
      emit('config:changed', configView)
    },
    pushDiagnostics: (results) => emit('diagnostics:completed', results),
    listenerCount: (event) => listeners[event].size,
  }
}
