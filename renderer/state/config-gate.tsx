import type { ReactNode } from 'react'
import { ErrorNotice } from '../components/error-notice.js'
import { useI18n } from '../i18n/i18n.js'
import { useConfigStore } from './config.js'

/** Renders its children once the catalog and config are loaded; a load failure shows with Retry. */
export function ConfigGate({ children }: { readonly children: ReactNode }) {
  const { load, reload } = useConfigStore()
  const { t } = useI18n()
  if (load.kind === 'loading') return <p className="muted">{t('app.loading')}</p>
  if (load.kind === 'failed') {
    return (
      <div className="card">
        <p>{t('app.loadFailed')}</p>
        <ErrorNotice error={load.error} />
        <button type="button" onClick={reload}>
          {t('app.retry')}
        </button>
      </div>
    )
  }
  return <>{children}</>
}
