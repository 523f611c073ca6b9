import type { SessionStateKind } from '../../electron/common/ipc-contract.js'
import { useI18n } from '../i18n/i18n.js'

/** A glyph per state as well as a colour, so the state never depends on colour alone. */
const glyphs: Readonly<Record<SessionStateKind, string>> = {
  off: '○',
  starting: '◌',
  healthy: '●',
  degraded: '◐',
  down: '✕',
}

/** The overall state: colour AND text. `undefined` while the first state is on its way. */
export function StateBadge({ kind }: { readonly kind: SessionStateKind | undefined }) {
  const { t } = useI18n()
  if (kind === undefined) return <span className="state-badge state-unknown">{t('app.loading')}</span>
  return (
    <span className={`state-badge state-${kind}`} data-state={kind}>
      <span aria-hidden="true" className="state-glyph">
        {glyphs[kind]}
      </span>{' '}
      {t(`state.${kind}`)}
    </span>
  )
}
