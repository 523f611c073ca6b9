import type { Region } from '../../../electron/common/ipc-contract.js'
import type { Locale } from '../../i18n/i18n.js'

/** The region's name in the window's language. */
export function regionName(region: Region, locale: Locale): string {
  return locale === 'zh-CN' ? region.nameZh : region.nameEn
}

/** The other language's name, shown beside the first so either can be recognised. */
export function regionOtherName(region: Region, locale: Locale): string {
  return locale === 'zh-CN' ? region.nameEn : region.nameZh
}

/** Does the region match the search text? Matches the id, the English name and the Chinese name, ignoring case. */
export function regionMatches(region: Region, query: string): boolean {
  const q = query.trim().toLowerCase()
  if (q.length === 0) return true
  return [region.id, region.nameEn, region.nameZh].some((text) => text.toLowerCase().includes(q))
}
