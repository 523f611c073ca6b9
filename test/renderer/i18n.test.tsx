import { fireEvent, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { en } from '../../renderer/i18n/en.js'
import { localeFor, translate } from '../../renderer/i18n/i18n.js'
import { zhCN } from '../../renderer/i18n/zh-CN.js'
import { loaded, renderApp } from './render-app.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('languages', () => {
  it('switching to Simplified Chinese shows Chinese labels and saves the choice', async () => {
    const { bridge } = renderApp({ tab: 'regions' })
    await loaded('Regions')
    fireEvent.change(screen.getByRole('combobox', { name: 'Language' }), { target: { value: 'zh-CN' } })

    expect(screen.getByRole('tab', { name: '地域' }).getAttribute('aria-selected')).toBe('true')
    expect(screen.getByRole('tab', { name: '隧道' })).toBeTruthy()
    expect(screen.getByRole('heading', { name: '企业版实例' })).toBeTruthy()
    expect(screen.getByRole('searchbox', { name: '搜索地域' })).toBeTruthy()
    expect(screen.getByRole('combobox', { name: '语言' })).toBeTruthy()
    // Region names follow the language; the other one stays beside it for recognition.
    expect(screen.getByRole('checkbox', { name: /^华北2（北京） China \(Beijing\)/ })).toBeTruthy()
    expect(document.documentElement.lang).toBe('zh-CN')
    await waitFor(() => expect(bridge.requestsOf('app:set-settings')).toEqual([{ language: 'zh-CN' }]))

    fireEvent.change(screen.getByRole('combobox', { name: '语言' }), { target: { value: 'en' } })
    expect(screen.getByRole('tab', { name: 'Regions' })).toBeTruthy()
  })

  it('follows navigator.language when the setting is "system", and the saved setting when there is one', async () => {
    vi.spyOn(navigator, 'language', 'get').mockReturnValue('zh-Hans-CN')
    renderApp()
    expect(await screen.findByRole('tab', { name: '状态' })).toBeTruthy()
  })

  it('uses the saved language from the app settings', async () => {
    renderApp({ settings: { language: 'zh-CN' } })
    expect(await screen.findByRole('tab', { name: '日志' })).toBeTruthy()
  })

  it('maps language tags and fills placeholders', () => {
    expect(localeFor('zh-CN')).toBe('zh-CN')
    expect(localeFor('zh-TW')).toBe('zh-CN')
    expect(localeFor('zh')).toBe('zh-CN')
    expect(localeFor('en-GB')).toBe('en')
    expect(localeFor('zu')).toBe('en')
    expect(localeFor(undefined)).toBe('en')
    expect(translate('en', 'regions.count', { selected: 2, total: 30 })).toBe('2 of 30 regions selected')
    expect(translate('zh-CN', 'regions.count', { selected: 2, total: 30 })).toBe('已选 2 / 30 个地域')
  })

  it('every Chinese string keeps the placeholders of its English one', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort())
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
      expect(names(zhCN[key]), key).toEqual(names(en[key]))
    }
  })
})

describe('themes', () => {
  it('follows the system until a theme is chosen, then pins it on <html>', async () => {
    const { bridge } = renderApp()
    const theme = await screen.findByRole('combobox', { name: 'Theme' })
    expect(document.documentElement.dataset['theme']).toBeUndefined()
    fireEvent.change(theme, { target: { value: 'dark' } })
    expect(document.documentElement.dataset['theme']).toBe('dark')
    fireEvent.change(theme, { target: { value: 'system' } })
    expect(document.documentElement.dataset['theme']).toBeUndefined()
    await waitFor(() => expect(bridge.requestsOf('app:set-settings')).toEqual([{ theme: 'dark' }, { theme: 'system' }]))
  })
})
