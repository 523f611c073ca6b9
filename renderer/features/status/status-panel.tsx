import { useId, useState } from 'react'
import type { SerializedError } from '../../../electron/common/ipc-contract.js'
import { CheckList } from '../../components/check-list.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { formatTime } from '../../components/format.js'
import { StateBadge } from '../../components/state-badge.js'
import { useI18n } from '../../i18n/i18n.js'
import { ConfigGate } from '../../state/config-gate.js'
import { useSession } from '../../state/session.js'
import { DiscoverForm } from './discover-form.js'
import { TrafficTable } from './traffic-table.js'

/** The overall state, every check per name and hop, traffic, Run diagnostics and Discover hosts. */
export function StatusPanel() {
  const { state, throughput, diagnostics, runDiagnostics } = useSession()
  const { t, locale } = useI18n()
  const id = useId()
  const [running, setRunning] = useState(false)
  const [error, setError] = useState<SerializedError>()

  async function diagnose() {
    setRunning(true)
    setError(undefined)
    const result = await runDiagnostics()
    setRunning(false)
    if (!result.ok) setError(result.error)
  }

  return (
    <div className="panel-stack">
      <section className="card" aria-labelledby={`${id}-heading`}>
        <h2 id={`${id}-heading`}>{t('status.heading')}</h2>
        <p className="state-line">
          <StateBadge kind={state?.kind} />{' '}
          {state === undefined ? null : <span className="muted">{t('state.since', { time: formatTime(state.since, locale) })}</span>}
        </p>
        {state?.error === undefined ? null : <ErrorNotice error={state.error} />}
        {state === undefined || state.failing.length === 0 ? null : (
          <section aria-labelledby={`${id}-failing`}>
            <h3 id={`${id}-failing`}>{t('status.failing')}</h3>
            <ul className="failing">
              {state.failing.map((f) => (
                <li key={f.name}>
                  <strong>{f.name}</strong>: {f.reason}
                </li>
              ))}
            </ul>
          </section>
        )}
        {state === undefined || state.checks.length === 0 ? (
          <p className="muted">{t('status.noChecks')}</p>
        ) : (
          <CheckList checks={state.checks} caption={t('status.checks')} />
        )}
        <div className="actions">
          <button type="button" disabled={running} onClick={() => void diagnose()}>
            {running ? t('status.running') : t('status.runDiagnostics')}
          </button>
        </div>
        {error === undefined ? null : <ErrorNotice error={error} />}
        {diagnostics === undefined ? null : (
          <CheckList
            checks={diagnostics.results}
            caption={`${t('status.diagnostics')} (${formatTime(diagnostics.at, locale)})`}
          />
        )}
      </section>
      <section className="card" aria-labelledby={`${id}-traffic`}>
        <h2 id={`${id}-traffic`}>{t('status.traffic')}</h2>
        <TrafficTable traffic={state?.traffic ?? []} throughput={throughput} />
      </section>
      <ConfigGate>
        <DiscoverForm />
      </ConfigGate>
    </div>
  )
}
