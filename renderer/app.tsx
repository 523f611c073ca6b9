import { useId, useState } from 'react'
import type { AcrApi, LanguageSetting, ThemeSetting } from '../electron/common/ipc-contract.js'
import { languageSettings, themeSettings } from '../electron/common/ipc-contract.js'
import { BridgeProvider } from './bridge.js'
import { StateBadge } from './components/state-badge.js'
import { Tabs, type TabItem } from './components/tabs.js'
import { HostsPreviewPanel } from './features/hosts/hosts-preview.js'
import { StaleLeaseBanner } from './features/hosts/stale-lease-banner.js'
import { LogView } from './features/log/log-view.js'
import { RegionsPanel } from './features/regions/regions-panel.js'
import { StatusPanel } from './features/status/status-panel.js'
import { TunnelPanel } from './features/tunnel/tunnel-panel.js'
import { localeNames, useI18n } from './i18n/i18n.js'
import { ConfigProvider } from './state/config.js'
import { ConfigGate } from './state/config-gate.js'
import { LogProvider } from './state/log.js'
import { PreferencesProvider, usePreferences } from './state/preferences.js'
import { SessionProvider, useSession } from './state/session.js'

export type TabId = 'regions' | 'tunnel' | 'hosts' | 'status' | 'log'

/**
 * The whole window. `api` replaces window.acr (tests, a test host); everything below reaches the app only through
 * it, via useBridge().
 */
export function App({ api, initialTab = 'status' }: { readonly api?: AcrApi; readonly initialTab?: TabId }) {
  return (
    <BridgeProvider {...(api === undefined ? {} : { api })}>
      <PreferencesProvider>
        <ConfigProvider>
          <SessionProvider>
            <LogProvider>
              <Shell initialTab={initialTab} />
            </LogProvider>
          </SessionProvider>
        </ConfigProvider>
      </PreferencesProvider>
    </BridgeProvider>
  )
}

function Shell({ initialTab }: { readonly initialTab: TabId }) {
  const { t } = useI18n()
  const [tab, setTab] = useState<TabId>(initialTab)
  const items: readonly TabItem<TabId>[] = [
    { id: 'status', label: t('tab.status') },
    { id: 'regions', label: t('tab.regions') },
    { id: 'tunnel', label: t('tab.tunnel') },
    { id: 'hosts', label: t('tab.hosts') },
    { id: 'log', label: t('tab.log') },
  ]
  return (
    <div className="app">
      <header className="app-header">
        <h1>{t('app.title')}</h1>
        <HeaderState />
        <PreferenceSwitches />
      </header>
      <StaleLeaseBanner />
      <main>
        <Tabs label={t('app.sections')} items={items} selected={tab} onSelect={setTab}>
          {tab === 'status' ? <StatusPanel /> : null}
          {tab === 'regions' ? (
            <ConfigGate>
              <RegionsPanel />
            </ConfigGate>
          ) : null}
          {tab === 'tunnel' ? (
            <ConfigGate>
              <TunnelPanel />
            </ConfigGate>
          ) : null}
          {tab === 'hosts' ? (
            <ConfigGate>
              <HostsPreviewPanel />
            </ConfigGate>
          ) : null}
          {tab === 'log' ? <LogView /> : null}
        </Tabs>
      </main>
    </div>
  )
}

/** The state, always visible and announced when it changes. */
function HeaderState() {
  const { state } = useSession()
  const { t } = useI18n()
  return (
    <div className="header-state" role="status" aria-live="polite" aria-atomic="true">
      <span className="visually-hidden">{t('state.label')} </span>
      <StateBadge kind={state?.kind} />
      {state === undefined || state.failing.length === 0 ? null : (
        <span className="muted"> {t('state.failingCount', { n: state.failing.length })}</span>
      )}
    </div>
  )
}

function PreferenceSwitches() {
  const { language, theme, setLanguage, setTheme } = usePreferences()
  const { t } = useI18n()
  const id = useId()
  return (
    <div className="prefs">
      <label htmlFor={`${id}-language`}>{t('prefs.language')}</label>
      <select
        id={`${id}-language`}
        value={language}
        onChange={(event) => {
          const next = languageSettings.find((l) => l === event.target.value)
          if (next !== undefined) setLanguage(next)
        }}
      >
        {languageSettings.map((l: LanguageSetting) => (
          <option key={l} value={l} lang={l === 'system' ? undefined : l}>
            {l === 'system' ? t('prefs.language.system') : localeNames[l]}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-theme`}>{t('prefs.theme')}</label>
      <select
        id={`${id}-theme`}
        value={theme}
        onChange={(event) => {
          const next = themeSettings.find((s) => s === event.target.value)
          if (next !== undefined) setTheme(next)
        }}
      >
        {themeSettings.map((s: ThemeSetting) => (
          <option key={s} value={s}>
            {t(`prefs.theme.${s}`)}
          </option>
        ))}
      </select>
    </div>
  )
}
