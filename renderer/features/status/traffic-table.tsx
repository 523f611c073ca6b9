import type { NameTraffic } from '../../../electron/common/ipc-contract.js'
import { formatBytes } from '../../components/format.js'
import { useI18n } from '../../i18n/i18n.js'
import type { Throughput } from '../../state/session.js'

/** Live connections and bytes per name from state.traffic, with the rate since the previous state. */
export function TrafficTable({ traffic, throughput }: { readonly traffic: readonly NameTraffic[]; readonly throughput: Throughput }) {
  const { t } = useI18n()
  const open = traffic.reduce((sum, n) => sum + n.open, 0)
  return (
    <>
      <p>
        {t('status.totals', {
          open,
          up: formatBytes(throughput.total.up),
          down: formatBytes(throughput.total.down),
        })}
      </p>
      {traffic.length === 0 ? (
        <p className="muted">{t('status.noTraffic')}</p>
      ) : (
        <table className="traffic">
          <caption className="visually-hidden">{t('status.traffic')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('status.check.name')}</th>
              <th scope="col">{t('status.open')}</th>
              <th scope="col">{t('status.total')}</th>
              <th scope="col">{t('status.up')}</th>
              <th scope="col">{t('status.down')}</th>
              <th scope="col">{t('status.errors')}</th>
            </tr>
          </thead>
          <tbody>
            {traffic.map((n) => {
              const rate = throughput.byName.get(n.name)
              return (
                <tr key={n.name}>
                  <th scope="row">{n.name}</th>
                  <td>{n.open}</td>
                  <td>{n.total}</td>
                  <td>
                    {formatBytes(n.bytesUp)}
                    {rate === undefined ? null : <span className="muted"> ({t('status.rate', { rate: formatBytes(rate.up) })})</span>}
                  </td>
                  <td>
                    {formatBytes(n.bytesDown)}
                    {rate === undefined ? null : <span className="muted"> ({t('status.rate', { rate: formatBytes(rate.down) })})</span>}
                  </td>
                  <td>{n.errors}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
    </>
  )
}
