import type { Network, PersonalInstance } from '../../../electron/common/ipc-contract.js'
import { TextField } from '../../components/text-field.js'
import type { MessageKey } from '../../i18n/en.js'
import { useI18n } from '../../i18n/i18n.js'
import { InstanceSection } from './instance-section.js'
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
  const { t } = useI18n()
  return (
    <InstanceSection<Draft, FormField, PersonalInstance>
      listKey="personalInstances"
      items={(config) => config.personalInstances}
      heading={t('personal.heading')}
      none={t('personal.none')}
      addLabel={t('personal.add')}
      emptyDraft={emptyDraft}
      formFields={formFields}
      check={checkDraft}
      toItem={(draft) => ({ id: normalizePersonalId(draft.id), region: draft.region, network: draft.network })}
      itemKey={(instance) => `${instance.region}/${instance.id}`}
      renderItem={(instance) => (
        <>
          <span className="instance-name">crpi-{instance.id}</span> <code>{instance.region}</code>{' '}
          <span className="badge">{t(instance.network === 'vpc' ? 'common.vpc' : 'common.internet')}</span>
        </>
      )}
      removeLabel={(instance) => t('personal.remove', { id: instance.id })}
      leadingFields={({ formId, draft, update, touch, errorFor }) => (
        <TextField
          id={`${formId}-id`}
          label={t('personal.id')}
          value={draft.id}
          placeholder="crpi-…"
          error={errorFor('id')}
          onChange={(id) => update({ id })}
          onBlur={() => touch('id')}
        />
      )}
    />
  )
}
