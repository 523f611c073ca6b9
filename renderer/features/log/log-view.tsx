import { useEffect, useId, useRef } from 'react'
import { formatTime } from '../../components/format.js'
import { useI18n } from '../../i18n/i18n.js'
import { useLog } from '../../state/log.js'

/** The log's tail and every line appended since; stays at the bottom while the user has not scrolled up. */
export function LogView() {
  const entries = useLog()
  const { t, locale } = useI18n()
  const id = useId()
  const list = useRef<HTMLOListElement>(null)
  const pinned = useRef(true)

  useEffect(() => {
    const el = list.current
    if (el !== null && pinned.current) el.scrollTop = el.scrollHeight
  }, [entries])

  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{t('log.heading')}</h2>
      {entries.length === 0 ? <p className="muted">{t('log.empty')}</p> : null}
      <ol
        ref={list}
        className="log"
        role="log"
        aria-live="polite"
        aria-label={t('log.lines')}
        tabIndex={0}
        onScroll={(event) => {
          const el = event.currentTarget
          pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4
        }}
      >
        {entries.map((entry, index) => (
          <li key={index} className={`log-line log-${entry.level}`}>
            <time dateTime={entry.time}>{formatTime(entry.time, locale)}</time>{' '}
            <span className="log-level">{entry.level.toUpperCase()}</span> <span className="log-message">{entry.message}</span>
          </li>
        ))}
      </ol>
    </section>
  )
}
