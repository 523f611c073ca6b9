import { useId, useState, type FormEvent } from 'react'
import type { Config, Network, PersonalInstance, SerializedError } from '../../../electron/common/ipc-contract.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { SelectField, TextField } from '../../components/text-field.js'
import type { MessageKey } from '../../i18n/en.js'
import { useI18n } from '../../i18n/i18n.js'
import { fieldOf, useReadyConfig } from '../../state/config.js'
import { useNetworkOptions, useRegionOptions } from './region-options.js'
import { normalizePersonalId, validatePersonalId, validateRegionChoice } from './validation.js'

type FormField = 'id' | 'region' | 'network'
const formFields: readonly FormField[] = ['id', 'region', 'network']

interface Draft {
  readonly id: string
  readonly region: string
  readonly network: Network
}

const emptyDraft: Draft = { id: '', region: '', network: 'vpc' }

function checkDraft(draft: Draft, existing: readonly PersonalInstance[]): Partial<Record<FormField, MessageKey>> {
  const errors: Partial<Record<FormField, MessageKey>> = {}
  const id = validatePersonalId(draft.id)
  if (id !== undefined) errors.id = id
  else if (existing.some((p) => p.id === normalizePersonalId(draft.id) && p.region === draft.region)) {
    errors.id = 'validate.crpiDuplicate'
  }
  const region = validateRegionChoice(draft.region)
  if (region !== undefined) errors.region = region
  return errors
}

export function PersonalInstances() {
  const { config, save } = useReadyConfig()
  const { t } = useI18n()
  const regionOptions = useRegionOptions()
  const networkOptions = useNetworkOptions()
  const formId = useId()
  const [draft, setDraft] = useState<Draft>(emptyDraft)
  const [touched, setTouched] = useState<ReadonlySet<FormField>>(new Set())
  const [serverError, setServerError] = useState<{ readonly error: SerializedError; readonly field: FormField | undefined }>()
  const [removeError, setRemoveError] = useState<SerializedError>()
  const [busy, setBusy] = useState(false)

  const local = checkDraft(draft, config.personalInstances)
  function errorFor(field: FormField): string | undefined {
    const key = touched.has(field) ? local[field] : undefined
    if (key !== undefined) return t(key)
    return serverError?.field === field ? serverError.error.message : undefined
  }
  function update(patch: Partial<Draft>) {
    setDraft((d) => ({ ...d, ...patch }))
    setServerError(undefined)
  }

  async function add(event: FormEvent) {
    event.preventDefault()
    setTouched(new Set(formFields))
    if (Object.keys(local).length > 0) return
    // Valid: while it is saved (and shown in the list at once), the draft is not checked against that list.
    setTouched(new Set())
    const index = config.personalInstances.length
    const instance: PersonalInstance = { id: normalizePersonalId(draft.id), region: draft.region, network: draft.network }
    const next: Config = { ...config, personalInstances: [...config.personalInstances, instance] }
    setBusy(true)
    const result = await save(next)
    setBusy(false)
    if (result.ok) {
      setDraft(emptyDraft)
      setTouched(new Set())
      setServerError(undefined)
    } else {
      setServerError({ error: result.error, field: fieldOf(result.error, `personalInstances[${index}].`, formFields) })
    }
  }

  async function remove(index: number) {
    const result = await save({ ...config, personalInstances: config.personalInstances.filter((_, i) => i !== index) })
    setRemoveError(result.ok ? undefined : result.error)
  }

  const invalidCount = Object.keys(local).filter((f) => touched.has(f as FormField)).length
  return (
    <section aria-labelledby={`${formId}-heading`} className="card">
      <h2 id={`${formId}-heading`}>{t('personal.heading')}</h2>
      {config.personalInstances.length === 0 ? (
        <p className="muted">{t('personal.none')}</p>
      ) : (
        <ul className="instance-list">
          {config.personalInstances.map((instance, index) => (
            <li key={`${instance.region}/${instance.id}`}>
              <span className="instance-name">crpi-{instance.id}</span> <code>{instance.region}</code>{' '}
              <span className="badge">{t(instance.network === 'vpc' ? 'common.vpc' : 'common.internet')}</span>{' '}
              <button
                type="button"
                className="button-quiet"
                aria-label={t('personal.remove', { id: instance.id })}
                onClick={() => void remove(index)}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      {removeError === undefined ? null : <ErrorNotice error={removeError} onDismiss={() => setRemoveError(undefined)} />}
      <form className="inline-form" noValidate onSubmit={(event) => void add(event)}>
        <TextField
          id={`${formId}-id`}
          label={t('personal.id')}
          value={draft.id}
          placeholder="crpi-…"
          error={errorFor('id')}
          onChange={(id) => update({ id })}
          onBlur={() => setTouched((s) => new Set(s).add('id'))}
        />
        <SelectField
          id={`${formId}-region`}
          label={t('common.region')}
          value={draft.region}
          placeholder={t('common.chooseRegion')}
          options={regionOptions}
          error={errorFor('region')}
          onChange={(region) => {
            update({ region })
            setTouched((s) => new Set(s).add('region'))
          }}
        />
        <SelectField
          id={`${formId}-network`}
          label={t('common.network')}
          value={draft.network}
          options={networkOptions}
          error={errorFor('network')}
          onChange={(network) => update({ network })}
        />
        <button type="submit" disabled={busy}>
          {t('personal.add')}
        </button>
        {invalidCount > 0 ? <p className="field-error">{t('validate.fixErrors')}</p> : null}
        {serverError !== undefined && serverError.field === undefined ? <ErrorNotice error={serverError.error} showField /> : null}
      </form>
    </section>
  )
}
