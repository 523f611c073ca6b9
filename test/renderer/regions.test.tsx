import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { ConfigSetRequest } from '../../electron/common/ipc-contract.js'
import { sampleConfig } from '../fakes/fake-bridge.js'
import { loaded, renderApp } from './render-app.js'

function regionCheckbox(id: string): HTMLInputElement {
  const el = document.getElementById(`region-${id}`)
  if (!(el instanceof HTMLInputElement)) throw new Error(`no checkbox for region ${id}`)
  return el
}

function shownRegionIds(): string[] {
  return Array.from(document.querySelectorAll<HTMLInputElement>('.region-list > li input[id^="region-"]'))
    .map((el) => el.id.replace(/^region-/, ''))
    .filter((id) => !id.includes('-kind-'))
}

describe('regions', () => {
  it('finds a region by its English name, its Chinese name or its id', async () => {
    renderApp({ tab: 'regions' })
    await loaded('Regions')
    const search = screen.getByRole('searchbox', { name: 'Search regions' })
    expect(shownRegionIds()).toContain('cn-hangzhou')

    fireEvent.change(search, { target: { value: 'beijing' } })
    expect(shownRegionIds()).toEqual(['cn-beijing'])

    fireEvent.change(search, { target: { value: '杭州' } })
    expect(shownRegionIds()).toEqual(['cn-hangzhou'])

    fireEvent.change(search, { target: { value: '华东' } })
    expect(shownRegionIds()).toEqual(['cn-hangzhou', 'cn-shanghai', 'cn-nanjing', 'cn-fuzhou'])

    fireEvent.change(search, { target: { value: 'cn-shang' } })
    expect(shownRegionIds()).toEqual(['cn-shanghai'])

    fireEvent.change(search, { target: { value: 'atlantis' } })
    expect(shownRegionIds()).toEqual([])
    expect(screen.getByText('No region matches “atlantis”.')).toBeTruthy()
  })

  it('marks closing, closed and unconfirmed regions, and a closed one cannot be turned on', async () => {
    renderApp({ tab: 'regions' })
    await loaded('Regions')
    const nanjing = regionCheckbox('cn-nanjing').closest('li')
    const fuzhou = regionCheckbox('cn-fuzhou').closest('li')
    const zhengzhou = regionCheckbox('cn-zhengzhou-jva').closest('li')
    if (nanjing === null || fuzhou === null || zhengzhou === null) throw new Error('region rows missing')
    expect(within(nanjing).getByText('Closing')).toBeTruthy()
    expect(within(fuzhou).getByText('Closed')).toBeTruthy()
    expect(within(zhengzhou).getByText('Unconfirmed')).toBeTruthy()
    expect(regionCheckbox('cn-fuzhou').disabled).toBe(true)
    expect(regionCheckbox('cn-nanjing').disabled).toBe(false)
    expect(regionCheckbox('cn-beijing').disabled).toBe(false)
  })

  it('turning a region on sends the VPC trio to config:set; turning a kind off or on sends that change', async () => {
    const { bridge } = renderApp({ tab: 'regions' })
    await loaded('Regions')
    fireEvent.click(screen.getByRole('checkbox', { name: /China \(Beijing\)/ }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(1))
    expect(bridge.configSets[0]?.config.regions).toEqual([
      { id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] },
    ])

    const kinds = await screen.findByRole('group', { name: /Endpoint kinds for China \(Beijing\)/ })
    fireEvent.click(within(kinds).getByRole('checkbox', { name: /^Token service \(VPC\)/ }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(2))
    expect(bridge.configSets[1]?.config.regions).toEqual([{ id: 'cn-beijing', endpoints: ['registry-vpc', 'oss-internal'] }])

    fireEvent.click(within(kinds).getByRole('checkbox', { name: /^Registry \(public\)/ }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(3))
    expect(bridge.configSets[2]?.config.regions[0]?.endpoints).toEqual(['registry-vpc', 'oss-internal', 'registry'])

    fireEvent.click(screen.getByRole('checkbox', { name: /China \(Beijing\)/ }))
    await waitFor(() => expect(bridge.configSets).toHaveLength(4))
    expect(bridge.configSets[3]?.config.regions).toEqual([])
    // Nothing else of the config is touched by a toggle.
    const { regions: _r, ...rest } = bridge.configSets[3]?.config ?? sampleConfig
    const { regions: _s, ...expected } = sampleConfig
    expect(rest).toEqual(expected)
  })

  it('a refused region toggle goes back and shows the error at that region', async () => {
    const { bridge } = renderApp({ tab: 'regions' })
    await loaded('Regions')
    bridge.failNext('config:set', {
      code: 'INVALID_CONFIG',
      message: 'Region cn-beijing has no ACR VPC endpoint.',
      hint: 'Pick the public endpoint kinds instead.',
      field: 'regions[0].id',
    })
    fireEvent.click(regionCheckbox('cn-beijing'))
    const alert = await screen.findByText(/Region cn-beijing has no ACR VPC endpoint\./)
    expect(alert.closest('li')?.querySelector('#region-cn-beijing')).toBeTruthy()
    await waitFor(() => expect(regionCheckbox('cn-beijing').checked).toBe(false))
    expect(regionCheckbox('cn-beijing').getAttribute('aria-invalid')).toBe('true')
  })
})

describe('instances', () => {
  it('an invalid Enterprise instance name shows an inline error at the field and sends nothing', async () => {
    const { bridge } = renderApp({ tab: 'regions' })
    await loaded('Enterprise Edition instances')
    const name = screen.getByRole('textbox', { name: 'Instance name' })
    fireEvent.change(name, { target: { value: 'My_Registry-' } })
    fireEvent.change(screen.getAllByRole('combobox', { name: 'Region' })[0] as HTMLElement, { target: { value: 'cn-hangzhou' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add instance' }))

    expect(name.getAttribute('aria-invalid')).toBe('true')
    const describedBy = name.getAttribute('aria-describedby')
    expect(describedBy).toBeTruthy()
    const error = document.getElementById(describedBy ?? '')
    expect(error?.textContent).toMatch(/lowercase letters, digits or hyphens/)
    expect(screen.getByText('Fix the highlighted fields; nothing was saved.')).toBeTruthy()
    // Give any stray save a chance to happen, then check none did.
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(bridge.requestsOf('config:set')).toEqual([])

    // Fixing the name clears the error.
    fireEvent.change(name, { target: { value: 'my-registry' } })
    expect(name.getAttribute('aria-invalid')).toBe('false')
    expect(name.getAttribute('aria-describedby')).toBeNull()
  })

  it('a bad cri- id and a missing region are refused inline too', async () => {
    const { bridge } = renderApp({ tab: 'regions' })
    await loaded('Enterprise Edition instances')
    fireEvent.change(screen.getByRole('textbox', { name: 'Instance name' }), { target: { value: 'myinst' } })
    const id = screen.getByRole('textbox', { name: 'Instance ID (optional, cri-…)' })
    fireEvent.change(id, { target: { value: 'xyz-123' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add instance' }))
    expect(id.getAttribute('aria-invalid')).toBe('true')
    const region = screen.getAllByRole('combobox', { name: 'Region' })[0] as HTMLElement
    expect(region.getAttribute('aria-invalid')).toBe('true')
    expect(document.getElementById(region.getAttribute('aria-describedby') ?? '')?.textContent).toBe('Choose a region.')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(bridge.requestsOf('config:set')).toEqual([])
  })

  it('a valid instance is sent; INVALID_CONFIG naming one of its fields is shown at that field', async () => {
    const { bridge } = renderApp({ tab: 'regions' })
    await loaded('Enterprise Edition instances')
    bridge.failNext('config:set', {
      code: 'INVALID_CONFIG',
      message: 'Instance names must be unique across regions.',
      hint: 'Rename one of them.',
      field: 'instances[0].name',
    })
    const name = screen.getByRole('textbox', { name: 'Instance name' })
    fireEvent.change(name, { target: { value: 'myinst' } })
    fireEvent.change(screen.getAllByRole('combobox', { name: 'Region' })[0] as HTMLElement, { target: { value: 'cn-hangzhou' } })
    fireEvent.change(screen.getByRole('textbox', { name: 'Instance ID (optional, cri-…)' }), { target: { value: 'cri-abc123' } })
    fireEvent.click(screen.getByRole('checkbox', { name: 'Also map the Helm chart domain' }))
    fireEvent.click(screen.getByRole('button', { name: 'Add instance' }))

    await waitFor(() => expect(name.getAttribute('aria-invalid')).toBe('true'))
    const sent = bridge.requestsOf('config:set') as ConfigSetRequest[]
    expect(sent).toHaveLength(1)
    expect(sent[0]?.config.instances).toEqual([
      { name: 'myinst', region: 'cn-hangzhou', network: 'vpc', instanceId: 'cri-abc123', chart: true },
    ])
    expect(document.getElementById(name.getAttribute('aria-describedby') ?? '')?.textContent).toBe(
      'Instance names must be unique across regions.',
    )
    // Refused: nothing shows as saved.
    expect(screen.getByText('No Enterprise Edition instances yet.')).toBeTruthy()

    // Second try succeeds; the instance is listed and can be removed.
    fireEvent.click(screen.getByRole('button', { name: 'Add instance' }))
    await screen.findByRole('button', { name: 'Remove instance myinst' })
    expect(bridge.configSets.at(-1)?.config.instances).toHaveLength(1)
    fireEvent.click(screen.getByRole('button', { name: 'Remove instance myinst' }))
    await waitFor(() => expect(bridge.configSets.at(-1)?.config.instances).toEqual([]))
  })

  it('a Personal Edition id is accepted with or without crpi- and stored without it; a bad one is refused inline', async () => {
    const { bridge } = renderApp({ tab: 'regions' })
    await loaded('Personal Edition instances (crpi)')
    const id = screen.getByRole('textbox', { name: 'Instance ID (crpi-…)' })
    const region = screen.getAllByRole('combobox', { name: 'Region' })[1] as HTMLElement
    fireEvent.change(id, { target: { value: 'crpi-ABC!' } })
    fireEvent.change(region, { target: { value: 'cn-shanghai' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add Personal instance' }))
    expect(id.getAttribute('aria-invalid')).toBe('true')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(bridge.requestsOf('config:set')).toEqual([])

    fireEvent.change(id, { target: { value: 'crpi-k8s0abc' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add Personal instance' }))
    await screen.findByRole('button', { name: 'Remove Personal instance crpi-k8s0abc' })
    expect(bridge.configSets.at(-1)?.config.personalInstances).toEqual([{ id: 'k8s0abc', region: 'cn-shanghai', network: 'vpc' }])
  })

  it('Personal Edition: a refusal naming personalInstances[n].region shows at that Region, a duplicate is refused, removal sends the rest', async () => {
    const config = { ...sampleConfig, instances: [{ name: 'keep', region: 'cn-hangzhou', network: 'vpc' as const }], personalInstances: [{ id: 'first0', region: 'cn-beijing', network: 'vpc' as const }] }
    const { bridge } = renderApp({ tab: 'regions', config })
    await loaded('Personal Edition instances (crpi)')
    bridge.failNext('config:set', { code: 'INVALID_CONFIG', message: 'personalInstances[1].region: ACR is closing there.', hint: 'Pick another region.', field: 'personalInstances[1].region' })
    const id = screen.getByRole('textbox', { name: 'Instance ID (crpi-…)' })
    const region = screen.getAllByRole('combobox', { name: 'Region' })[1] as HTMLElement
    const network = screen.getAllByRole('combobox', { name: 'Network' })[1] as HTMLSelectElement
    fireEvent.change(id, { target: { value: 'second0' } })
    fireEvent.change(region, { target: { value: 'cn-shanghai' } })
    fireEvent.change(network, { target: { value: 'internet' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add Personal instance' }))
    await waitFor(() => expect(region.getAttribute('aria-invalid')).toBe('true'))
    expect(document.getElementById(region.getAttribute('aria-describedby') ?? '')?.textContent).toBe('personalInstances[1].region: ACR is closing there.')
    const sent = () => bridge.requestsOf('config:set') as ConfigSetRequest[]
    expect(sent()[0]?.config.personalInstances).toEqual([
      { id: 'first0', region: 'cn-beijing', network: 'vpc' },
      { id: 'second0', region: 'cn-shanghai', network: 'internet' },
    ])
    // The Enterprise card is untouched by the Personal one.
    expect(sent()[0]?.config.instances).toEqual(config.instances)
    expect(screen.getAllByRole('textbox', { name: 'Instance name' })[0]?.getAttribute('aria-invalid')).toBe('false')

    // The same id in the same region as a listed one is refused inline.
    fireEvent.change(id, { target: { value: 'crpi-first0' } })
    fireEvent.change(region, { target: { value: 'cn-beijing' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add Personal instance' }))
    expect(document.getElementById(id.getAttribute('aria-describedby') ?? '')?.textContent).toBe('This Personal Edition instance is already in the list for that region.')
    expect(sent()).toHaveLength(1)

    fireEvent.click(screen.getByRole('button', { name: 'Remove Personal instance crpi-first0' }))
    await waitFor(() => expect(sent()).toHaveLength(2))
    expect(sent()[1]?.config.personalInstances).toEqual([])
    expect(sent()[1]?.config.instances).toEqual(config.instances)
    expect(await screen.findByText('No Personal Edition instances yet.')).toBeTruthy()
  })
})
