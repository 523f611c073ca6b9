import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import type {
  CatalogView,
  Config,
  ConfigView,
  Result,
  SecretName,
  SerializedError,
} from '../../electron/common/ipc-contract.js'
import { settle, useBridge } from '../bridge.js'

export type ConfigLoad =
  | { readonly kind: 'loading' }
  | { readonly kind: 'failed'; readonly error: SerializedError }
  | { readonly kind: 'ready'; readonly catalog: CatalogView; readonly view: ConfigView }

export interface SaveOptions {
  readonly clearSecrets?: readonly SecretName[]
}

export interface ConfigStore {
  readonly load: ConfigLoad
  readonly reload: () => void
  /**
   * Sends `config` to config:set. The window shows it at once; if the core refuses it, the window goes back to the
   * saved config and the error (with its `field`) is returned and kept in `lastError`. Saves run one at a time.
   */
  readonly save: (config: Config, options?: SaveOptions) => Promise<Result<ConfigView>>
  /** The last refusal of config:set, until the next successful save. */
  readonly lastError: SerializedError | undefined
}

const ConfigContext = createContext<ConfigStore | undefined>(undefined)

/** The catalog and the saved config (config:get, kept fresh by config:changed). */
export function ConfigProvider({ children }: { readonly children: ReactNode }) {
  const api = useBridge()
  const [load, setLoad] = useState<ConfigLoad>({ kind: 'loading' })
  const [lastError, setLastError] = useState<SerializedError | undefined>(undefined)
  const [attempt, setAttempt] = useState(0)
  const confirmed = useRef<ConfigView | undefined>(undefined)
  const queue = useRef<Promise<unknown>>(Promise.resolve())

  useEffect(() => {
    let live = true
    let changedMeanwhile: ConfigView | undefined
    const unsubscribe = api.onConfigChanged((view) => {
      changedMeanwhile = view
      confirmed.current = view
      setLoad((current) => (current.kind === 'ready' ? { ...current, view } : current))
    })
    void Promise.all([settle(() => api.catalog.get()), settle(() => api.config.get())]).then(([catalog, config]) => {
      if (!live) return
      if (!catalog.ok) return setLoad({ kind: 'failed', error: catalog.error })
      if (!config.ok) return setLoad({ kind: 'failed', error: config.error })
      const view = changedMeanwhile ?? config.value
      confirmed.current = view
      setLoad({ kind: 'ready', catalog: catalog.value, view })
    })
    return () => {
      live = false
      unsubscribe()
    }
  }, [api, attempt])

  const reload = useCallback(() => {
    setLoad({ kind: 'loading' })
    setAttempt((n) => n + 1)
  }, [])

  const save = useCallback(
    (config: Config, options: SaveOptions = {}): Promise<Result<ConfigView>> => {
      const shown = withoutSecrets(config)
      setLoad((current) => (current.kind === 'ready' ? { ...current, view: { ...current.view, config: shown } } : current))
      const run = async (): Promise<Result<ConfigView>> => {
        const request = options.clearSecrets === undefined ? { config } : { config, clearSecrets: options.clearSecrets }
        const result = await settle(() => api.config.set(request))
        if (result.ok) {
          confirmed.current = result.value
          setLastError(undefined)
          setLoad((current) => (current.kind === 'ready' ? { ...current, view: result.value } : current))
        } else {
          setLastError(result.error)
          const back = confirmed.current
          setLoad((current) => (current.kind === 'ready' && back !== undefined ? { ...current, view: back } : current))
        }
        return result
      }
      const next = queue.current.then(run, run)
      queue.current = next
      return next
    },
    [api],
  )

  const value = useMemo<ConfigStore>(() => ({ load, reload, save, lastError }), [load, reload, save, lastError])
  return <ConfigContext.Provider value={value}>{children}</ConfigContext.Provider>
}

export function useConfigStore(): ConfigStore {
  const value = useContext(ConfigContext)
  if (value === undefined) throw new Error('useConfigStore() needs a <ConfigProvider> above it')
  return value
}

export interface ReadyConfig {
  readonly catalog: CatalogView
  readonly view: ConfigView
  readonly config: Config
  readonly save: ConfigStore['save']
  readonly lastError: SerializedError | undefined
}

/** For components rendered inside <ConfigGate>: the loaded catalog and config. */
export function useReadyConfig(): ReadyConfig {
  const { load, save, lastError } = useConfigStore()
  if (load.kind !== 'ready') throw new Error('useReadyConfig() is for components inside <ConfigGate>')
  return { catalog: load.catalog, view: load.view, config: load.view.config, save, lastError }
}

/**
 * Maps a refusal's `field` (`instances[2].name`, `tunnel.ssh.username`) to a form's fields: `prefix` is stripped
 * and the rest looked up in `fields`. Returns the form field it belongs to, if any.
 */
export function fieldOf<F extends string>(error: SerializedError | undefined, prefix: string, fields: readonly F[]): F | undefined {
  const field = error?.field
  if (field === undefined || !field.startsWith(prefix)) return undefined
  const rest = field.slice(prefix.length)
  return fields.find((f) => rest === f || rest.startsWith(`${f}.`) || rest.startsWith(`${f}[`))
}

/** The config without the secrets the window never keeps (they go to config:set once, then only "saved" shows). */
export function withoutSecrets(config: Config): Config {
  const { connect, ssh, ...tunnel } = config.tunnel
  const cleanConnect = connect === undefined ? undefined : (({ password: _p, ...rest }) => rest)(connect)
  const cleanSsh = ssh === undefined ? undefined : (({ password: _p, passphrase: _q, ...rest }) => rest)(ssh)
  return {
    ...config,
    tunnel: {
      ...tunnel,
      ...(cleanConnect === undefined ? {} : { connect: cleanConnect }),
      ...(cleanSsh === undefined ? {} : { ssh: cleanSsh }),
    },
  }
}
