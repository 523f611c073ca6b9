import { useCallback, useEffect, useId, useState } from 'react'
import type { HostsPreview as Preview, SerializedError } from '../../../electron/common/ipc-contract.js'
import { settle, useBridge } from '../../bridge.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { CheckboxField } from '../../components/text-field.js'
import { useI18n } from '../../i18n/i18n.js'
import { useReadyConfig } from '../../state/config.js'
import { useSession } from '../../state/session.js'

/** The name an `ADDRESS NAME` line maps (undefined for comments and marker lines). */
export function lineName(line: string): string | undefined {
  const trimmed = line.trim()
  if (trimmed.length === 0 || trimmed.startsWith('#')) return undefined
  return trimmed.split(/\s+/)[1]
}

/** The exact block Apply will write, conflicts and shadowed names marked, and Apply / Revert. */
export function HostsPreviewPanel() {
  const api = useBridge()
  const { view, config, save } = useReadyConfig()
  const session = useSession()
  const { t } = useI18n()
  const id = useId()
  const [preview, setPreview] = useState<Preview>()
  const [previewError, setPreviewError] = useState<SerializedError>()
  const [actionError, setActionError] = useState<SerializedError>()
  const [busy, setBusy] = useState<'apply' | 'revert' | undefined>()
  const kind = session.state?.kind

  const refresh = useCallback(async () => {
    const result = await settle(() => api.hosts.preview({}))
    if (result.ok) {
      setPreview(result.value)
      setPreviewError(undefined)
    } else {
      setPreviewError(result.error)
    }
  }, [api])

  // Again whenever the saved config or the session's state changes: the block and the file both may have moved.
  useEffect(() => {
    void refresh()
  }, [refresh, view, kind])

  async function act(which: 'apply' | 'revert') {
    setBusy(which)
    setActionError(undefined)
    const result = which === 'apply' ? await session.connect() : await session.disconnect()
    setBusy(undefined)
    if (!result.ok) setActionError(result.error)
  }

  const running = kind === 'starting' || kind === 'healthy' || kind === 'degraded'
  const conflictNames = new Set(preview?.conflicts.map((c) => c.name) ?? [])
  const shadowedNames = new Set(preview?.shadowed ?? [])
  const lines = preview === undefined ? [] : preview.block.replace(/\n$/, '').split('\n')

  return (
    <div className="panel-stack">
      <section className="card" aria-labelledby={`${id}-heading`}>
        <h2 id={`${id}-heading`}>{t('hosts.heading')}</h2>
        {previewError === undefined ? null : <ErrorNotice error={previewError} />}
        {preview === undefined ? null : preview.entries.length === 0 ? (
          <p>{t('hosts.empty')}</p>
        ) : (
          <figure className="hosts-block" aria-labelledby={`${id}-block`}>
            <figcaption id={`${id}-block`}>{t('hosts.block')}</figcaption>
            <pre role="region" aria-labelledby={`${id}-block`} tabIndex={0}>
              <code>
                {lines.map((line, index) => {
                  const name = lineName(line)
                  const conflict = name !== undefined && conflictNames.has(name)
                  const shadowed = name !== undefined && shadowedNames.has(name)
                  if (!conflict && !shadowed) return <span key={index}>{`${line}\n`}</span>
                  const tag = conflict ? t('hosts.conflictTag') : t('hosts.shadowedTag')
                  // The tag is CSS generated content: seen and read, but not part of the copied block.
                  return (
                    <span key={index}>
                      <mark className={conflict ? 'line-conflict' : 'line-shadowed'} data-tag={tag}>
                        {line}
                      </mark>
                      {'\n'}
                    </span>
                  )
                })}
              </code>
            </pre>
          </figure>
        )}
        {preview !== undefined && preview.added.length > 0 ? (
          <p className="muted">{t('hosts.added', { names: preview.added.join(', ') })}</p>
        ) : null}
        {preview !== undefined && preview.removed.length > 0 ? (
          <p className="muted">{t('hosts.removed', { names: preview.removed.join(', ') })}</p>
        ) : null}
        {preview === undefined || preview.conflicts.length === 0 ? null : (
          <section className="notice notice-warning" aria-labelledby={`${id}-conflicts`}>
            <h3 id={`${id}-conflicts`}>{t('hosts.conflicts')}</h3>
            <ul>
              {preview.conflicts.map((c) => (
                <li key={`${c.line}-${c.name}`}>{t('hosts.conflict', { line: c.line, name: c.name, address: c.address, owner: c.owner })}</li>
              ))}
            </ul>
            <CheckboxField
              id={`${id}-take-over`}
              label={t('hosts.takeOver')}
              checked={config.hosts.takeOver}
              onChange={(takeOver) => {
                void save({ ...config, hosts: { ...config.hosts, takeOver } }).then((r) => setActionError(r.ok ? undefined : r.error))
              }}
            />
          </section>
        )}
        {preview === undefined || preview.shadowed.length === 0 ? null : (
          <section className="notice notice-warning" aria-labelledby={`${id}-shadowed`}>
            <h3 id={`${id}-shadowed`}>{t('hosts.shadowed')}</h3>
            <p>{t('hosts.shadowedNote')}</p>
            <ul>
              {preview.shadowed.map((name) => (
                <li key={name}>{name}</li>
              ))}
            </ul>
          </section>
        )}
        <div className="actions">
          <button type="button" className="button-primary" disabled={busy !== undefined || running} onClick={() => void act('apply')}>
            {t('hosts.apply')}
          </button>
          <button type="button" disabled={busy !== undefined || kind === 'off'} onClick={() => void act('revert')}>
            {t('hosts.revert')}
          </button>
          <button type="button" className="button-quiet" onClick={() => void refresh()}>
            {t('hosts.refresh')}
          </button>
        </div>
        {actionError === undefined ? null : <ErrorNotice error={actionError} onDismiss={() => setActionError(undefined)} />}
      </section>
    </div>
  )
}
