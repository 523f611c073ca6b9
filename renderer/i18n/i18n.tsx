import { createContext, useContext, useEffect, useMemo, type ReactNode } from 'react'
import type { LanguageSetting } from '../../electron/common/ipc-contract.js'
import { en, type MessageKey, type Messages } from './en.js'
import { zhCN } from './zh-CN.js'

export type Locale = 'en' | 'zh-CN'
/** Each setting's name in its own language, for the language switcher ('system' is translated). */
export const localeNames: Readonly<Record<Locale, string>> = { en: 'English', 'zh-CN': '简体中文' }

const catalogs: Readonly<Record<Locale, Messages>> = { en, 'zh-CN': zhCN }

export type Translate = (key: MessageKey, values?: Readonly<Record<string, string | number>>) => string

export interface I18n {
  readonly locale: Locale
  readonly t: Translate
}

/** The locale for a BCP 47 tag such as navigator.language: any Chinese tag gets zh-CN, the rest English. */
export function localeFor(tag: string | undefined): Locale {
  return tag !== undefined && /^zh(?:-|$)/i.test(tag) ? 'zh-CN' : 'en'
}

export function resolveLocale(setting: LanguageSetting): Locale {
  if (setting !== 'system') return setting
  return localeFor(typeof navigator === 'undefined' ? undefined : navigator.language)
}

export function translate(locale: Locale, key: MessageKey, values?: Readonly<Record<string, string | number>>): string {
  const template = catalogs[locale][key]
  if (values === undefined) return template
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name]
    return value === undefined ? whole : String(value)
  })
}

const I18nContext = createContext<I18n | undefined>(undefined)

/** Strings for the chosen language ('system' follows navigator.language); sets <html lang>. */
export function I18nProvider({ setting, children }: { readonly setting: LanguageSetting; readonly children: ReactNode }) {
  const locale = resolveLocale(setting)
  useEffect(() => {
    document.documentElement.lang = locale
  }, [locale])
  const value = useMemo<I18n>(() => ({ locale, t: (key, values) => translate(locale, key, values) }), [locale])
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>
}

export function useI18n(): I18n {
  const value = useContext(I18nContext)
  if (value === undefined) throw new Error('useI18n() needs an <I18nProvider> above it')
  return value
}
