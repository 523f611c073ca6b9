// What the Enterprise and Personal instance cards share: the list with a remove button per entry, and the add form
// with region and network choices, inline validation (errors show once a field was left or Add was tried), the
// core's refusal shown at the field it names, and one save at a time. Each card supplies its own fields and rules.
import { useId, useState, type FormEvent, type ReactNode } from 'react'
import type { Config, Network, SerializedError } from '../../../electron/common/ipc-contract.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { SelectField } from '../../components/text-field.js'
import type { MessageKey } from '../../i18n/en.js'
import { useI18n } from '../../i18n/i18n.js'
import { fieldOf, useReadyConfig } from '../../state/config.js'
import { useNetworkOptions, useRegionOptions } from './region-options.js'

/** Every instance draft has a region and a network; the rest is the card's own. */
export interface InstanceDraftBase {
  readonly region: string
  readonly network: Network
}

/** What a card's own fields get to render with. */
export interface InstanceFieldKit<D, F extends string> {
  readonly formId: string
  readonly draft: D
  readonly update: (patch: Partial<D>) => void
  readonly touch: (field: F) => void
  readonly errorFor: (field: F) => string | undefined
}

export function InstanceSection<D extends InstanceDraftBase, F extends string, I>(props: {
  /** Where the list lives in the config: `instances` or `personalInstances`. */
  readonly listKey: 'instances' | 'personalInstances'
  readonly items: (config: Config) => readonly I[]
  readonly heading: string
  readonly none: string
  readonly addLabel: string
  readonly emptyDraft: D
  /** The form's fields, for blaming a refusal (`instances[3].name` → name) and for "Add" touching all of them. */
  readonly formFields: readonly (F | 'region' | 'network')[]
  readonly check: (draft: D, existing: readonly I[]) => Partial<Record<F | 'region' | 'network', MessageKey>>
  readonly toItem: (draft: D) => I
  readonly itemKey: (item: I) => string
  /** The entry as listed, before its remove button. */
  readonly renderItem: (item: I) => ReactNode
  readonly removeLabel: (item: I) => string
  /** Fields before the region choice (the name or id) and after the network choice. */
  readonly leadingFields: (kit: InstanceFieldKit<D, F | 'region' | 'network'>) => ReactNode
  readonly trailingFields?: (kit: InstanceFieldKit<D, F | 'region' | 'network'>) => ReactNode
}) {
  type Field = F | 'region' | 'network'
  const { listKey, heading, none, addLabel, emptyDraft, formFields, check, toItem, itemKey, renderItem, removeLabel } = props
  const { config, save } = useReadyConfig()
  const { t } = useI18n()
  const regionOptions = useRegionOptions()
  const networkOptions = useNetworkOptions()
  const formId = useId()
  const [draft, setDraft] = useState<D>(emptyDraft)
  // Errors show once the user left a field or tried to add; until then typing is not interrupted.
  const [touched, setTouched] = useState<ReadonlySet<Field>>(new Set())
  const [serverError, setServerError] = useState<{ readonly error: SerializedError; readonly field: Field | undefined }>()
  const [removeError, setRemoveError] = useState<SerializedError>()
  const [busy, setBusy] = useState(false)

  const items = props.items(config)
  const local = check(draft, items)
  function errorFor(field: Field): string | undefined {
    const key = touched.has(field) ? local[field] : undefined
    if (key !== undefined) return t(key)
    return serverError?.field === field ? serverError.error.message : undefined
  }
  function update(patch: Partial<D>) {
    setDraft((d) => ({ ...d, ...patch }))
    setServerError(undefined)
  }
  function touch(field: Field) {
    setTouched((s) => new Set(s).add(field))
  }
  function withItems(list: readonly I[]): Config {
    return { ...config, [listKey]: list }
  }

  async function add(event: FormEvent) {
    event.preventDefault()
    setTouched(new Set(formFields))
    if (Object.keys(local).length > 0) return
    // Valid: while it is saved (and shown in the list at once), the draft is not checked against that list.
    setTouched(new Set())
    const index = items.length
    setBusy(true)
    const result = await save(withItems([...items, toItem(draft)]))
    setBusy(false)
    if (result.ok) {
      setDraft(emptyDraft)
      setTouched(new Set())
      setServerError(undefined)
    } else {
      setServerError({ error: result.error, field: fieldOf(result.error, `${listKey}[${index}].`, formFields) })
    }
  }

  async function remove(index: number) {
    const result = await save(withItems(items.filter((_, i) => i !== index)))
    setRemoveError(result.ok ? undefined : result.error)
  }

  const kit: InstanceFieldKit<D, Field> = { formId, draft, update, touch, errorFor }
  const invalidCount = Object.keys(local).filter((f) => touched.has(f as Field)).length
  return (
    <section aria-labelledby={`${formId}-heading`} className="card">
      <h2 id={`${formId}-heading`}>{heading}</h2>
      {items.length === 0 ? (
        <p className="muted">{none}</p>
      ) : (
        <ul className="instance-list">
          {items.map((item, index) => (
            <li key={itemKey(item)}>
              {renderItem(item)}{' '}
              <button type="button" className="button-quiet" aria-label={removeLabel(item)} onClick={() => void remove(index)}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      {removeError === undefined ? null : <ErrorNotice error={removeError} onDismiss={() => setRemoveError(undefined)} />}
      <form className="inline-form" noValidate onSubmit={(event) => void add(event)}>
        {props.leadingFields(kit)}
        <SelectField
          id={`${formId}-region`}
          label={t('common.region')}
          value={draft.region}
          placeholder={t('common.chooseRegion')}
          options={regionOptions}
          error={errorFor('region')}
          onChange={(region) => {
            update({ region } as Partial<D>)
            touch('region')
          }}
        />
        <SelectField
          id={`${formId}-network`}
          label={t('common.network')}
          value={draft.network}
          options={networkOptions}
          error={errorFor('network')}
          onChange={(network) => update({ network } as Partial<D>)}
        />
        {props.trailingFields?.(kit)}
        <button type="submit" disabled={busy}>
          {addLabel}
        </button>
        {invalidCount > 0 ? <p className="field-error">{t('validate.fixErrors')}</p> : null}
        {serverError !== undefined && serverError.field === undefined ? <ErrorNotice error={serverError.error} showField /> : null}
      </form>
    </section>
  )
}
