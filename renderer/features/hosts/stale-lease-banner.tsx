import { useEffect, useState } from 'react'
import type { SerializedError, StaleLease } from '../../../electron/common/ipc-contract.js'
import { settle, useBridge } from '../../bridge.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { useI18n } from '../../i18n/i18n.js'

/** A hosts block (or other change) left by a crash, found at start and offered for revert. */
export function StaleLeaseBanner() {
  const api = useBridge()
  const { t } = useI18n()
  const [lease, setLease] = useState<StaleLease>()
  const [error, setError] = useState<SerializedError>()
  const [reverted, setReverted] = useState(false)
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    let live = true
    void settle(() => api.lease.find()).then((result) => {
      if (!live) return
      if (result.ok) setLease(result.value ?? undefined)
      else setError(result.error)
    })
    return () => {
      live = false
    }
  }, [api])

  async function revert() {
    setBusy(true)
    const result = await settle(() => api.lease.revert())
    setBusy(false)
    if (result.ok) {
      setLease(undefined)
      setReverted(true)
      setError(undefined)
    } else {
      setError(result.error)
    }
  }

  if (reverted) return <p role="status" className="notice notice-ok">{t('hosts.stale.reverted')}</p>
  if (lease === undefined) return error === undefined ? null : <ErrorNotice error={error} onDismiss={() => setError(undefined)} />
  return (
    <section className="notice notice-warning stale-lease" role="alert" aria-labelledby="stale-lease-title">
      <h2 id="stale-lease-title">{t('hosts.stale.title')}</h2>
      <p>{t('hosts.stale.body', { path: lease.hostsPath, n: lease.names.length, names: lease.names.join(', ') })}</p>
      {lease.changes.length === 0 ? null : (
        <ul>
          {lease.changes.map((change) => (
            <li key={change}>{change}</li>
          ))}
        </ul>
      )}
      <button type="button" className="button-primary" disabled={busy} onClick={() => void revert()}>
        {t('hosts.stale.revert')}
      </button>
      {error === undefined ? null : <ErrorNotice error={error} />}
    </section>
  )
}
