import { useId, useState, type FormEvent } from 'react'
import type { Config, EnterpriseInstance, Network, SerializedError } from '../../../electron/common/ipc-contract.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { CheckboxField, SelectField, TextField } from '../../components/text-field.js'
import type { MessageKey } from '../../i18n/en.js'
import { useI18n } from '../../i18n/i18n.js'
import { fieldOf, useReadyConfig } from '../../state/config.js'
import { useRegionOptions, useNetworkOptions } from './region-options.js'
import { validateInstanceId, validateInstanceName, validateRegionChoice } from './validation.js'

type FormField = 'name' | 'region' | 'network' | 'instanceId' | 'chart'
const formFields: readonly FormField[] = ['name', 'region', 'network', 'instanceId', 'chart']

interface Draft {
  readonly name: string
  readonly region: string
  readonly network: Network
  readonly instanceId: string
  readonly chart: boolean
}

const emptyDraft: Draft = { name: '', region: '', network: 'vpc', instanceId: '', chart: false }

function checkDraft(draft: Draft, existing: readonly EnterpriseInstance[]): Partial<Record<FormField, MessageKey>> {
  const errors: Partial<Record<FormField, MessageKey>> = {}
  const name = validateInstanceName(draft.name)
  if (name !== undefined) errors.name = name
  else if (existing.some((i) => i.name === draft.name && i.region === draft.region)) errors.name = 'validate.nameDuplicate'
  const region = validateRegionChoice(draft.region)
  if (region !== undefined) errors.region = region
  const id = validateInstanceId(draft.instanceId)
  if (id !== undefined) errors.instanceId = id
  return errors
}

function toInstance(draft: Draft): EnterpriseInstance {
  return {
    name: draft.name,
    region: draft.region,
    network: draft.network,
    ...(draft.instanceId.length === 0 ? {} : { instanceId: draft.instanceId }),
    ...(draft.chart ? { chart: true } : {}),
  }
}

export function EnterpriseInstances() {
  const { config, save } = useReadyConfig()
  const { t } = useI18n()
  const regionOptions = useRegionOptions()
  const networkOptions = useNetworkOptions()
  const formId = useId()
  const [draft, setDraft] = useState<Draft>(emptyDraft)
  // Errors show once the user left a field or tried to add; until then typing is not interrupted.
  const [touched, setTouched] = useState<ReadonlySet<FormField>>(new Set())
  const [serverError, setServerError] = useState<{ readonly error: SerializedError; readonly field: FormField | undefined }>()
  const [removeError, setRemoveError] = useState<SerializedError>()
  const [busy, setBusy] = useState(false)

  const local = checkDraft(draft, config.instances)
  function errorFor(field: FormField): string | undefined {
    const key = touched.has(field) ? local[field] : undefined
    if (key !== undefined) return t(key)
    return serverError?.field === field ? serverError.error.message : undefined
  }
  function update(patch: Partial<Draft>) {
    setDraft((d) => ({ ...d, ...patch }))
    setServerError(undefined)
  }
  function touch(field: FormField) {
    setTouched((s) => new Set(s).add(field))
  }

  async function add(event: FormEvent) {
    event.preventDefault()
    setTouched(new Set(formFields))
    if (Object.keys(local).length > 0) return
    // Valid: while it is saved (and shown in the list at once), the draft is not checked against that list.
    setTouched(new Set())
    const index = config.instances.length
    const next: Config = { ...config, instances: [...config.instances, toInstance(draft)] }
    setBusy(true)
    const result = await save(next)
    setBusy(false)
    if (result.ok) {
      setDraft(emptyDraft)
      setTouched(new Set())
      setServerError(undefined)
    } else {
      setServerError({ error: result.error, field: fieldOf(result.error, `instances[${index}].`, formFields) })
    }
  }

  async function remove(index: number) {
    const result = await save({ ...config, instances: config.instances.filter((_, i) => i !== index) })
    setRemoveError(result.ok ? undefined : result.error)
  }

  const invalidCount = Object.keys(local).filter((f) => touched.has(f as FormField)).length
  return (
    <section aria-labelledby={`${formId}-heading`} className="card">
      <h2 id={`${formId}-heading`}>{t('enterprise.heading')}</h2>
      {config.instances.length === 0 ? (
        <p className="muted">{t('enterprise.none')}</p>
      ) : (
        <ul className="instance-list">
          {config.instances.map((instance, index) => (
            <li key={`${instance.region}/${instance.name}`}>
              <span className="instance-name">{instance.name}</span> <code>{instance.region}</code>{' '}
              <span className="badge">{t(instance.network === 'vpc' ? 'common.vpc' : 'common.internet')}</span>
              {instance.instanceId === undefined ? null : <code> {instance.instanceId}</code>}
              {instance.chart === true ? <span className="badge">{t('enterprise.chartTag')}</span> : null}{' '}
              <button
                type="button"
                className="button-quiet"
                aria-label={t('enterprise.remove', { name: instance.name })}
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
          id={`${formId}-name`}
          label={t('enterprise.name')}
          value={draft.name}
          placeholder="myinst"
          error={errorFor('name')}
          onChange={(name) => update({ name })}
          onBlur={() => touch('name')}
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
            touch('region')
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
        <TextField
          id={`${formId}-instance-id`}
          label={t('enterprise.instanceId')}
          value={draft.instanceId}
          placeholder="cri-…"
          error={errorFor('instanceId')}
          onChange={(instanceId) => update({ instanceId: instanceId.trim() })}
          onBlur={() => touch('instanceId')}
        />
        <CheckboxField
          id={`${formId}-chart`}
          label={t('enterprise.chart')}
          checked={draft.chart}
          onChange={(chart) => update({ chart })}
        />
        <button type="submit" disabled={busy}>
          {t('enterprise.add')}
        </button>
        {invalidCount > 0 ? <p className="field-error">{t('validate.fixErrors')}</p> : null}
        {serverError !== undefined && serverError.field === undefined ? <ErrorNotice error={serverError.error} showField /> : null}
      </form>
    </section>
  )
}
