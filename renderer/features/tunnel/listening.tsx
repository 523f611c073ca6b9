// What the running session's listen strategy actually does (SessionState.listening), shown under the listen
// settings, and the app setting "Connect when ACR Bridge starts" (AppSettings.connectAtStart).
import { useEffect, useId, useState } from 'react'
import type { ListeningState } from '../../../electron/common/status.js'
import type { SerializedError } from '../../../electron/common/ipc-contract.js'
import { settle, useBridge } from '../../bridge.js'
import { CheckboxField } from '../../components/text-field.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { useI18n } from '../../i18n/i18n.js'

function ports(tls: number, http: number | null | undefined): string {
  return http === undefined || http === null ? String(tls) : `${tls}, ${http}`
}

/** The strategy in use: mechanism, the address names point at, where the tunnel is bound, the alias, and why. */
export function ListeningInUse({ listening, connected }: { readonly listening: ListeningState | undefined; readonly connected: boolean }) {
  const { t } = useI18n()
  const id = useId()
  return (
    <section className="listening-in-use" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t('tunnel.inUse')}</h3>
      {listening === undefined ? (
        <p className="muted">{t(connected ? 'tunnel.inUse.unreported' : 'tunnel.inUse.none')}</p>
      ) : (
        <>
          <dl className="facts">
            <dt>{t('tunnel.inUse.mechanism')}</dt>
            <dd>{t(`tunnel.inUse.mechanism.${listening.mechanism}`)}</dd>
            <dt>{t('tunnel.inUse.names')}</dt>
            <dd>
              <code>{`${listening.hostsAddress} : ${ports(listening.publicPorts.tls, listening.publicPorts.http)}`}</code>
            </dd>
            <dt>{t('tunnel.inUse.bound')}</dt>
            <dd>
              <code>{`${listening.bound.address} : ${ports(listening.bound.tls, listening.bound.http)}`}</code>
            </dd>
            <dt>{t('tunnel.inUse.alias')}</dt>
            <dd>{listening.alias === undefined ? t('tunnel.inUse.noAlias') : <code>{listening.alias}</code>}</dd>
          </dl>
          {listening.reasons.length === 0 ? null : (
            <>
              <h4>{t('tunnel.inUse.why')}</h4>
              <ul className="reasons">
                {listening.reasons.map((reason) => (
                  <li key={reason}>{reason}</li>
                ))}
              </ul>
            </>
          )}
          {listening.warnings.map((warning) => (
            <p key={warning} className="notice notice-warning">
              {warning}
            </p>
          ))}
        </>
      )}
    </section>
  )
}

/** AppSettings.connectAtStart: saved at once through app:set-settings (not part of the config). */
export function ConnectAtStartCard() {
  const api = useBridge()
  const { t } = useI18n()
  const id = useId()
  const [checked, setChecked] = useState<boolean>()
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState<SerializedError>()

  useEffect(() => {
    let live = true
    void settle(() => api.app.settings()).then((result) => {
      if (!live) return
      if (result.ok) setChecked(result.value.connectAtStart)
      else setFailure(result.error)
    })
    return () => {
      live = false
    }
  }, [api])

  async function change(next: boolean) {
    const before = checked
    setChecked(next)
    setBusy(true)
    setFailure(undefined)
    const result = await settle(() => api.app.setSettings({ connectAtStart: next }))
    setBusy(false)
    if (result.ok) setChecked(result.value.connectAtStart)
    else {
      setChecked(before)
      setFailure(result.error)
    }
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('tunnel.startup')}</h2>
      <CheckboxField
        id={`${id}-connectAtStart`}
        label={t('tunnel.connectAtStart')}
        checked={checked === true}
        disabled={checked === undefined || busy}
        describedBy={`${id}-note`}
        onChange={(next) => void change(next)}
      />
      <p id={`${id}-note`} className="muted">
        {t('tunnel.connectAtStartNote')}
      </p>
      {failure === undefined ? null : <ErrorNotice error={failure} />}
    </section>
  )
}
