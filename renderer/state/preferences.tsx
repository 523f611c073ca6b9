import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import type { LanguageSetting, ThemeSetting } from '../../electron/common/ipc-contract.js'
import { useBridge, settle } from '../bridge.js'
import { I18nProvider } from '../i18n/i18n.js'

export interface Preferences {
  readonly language: LanguageSetting
  readonly theme: ThemeSetting
  readonly setLanguage: (language: LanguageSetting) => void
  readonly setTheme: (theme: ThemeSetting) => void
}

const PreferencesContext = createContext<Preferences | undefined>(undefined)

/**
 * Language and theme, kept in the app's settings (`app:settings`). Until they load, and when they cannot be
 * saved, the window follows the system and the choice lasts for this window. Applies the theme to <html>
 * (`data-theme` pins light or dark; without it the CSS follows prefers-color-scheme) and provides the strings.
 */
export function PreferencesProvider({ children }: { readonly children: ReactNode }) {
  const api = useBridge()
  const [language, setLanguageState] = useState<LanguageSetting>('system')
  const [theme, setThemeState] = useState<ThemeSetting>('system')
  // A choice made before the saved settings arrive wins over them.
  const touched = useRef({ language: false, theme: false })

  useEffect(() => {
    let live = true
    void settle(() => api.app.settings()).then((result) => {
      if (!live || !result.ok) return
      if (!touched.current.language) setLanguageState(result.value.language)
      if (!touched.current.theme) setThemeState(result.value.theme)
    })
    return () => {
      live = false
    }
  }, [api])

  const setLanguage = useCallback(
    (next: LanguageSetting) => {
      touched.current.language = true
      setLanguageState(next)
      void settle(() => api.app.setSettings({ language: next }))
    },
    [api],
  )
  const setTheme = useCallback(
    (next: ThemeSetting) => {
      touched.current.theme = true
      setThemeState(next)
      void settle(() => api.app.setSettings({ theme: next }))
    },
    [api],
  )

  useEffect(() => {
    const root = document.documentElement
    if (theme === 'system') delete root.dataset['theme']
    else root.dataset['theme'] = theme
  }, [theme])

  const value = useMemo<Preferences>(
    () => ({ language, theme, setLanguage, setTheme }),
    [language, theme, setLanguage, setTheme],
  )
  return (
    <PreferencesContext.Provider value={value}>
      <I18nProvider setting={language}>{children}</I18nProvider>
    </PreferencesContext.Provider>
  )
}

export function usePreferences(): Preferences {
  const value = useContext(PreferencesContext)
  if (value === undefined) throw new Error('usePreferences() needs a <PreferencesProvider> above it')
  return value
}
