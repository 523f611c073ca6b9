import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import type { SecretName, SerializedError, TunnelMode } from '../../../electron/common/ipc-contract.js'
import { hostKeyDetails, hostKeyTrust, settle, useBridge } from '../../bridge.js'
import { CheckList } from '../../components/check-list.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { CheckboxField, SelectField, TextField } from '../../components/text-field.js'
import { useI18n } from '../../i18n/i18n.js'
import { useReadyConfig } from '../../state/config.js'
import { useSession } from '../../state/session.js'
import { ConnectAtStartCard, ListeningInUse } from './listening.js'
import {
  aliasChoices,
  checkDraft,
  configWith,
  draftFieldOf,
  draftFrom,
  mechanismChoices,
  withMode,
  type DraftField,
  type TunnelDraft,
} from './tunnel-draft.js'

const modes: readonly TunnelMode[] = ['sni', 'connect', 'ssh']

/** The tunnel (mode-specific), the local listener, Save, and Test connection (diagnostics). */
export function TunnelPanel() {
  const { view, config, save } = useReadyConfig()
  const { t } = useI18n()
  const session = useSession()
  const id = useId()
  const [draft, setDraft] = useState<TunnelDraft>(() => draftFrom(view))
  const [dirty, setDirty] = useState(false)
  const [touched, setTouched] = useState<ReadonlySet<DraftField>>(new Set())
  const [failure, setFailure] = useState<SerializedError>()
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved' | 'testing'>('idle')
  const [keyTrusted, setKeyTrusted] = useState(false)

  // A config saved elsewhere (tray, profile import) shows here unless the user is editing.
  const lastView = useRef(view)
  useEffect(() => {
    if (lastView.current === view) return
    lastView.current = view
    if (!dirty) setDraft(draftFrom(view))
  }, [view, dirty])

  const local = checkDraft(draft)
  const serverField = draftFieldOf(failure?.field)
  function errorFor(field: DraftField): string | undefined {
    const key = touched.has(field) ? local[field] : undefined
    if (key !== undefined) return t(key)
    return serverField === field && failure !== undefined ? failure.message : undefined
  }
  function update(patch: Partial<TunnelDraft>) {
    setDraft((d) => ({ ...d, ...patch }))
    setDirty(true)
    setStatus('idle')
    setFailure(undefined)
  }
  function touch(field: DraftField) {
    setTouched((s) => new Set(s).add(field))
  }
  function text(field: DraftField & keyof TunnelDraft, label: string, options: { type?: 'text' | 'password'; numeric?: boolean; placeholder?: string } = {}) {
    const value = draft[field]
    return (
      <TextField
        id={`${id}-${field}`}
        label={label}
        value={typeof value === 'string' ? value : ''}
        type={options.type ?? 'text'}
        inputMode={options.numeric === true ? 'numeric' : undefined}
        placeholder={options.placeholder}
        autoComplete={options.type === 'password' ? 'new-password' : 'off'}
        error={errorFor(field)}
        onChange={(v) => update({ [field]: v } as Partial<TunnelDraft>)}
        onBlur={() => touch(field)}
      />
    )
  }

  /** A select for a draft field; a choice also shows the verdict of `alsoCheck`, fields validated against it. */
  function choice<F extends 'listenAlias' | 'listenMechanism'>(
    field: F,
    label: string,
    choices: readonly TunnelDraft[F][],
    labelOf: (value: TunnelDraft[F]) => string,
    alsoCheck: readonly DraftField[] = [],
  ) {
    return (
      <SelectField
        id={`${id}-${field}`}
        label={label}
        value={draft[field]}
        options={choices.map((value) => ({ value, label: labelOf(value) }))}
        error={errorFor(field)}
        onChange={(value) => {
          update({ [field]: value } as Partial<TunnelDraft>)
          for (const checked of [field, ...alsoCheck]) touch(checked)
        }}
      />
    )
  }

  /** Saves the draft; false when it is invalid or was refused (the errors then show at the fields). */
  async function saveDraft(): Promise<boolean> {
    setTouched(new Set(Object.keys(draft) as DraftField[]))
    if (Object.keys(local).length > 0) return false
    setStatus('saving')
    const result = await save(configWith(config, draft), { clearSecrets: draft.clearSecrets })
    if (!result.ok) {
      setFailure(result.error)
      setStatus('idle')
      return false
    }
    // Typed secrets are gone from the window once sent.
    setDraft(draftFrom(result.value))
    setDirty(false)
    setTouched(new Set())
    setStatus('saved')
    return true
  }

  async function submit(event: FormEvent) {
    event.preventDefault()
    await saveDraft()
  }

  async function test() {
    if (dirty && !(await saveDraft())) return
    setStatus('testing')
    setFailure(undefined)
    const result = await session.runDiagnostics()
    setStatus('idle')
    if (!result.ok) setFailure(result.error)
  }

  const secrets = view.storedSecrets
  const canStoreSecrets = view.secretStorageAvailable
  function secretField(field: 'connectPassword' | 'sshPassword' | 'sshPassphrase', secret: SecretName, label: string, forget: string) {
    const stored = secrets[secret] && !draft.clearSecrets.includes(secret)
    return (
      <>
        {canStoreSecrets ? text(field, label, { type: 'password', placeholder: stored ? t('tunnel.secretSaved') : '' }) : null}
        {secrets[secret] ? (
          <CheckboxField
            id={`${id}-forget-${secret}`}
            label={forget}
            checked={draft.clearSecrets.includes(secret)}
            onChange={(on) =>
              update({
                clearSecrets: on ? [...draft.clearSecrets, secret] : draft.clearSecrets.filter((s) => s !== secret),
                [field]: '',
              })
            }
          />
        ) : null}
      </>
    )
  }

  const hostKeyError = failure?.code === 'SSH_HOST_KEY_UNKNOWN' ? failure : session.state?.error?.code === 'SSH_HOST_KEY_UNKNOWN' ? session.state.error : undefined
  const otherFailure = failure !== undefined && failure.code !== 'SSH_HOST_KEY_UNKNOWN' && serverField === undefined ? failure : undefined
  const invalidShown = Object.keys(local).some((f) => touched.has(f as DraftField))

  return (
    <form className="panel-stack" noValidate onSubmit={(event) => void submit(event)} aria-labelledby={`${id}-heading`}>
      <section className="card">
        <h2 id={`${id}-heading`}>{t('tunnel.heading')}</h2>
        <fieldset className="mode-choice">
          <legend>{t('tunnel.mode')}</legend>
          {modes.map((mode) => (
            <div className="field field-check" key={mode}>
              <input
                type="radio"
                id={`${id}-mode-${mode}`}
                name={`${id}-mode`}
                value={mode}
                checked={draft.mode === mode}
                onChange={() => update(withMode(draft, mode))}
              />
              <label htmlFor={`${id}-mode-${mode}`}>{t(`tunnel.mode.${mode}`)}</label>
            </div>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t('tunnel.ecs')}</legend>
          {text('host', t('tunnel.host'), { placeholder: '203.0.113.10' })}
          {text('port', t('tunnel.port'), { numeric: true })}
          {draft.mode === 'sni' ? text('httpPort', t('tunnel.httpPort'), { numeric: true, placeholder: '80' }) : null}
          {draft.mode === 'connect' ? (
            <>
              {text('connectUsername', t('tunnel.username'))}
              {secretField('connectPassword', 'proxyPassword', t('tunnel.password'), t('tunnel.forgetPassword'))}
              <CheckboxField
                id={`${id}-connectTls`}
                label={t('tunnel.tls')}
                checked={draft.connectTls}
                onChange={(connectTls) => update({ connectTls })}
              />
            </>
          ) : null}
          {draft.mode === 'ssh' ? (
            <>
              {text('sshUsername', t('tunnel.username'), { placeholder: 'root' })}
              {text('sshKeyPath', t('tunnel.keyPath'), { placeholder: '~/.ssh/id_ed25519' })}
              {secretField('sshPassphrase', 'sshPassphrase', t('tunnel.passphrase'), t('tunnel.forgetPassphrase'))}
              <CheckboxField
                id={`${id}-sshAgent`}
                label={t('tunnel.agent')}
                checked={draft.sshAgent}
                onChange={(sshAgent) => update({ sshAgent })}
              />
              {secretField('sshPassword', 'sshPassword', t('tunnel.password'), t('tunnel.forgetPassword'))}
              {text('sshKnownHosts', t('tunnel.knownHosts'), { placeholder: '~/.ssh/known_hosts' })}
            </>
          ) : null}
          {draft.mode === 'sni' ? null : (
            <p className="muted">{canStoreSecrets ? t('tunnel.secretNote') : t('tunnel.noSecretStorage')}</p>
          )}
        </fieldset>
      </section>

      {hostKeyError === undefined ? null : (
        <HostKeyCard
          error={hostKeyError}
          host={draft.host}
          port={Number(draft.port)}
          onTrusted={() => {
            setKeyTrusted(true)
            setFailure(undefined)
            void test()
          }}
        />
      )}

      <section className="card" aria-labelledby={`${id}-listen-heading`}>
        <h2 id={`${id}-listen-heading`}>{t('tunnel.listen')}</h2>
        {text('listenAddress', t('tunnel.listenAddress'), { placeholder: '127.0.0.1' })}
        {text('listenPort', t('tunnel.listenPort'), { numeric: true, placeholder: '443' })}
        {text('listenHttpPort', t('tunnel.listenHttpPort'), { numeric: true, placeholder: '80' })}
        {text('proxyPort', t('tunnel.proxyPort'), { numeric: true })}
        {choice('listenAlias', t('tunnel.alias'), aliasChoices, (value) => t(`tunnel.alias.${value}`))}
        {/* The fixed high ports are checked against the mechanism: a change shows their verdict at once. */}
        {choice('listenMechanism', t('tunnel.mechanism'), mechanismChoices, (value) => t(`tunnel.mechanism.${value}`), ['highTlsPort'])}
        {draft.listenMechanism === 'direct' && draft.highTlsPort === '' && draft.highHttpPort === '' ? null : (
          <>
            {text('highTlsPort', t('tunnel.highTlsPort'), { numeric: true })}
            {text('highHttpPort', t('tunnel.highHttpPort'), { numeric: true })}
          </>
        )}
        <p className="muted">{t('tunnel.overridesNote')}</p>
        <ListeningInUse listening={session.state?.listening} connected={session.state !== undefined && session.state.kind !== 'off'} />
      </section>

      <ConnectAtStartCard />

      <div className="actions">
        <button type="submit" disabled={status === 'saving' || status === 'testing'}>
          {status === 'saving' ? t('common.saving') : t('tunnel.save')}
        </button>
        <button type="button" disabled={status === 'saving' || status === 'testing'} onClick={() => void test()}>
          {status === 'testing' ? t('tunnel.testing') : t('tunnel.test')}
        </button>
        <span role="status" className="muted">
          {status === 'saved' ? t('common.saved') : dirty ? t('tunnel.unsaved') : ''}
        </span>
      </div>
      {keyTrusted && hostKeyError === undefined ? <p role="status">{t('tunnel.hostKey.trusted')}</p> : null}
      {invalidShown ? <p className="field-error">{t('validate.fixErrors')}</p> : null}
      {otherFailure === undefined ? null : <ErrorNotice error={otherFailure} showField />}
      {session.diagnostics === undefined ? null : (
        <section className="card">
          <CheckList checks={session.diagnostics.results} caption={t('status.diagnostics')} />
        </section>
      )}
    </form>
  )
}

function HostKeyCard(props: { readonly error: SerializedError; readonly host: string; readonly port: number; readonly onTrusted: () => void }) {
  const { error, host, port, onTrusted } = props
  const { t } = useI18n()
  const api = useBridge()
  const trust = hostKeyTrust(api)
  const details = hostKeyDetails(error)
  const fingerprint = details?.fingerprint
  const [trustError, setTrustError] = useState<SerializedError>()
  const [busy, setBusy] = useState(false)
  const id = useId()

  async function onTrust() {
    if (trust === undefined || details === undefined) return
    setBusy(true)
    const result = await settle(() => trust({ host, port, ...details }))
    setBusy(false)
    if (result.ok) {
      setTrustError(undefined)
      onTrusted()
    } else {
      setTrustError(result.error)
    }
  }

  return (
    <section className="card card-warning" role="alert" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('tunnel.hostKey.title')}</h2>
      <p>{t('tunnel.hostKey.body', { host })}</p>
      <p className="muted">{error.message}</p>
      {fingerprint === undefined ? (
        <p>{t('tunnel.hostKey.noFingerprint')}</p>
      ) : (
        <dl className="fingerprint">
          <dt>{t('tunnel.hostKey.fingerprint')}</dt>
          <dd>
            <code>{fingerprint}</code>
          </dd>
        </dl>
      )}
      {trust === undefined ? (
        <p>{error.hint ?? t('tunnel.hostKey.cannotTrust')}</p>
      ) : (
        <button type="button" disabled={fingerprint === undefined || busy} onClick={() => void onTrust()}>
          {t('tunnel.hostKey.trust')}
        </button>
      )}
      {trustError === undefined ? null : <ErrorNotice error={trustError} />}
    </section>
  )
}
