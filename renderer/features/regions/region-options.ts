import type { Network } from '../../../electron/common/ipc-contract.js'
import { useI18n } from '../../i18n/i18n.js'
import { useReadyConfig } from '../../state/config.js'
import { regionName } from './region-names.js'

/** Regions for an instance's region picker: closed ones are listed but cannot be picked. */
export function useRegionOptions(): readonly { readonly value: string; readonly label: string; readonly disabled: boolean }[] {
  const { catalog } = useReadyConfig()
  const { t, locale } = useI18n()
  return catalog.regions.map((r) => ({
    value: r.id,
    label: `${regionName(r, locale)} (${r.id})${r.status === 'available' ? '' : ` · ${t(`regions.status.${r.status}`)}`}`,
    disabled: r.status === 'closed',
  }))
}

export function useNetworkOptions(): readonly { readonly value: Network; readonly label: string }[] {
  const { t } = useI18n()
  return [
    { value: 'vpc', label: t('common.vpc') },
    { value: 'internet', label: t('common.internet') },
  ]
}
