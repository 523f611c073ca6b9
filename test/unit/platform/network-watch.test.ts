import type { NetworkInterfaceInfo } from 'node:os'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { networkAddresses } from '../../../electron/core/platform/machine-facts.js'
import { watchNetwork, type NetworkChange } from '../../../electron/core/platform/network-watch.js'

const info = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '00:00:00:00:00:00', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo

describe('networkAddresses', () => {
  test('every address of an interface that is not loopback, IPv4 and IPv6, sorted, once; no IPv6 link-local', () => {
    expect(
      networkAddresses({
        lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
        wlan0: [info('192.168.1.23', 'IPv4'), info('fe80::1c2b:3cff:fe4d:5e6f', 'IPv6'), info('2001:db8::23', 'IPv6')],
        // a container's veth carries only a link-local address: engines add and remove these with every container
        veth1a2b: [info('FE80::42', 'IPv6'), info('feb0::1', 'IPv6')],
        eth0: [info('10.0.0.5', 'IPv4'), info('192.168.1.23', 'IPv4')],
      }),
    ).toEqual(['10.0.0.5', '192.168.1.23', '2001:db8::23'])
  })
})

describe('watchNetwork', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  test('the first look is the baseline; then each look that differs reports what went and what came', () => {
    let now = ['192.168.1.23', '2001:db8::23']
    const changes: NetworkChange[] = []
    const watch = watchNetwork((change) => changes.push(change), { readAddresses: () => now, intervalMs: 1000 })
    vi.advanceTimersByTime(3000)
    expect(changes).toEqual([])

    now = ['2001:db8::23'] // Wi-Fi off: the IPv4 address goes first
    vi.advanceTimersByTime(1000)
    now = ['10.0.0.7', '2001:db8::99'] // another network
    vi.advanceTimersByTime(1000)
    vi.advanceTimersByTime(5000) // nothing new
    expect(changes).toEqual([
      { addresses: ['2001:db8::23'], gone: ['192.168.1.23'], added: [] },
      { addresses: ['10.0.0.7', '2001:db8::99'], gone: ['2001:db8::23'], added: ['10.0.0.7', '2001:db8::99'] },
    ])
    watch.dispose()
  })

  test('the order the OS lists addresses in is no change', () => {
    let now = ['10.0.0.5', '192.168.1.23']
    const onChange = vi.fn()
    const watch = watchNetwork(onChange, { readAddresses: () => now, intervalMs: 1000 })
    now = ['192.168.1.23', '10.0.0.5']
    vi.advanceTimersByTime(2000)
    expect(onChange).not.toHaveBeenCalled()
    watch.dispose()
  })

  test('dispose stops the looking', () => {
    let reads = 0
    const watch = watchNetwork(() => undefined, { readAddresses: () => [String(reads++)], intervalMs: 1000 })
    vi.advanceTimersByTime(2000)
    watch.dispose()
    const seen = reads
    vi.advanceTimersByTime(10_000)
    expect(reads).toBe(seen)
  })

  test('the timer does not keep the process alive', () => {
    vi.useRealTimers()
    const spy = vi.spyOn(globalThis, 'setInterval')
    const watch = watchNetwork(() => undefined, { readAddresses: () => [], intervalMs: 60_000 })
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout
    expect(timer.hasRef()).toBe(false)
    watch.dispose()
    spy.mockRestore()
  })
})
