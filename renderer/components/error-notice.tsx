import type { SerializedError } from '../../electron/common/ipc-contract.js'
import { useI18n } from '../i18n/i18n.js'

/** An expected failure as the user sees it: the message, then what to do next. Announced (role=alert). */
export function ErrorNotice(props: {
  readonly error: SerializedError
  readonly id?: string
  readonly onDismiss?: () => void
  readonly showField?: boolean
}) {
  const { error, id, onDismiss, showField = false } = props
  const { t } = useI18n()
  return (
    <div className="notice notice-error" role="alert" id={id}>
      <p className="notice-message">{error.message}</p>
      {error.hint === undefined ? null : <p className="notice-hint">{t('common.hint', { hint: error.hint })}</p>}
      {showField && error.field !== undefined ? <p className="notice-field">{t('common.field', { field: error.field })}</p> : null}
      {onDismiss === undefined ? null : (
        <button type="button" className="button-quiet" onClick={onDismiss}>
          {t('common.dismiss')}
        </button>
      )}
    </div>
  )
}
