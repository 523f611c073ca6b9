import type { CheckResult } from '../../electron/common/ipc-contract.js'
import { useI18n } from '../i18n/i18n.js'

/** The doctor's checks, grouped by name in the order given: ✓/✗ per hop, latency, reason and, on failure, hint. */
export function CheckList({ checks, caption }: { readonly checks: readonly CheckResult[]; readonly caption: string }) {
  const { t } = useI18n()
  const names = [...new Set(checks.map((c) => c.name))]
  return (
    <table className="checks">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t('status.check.name')}</th>
          <th scope="col">{t('status.check.hop')}</th>
          <th scope="col">{t('status.check.result')}</th>
          <th scope="col">{t('status.check.latency')}</th>
          <th scope="col">{t('status.check.reason')}</th>
        </tr>
      </thead>
      {names.map((name) => {
        const rows = checks.filter((c) => c.name === name)
        return (
          <tbody key={name}>
            {rows.map((check, index) => (
              <tr key={`${check.hop}-${index}`} className={check.ok ? 'check-ok' : 'check-fail'}>
                {index === 0 ? (
                  <th scope="rowgroup" rowSpan={rows.length} className="check-name">
                    {name}
                  </th>
                ) : null}
                <td>{t(`hop.${check.hop}`)}</td>
                <td>
                  <span aria-hidden="true" className="check-mark">
                    {check.ok ? '✓' : '✗'}
                  </span>{' '}
                  <span>{t(check.ok ? 'status.pass' : 'status.fail')}</span>
                </td>
                <td>{check.latencyMs === undefined ? '' : t('status.latency', { ms: Math.round(check.latencyMs) })}</td>
                <td>
                  {check.reason}
                  {check.ok || check.hint === undefined ? null : (
                    <span className="check-hint"> {t('common.hint', { hint: check.hint })}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        )
      })}
    </table>
  )
}
