import type { EnterpriseInstance, Network } from '../../../electron/common/ipc-contract.js'
import { CheckboxField, TextField } from '../../components/text-field.js'
import type { MessageKey } from '../../i18n/en.js'
import { useI18n } from '../../i18n/i18n.js'
import { InstanceSection } from './instance-section.js'
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
  const { t } = useI18n()
  return (
    <InstanceSection<Draft, FormField, EnterpriseInstance>
      listKey="instances"
      items={(config) => config.instances}
      heading={t('enterprise.heading')}
      none={t('enterprise.none')}
      addLabel={t('enterprise.add')}
      emptyDraft={emptyDraft}
      formFields={formFields}
      check={checkDraft}
      toItem={toInstance}
      itemKey={(instance) => `${instance.region}/${instance.name}`}
      renderItem={(instance) => (
        <>
          <span className="instance-name">{instance.name}</span> <code>{instance.region}</code>{' '}
          <span className="badge">{t(instance.network === 'vpc' ? 'common.vpc' : 'common.internet')}</span>
          {instance.instanceId === undefined ? null : <code> {instance.instanceId}</code>}
          {instance.chart === true ? <span className="badge">{t('enterprise.chartTag')}</span> : null}
        </>
      )}
      removeLabel={(instance) => t('enterprise.remove', { name: instance.name })}
      leadingFields={({ formId, draft, update, touch, errorFor }) => (
        <TextField
          id={`${formId}-name`}
          label={t('enterprise.name')}
          value={draft.name}
          placeholder="myinst"
          error={errorFor('name')}
          onChange={(name) => update({ name })}
          onBlur={() => touch('name')}
        />
      )}
      trailingFields={({ formId, draft, update, touch, errorFor }) => (
        <>
          <TextField
            id={`${formId}-instance-id`}
            label={t('enterprise.instanceId')}
            value={draft.instanceId}
            placeholder="cri-…"
            error={errorFor('instanceId')}
            onChange={(instanceId) => update({ instanceId: instanceId.trim() })}
            onBlur={() => touch('instanceId')}
          />
          <CheckboxField id={`${formId}-chart`} label={t('enterprise.chart')} checked={draft.chart} onChange={(chart) => update({ chart })} />
        </>
      )}
    />
  )
}
