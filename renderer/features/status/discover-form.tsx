import { useId, useRef, useState, type FormEvent } from 'react'
import type { Config, DiscoveryRequest, DiscoveryResult, ExtraHost, SerializedError } from '../../../electron/common/ipc-contract.js'
import { settle, useBridge } from '../../bridge.js'
import { ErrorNotice } from '../../components/error-notice.js'
import { TextField } from '../../components/text-field.js'
import { useI18n } from '../../i18n/i18n.js'
import { useReadyConfig } from '../../state/config.js'

const repositoryPattern = /^[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)+$/

function extraHostName(host: ExtraHost): string {
  return typeof host === 'string' ? host : host.name
}

/** extraHosts plus the missing names, one entry per name with every port it needs (443 alone: a plain string). */
export function withMissingHosts(config: Config, missing: DiscoveryResult['missing']): Config {
  const known = new Set(config.extraHosts.map(extraHostName))
  const ports = new Map<string, Set<number>>()
  for (const host of missing) {
    if (known.has(host.name)) continue
    ports.set(host.name, (ports.get(host.name) ?? new Set()).add(host.port))
  }
  const added: ExtraHost[] = [...ports].map(([name, set]) => {
    const list = [...set].sort((a, b) => a - b)
    return list.length === 1 && list[0] === 443 ? name : { name, ports: list }
  })
  return { ...config, extraHosts: [...config.extraHosts, ...added] }
}

/**
 * Discovery: a real pull through the tunnel, listing the hosts it touches. The password is read from the field at
 * submit, sent once, and the field cleared: it never enters component state.
 */
export function DiscoverForm() {
  const api = useBridge()
  const { config, save } = useReadyConfig()
  const { t } = useI18n()
  const id = useId()
  const [repository, setRepository] = useState('')
  const [username, setUsername] = useState('')
  const [repositoryTouched, setRepositoryTouched] = useState(false)
  const password = useRef<HTMLInputElement>(null)
  const [running, setRunning] = useState(false)
  const [result, setResult] = useState<DiscoveryResult>()
  const [error, setError] = useState<SerializedError>()
  const [addedCount, setAddedCount] = useState<number>()

  const repositoryError = repositoryPattern.test(repository.trim()) ? undefined : t('discover.repositoryInvalid')

  async function run(event: FormEvent) {
    event.preventDefault()
    setRepositoryTouched(true)
    if (repositoryError !== undefined) return
    const field = password.current
    const secret = field?.value ?? ''
    const request: DiscoveryRequest = {
      repository: repository.trim(),
      ...(username.trim().length === 0 ? {} : { username: username.trim() }),
      ...(secret.length === 0 ? {} : { password: secret }),
    }
    setRunning(true)
    setError(undefined)
    setAddedCount(undefined)
    try {
      const answer = await settle(() => api.discover.run(request))
      if (answer.ok) setResult(answer.value)
      else setError(answer.error)
    } finally {
      if (field !== null) field.value = ''
      setRunning(false)
    }
  }

  async function addMissing() {
    if (result === undefined) return
    const next = withMissingHosts(config, result.missing)
    const count = next.extraHosts.length - config.extraHosts.length
    const answer = await save(next)
    if (answer.ok) setAddedCount(count)
    else setError(answer.error)
  }

  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{t('discover.heading')}</h2>
      <p className="muted">{t('discover.intro')}</p>
      <form className="inline-form" noValidate onSubmit={(event) => void run(event)}>
        <TextField
          id={`${id}-repository`}
          label={t('discover.repository')}
          value={repository}
          placeholder="library/nginx"
          error={repositoryTouched ? repositoryError : undefined}
          onChange={setRepository}
          onBlur={() => setRepositoryTouched(true)}
        />
        <TextField id={`${id}-username`} label={t('discover.username')} value={username} onChange={setUsername} />
        <div className="field">
          <label htmlFor={`${id}-password`}>{t('discover.password')}</label>
          <input id={`${id}-password`} ref={password} type="password" autoComplete="off" />
        </div>
        <button type="submit" disabled={running}>
          {running ? t('discover.running') : t('discover.run')}
        </button>
      </form>
      {error === undefined ? null : <ErrorNotice error={error} showField />}
      {result === undefined ? null : (
        <>
          <table className="discovered">
            <caption>{t('discover.found')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('status.check.name')}</th>
                <th scope="col">{t('tunnel.port')}</th>
                <th scope="col">{t('status.check.hop')}</th>
                <th scope="col">{t('status.check.result')}</th>
              </tr>
            </thead>
            <tbody>
              {result.hosts.map((host) => (
                <tr key={`${host.name}:${host.port}:${host.role}`} className={host.covered ? 'check-ok' : 'check-fail'}>
                  <th scope="row">{host.name}</th>
                  <td>
                    {host.scheme}:{host.port}
                  </td>
                  <td>{t(`discover.role.${host.role}`)}</td>
                  <td>
                    <span aria-hidden="true">{host.covered ? '✓' : '✗'}</span>{' '}
                    {host.covered ? t('discover.covered') : t('discover.missing')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {result.missing.length === 0 ? (
            <p>{t('discover.allCovered')}</p>
          ) : (
            <button type="button" className="button-primary" onClick={() => void addMissing()}>
              {t('discover.addMissing')}
            </button>
          )}
          {addedCount === undefined ? null : <p role="status">{t('discover.addedMissing', { n: addedCount })}</p>}
        </>
      )}
    </section>
  )
}
