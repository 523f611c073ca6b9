import { useId, useState } from 'react'
import type { Config, EndpointKind, Region, SerializedError } from '../../../electron/common/ipc-contract.js'
import { CheckboxField } from '../../components/text-field.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { useI18n } from '../../i18n/i18n.js'
import { useReadyConfig } from '../../state/config.js'
import { regionMatches, regionName, regionOtherName } from './region-names.js'

/** What a newly enabled region maps: the VPC trio (registry, token service, blob storage). */
export const defaultEndpointKinds: readonly EndpointKind[] = ['registry-vpc', 'dockerauth-vpc', 'oss-internal']

export function withRegion(config: Config, id: string, enabled: boolean, defaults: readonly EndpointKind[]): Config {
  const others = config.regions.filter((r) => r.id !== id)
  return { ...config, regions: enabled ? [...others, { id, endpoints: defaults }] : others }
}

/** Turns one endpoint kind of a region on or off; a region left with no kind is turned off. */
export function withEndpointKind(config: Config, id: string, kind: EndpointKind, enabled: boolean): Config {
  const regions = config.regions.flatMap((r) => {
    if (r.id !== id) return [r]
    const endpoints = enabled ? [...r.endpoints.filter((k) => k !== kind), kind] : r.endpoints.filter((k) => k !== kind)
    return endpoints.length === 0 ? [] : [{ ...r, endpoints }]
  })
  return { ...config, regions }
}

/** The region a refusal's `regions[i]…` field points at, in the config that was sent. */
function regionOfError(error: SerializedError, sent: Config): string | undefined {
  const match = /^regions\[(\d+)\]/.exec(error.field ?? '')
  return match === null ? undefined : sent.regions[Number(match[1])]?.id
}

export function RegionList() {
  const { catalog, config, save } = useReadyConfig()
  const { t, locale } = useI18n()
  const [query, setQuery] = useState('')
  const [failure, setFailure] = useState<{ readonly error: SerializedError; readonly region: string | undefined }>()
  const searchId = useId()
  const kindsAvailable = new Set(catalog.endpointKinds.map((k) => k.kind))
  const defaults = defaultEndpointKinds.filter((k) => kindsAvailable.has(k))
  const selected = new Map(config.regions.map((r) => [r.id, r]))
  const shown = catalog.regions.filter((r) => regionMatches(r, query))

  async function send(next: Config) {
    const result = await save(next)
    setFailure(result.ok ? undefined : { error: result.error, region: regionOfError(result.error, next) })
  }

  return (
    <section aria-labelledby="regions-heading" className="card">
      <h2 id="regions-heading">{t('regions.heading')}</h2>
      <div className="field">
        <label htmlFor={searchId}>{t('regions.search')}</label>
        <input
          id={searchId}
          type="search"
          value={query}
          placeholder={t('regions.searchPlaceholder')}
          autoComplete="off"
          onChange={(event) => setQuery(event.target.value)}
        />
      </div>
      <p className="muted" role="status">
        {t('regions.count', { selected: config.regions.length, total: catalog.regions.length })}
      </p>
      {failure !== undefined && failure.region === undefined ? (
        <ErrorNotice error={failure.error} showField onDismiss={() => setFailure(undefined)} />
      ) : null}
      {shown.length === 0 ? <p>{t('regions.noMatch', { query })}</p> : null}
      <ul className="region-list">
        {shown.map((region) => (
          <RegionItem
            key={region.id}
            region={region}
            endpoints={selected.get(region.id)?.endpoints}
            error={failure?.region === region.id ? failure.error : undefined}
            onToggle={(enabled) => void send(withRegion(config, region.id, enabled, defaults))}
            onToggleKind={(kind, enabled) => void send(withEndpointKind(config, region.id, kind, enabled))}
            name={regionName(region, locale)}
            otherName={regionOtherName(region, locale)}
          />
        ))}
      </ul>
    </section>
  )
}

function RegionItem(props: {
  readonly region: Region
  readonly name: string
  readonly otherName: string
  readonly endpoints: readonly EndpointKind[] | undefined
  readonly error: SerializedError | undefined
  readonly onToggle: (enabled: boolean) => void
  readonly onToggleKind: (kind: EndpointKind, enabled: boolean) => void
}) {
  const { region, name, otherName, endpoints, error, onToggle, onToggleKind } = props
  const { t } = useI18n()
  const { catalog } = useReadyConfig()
  const enabled = endpoints !== undefined
  const noteId = `region-${region.id}-note`
  const errorId = `region-${region.id}-error`
  const described = [region.note === undefined ? undefined : noteId, error === undefined ? undefined : errorId]
    .filter((id) => id !== undefined)
    .join(' ')
  return (
    <li className={`region region-${region.status}${enabled ? ' region-selected' : ''}`}>
      <div className="region-head">
        <input
          id={`region-${region.id}`}
          type="checkbox"
          checked={enabled}
          // A closed region cannot be turned on; one already on can still be turned off.
          disabled={region.status === 'closed' && !enabled}
          aria-describedby={described.length === 0 ? undefined : described}
          aria-invalid={error !== undefined}
          onChange={(event) => onToggle(event.target.checked)}
        />
        <label htmlFor={`region-${region.id}`} className="region-label">
          <span className="region-name">{name}</span> <span className="region-other">{otherName}</span>{' '}
          <code className="region-id">{region.id}</code>
        </label>
        {region.status === 'available' ? null : (
          <span className={`badge badge-${region.status}`}>{t(`regions.status.${region.status}`)}</span>
        )}
        {region.unconfirmed === true ? <span className="badge badge-unconfirmed">{t('regions.unconfirmed')}</span> : null}
      </div>
      {region.note === undefined ? null : (
        <p id={noteId} className="region-note muted">
          {region.note}
        </p>
      )}
      {error === undefined ? null : (
        <p id={errorId} className="field-error" role="alert">
          {error.message}
          {error.hint === undefined ? '' : ` ${t('common.hint', { hint: error.hint })}`}
        </p>
      )}
      {!enabled ? null : (
        <fieldset className="kinds">
          <legend>{t('regions.endpoints', { region: name })}</legend>
          {catalog.endpointKinds.map((info) => (
            <CheckboxField
              key={info.kind}
              id={`region-${region.id}-kind-${info.kind}`}
              label={`${info.label} · ${info.pattern.replaceAll('<region>', region.id)}${
                info.unconfirmed === undefined ? '' : ` (${t('regions.kindUnconfirmed')})`
              }`}
              checked={endpoints.includes(info.kind)}
              onChange={(on) => onToggleKind(info.kind, on)}
            />
          ))}
        </fieldset>
      )}
    </li>
  )
}
