import { describe, expect, it } from 'vitest'
import { classifyAddress, parseIpv6, type AddressClass } from '../../../electron/core/relay/address-class.js'

describe('classifyAddress', () => {
  const table: readonly (readonly [string, AddressClass])[] = [
    // loopback in every spelling
    ['127.0.0.1', 'loopback'],
    ['127.0.0.2', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::FFFF:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    // unspecified
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:0.0.0.0', 'unspecified'],
    // link-local
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    // the metadata service, but nothing else of 100.64.0.0/10
    ['100.100.100.200', 'metadata'],
    ['::ffff:100.100.100.200', 'metadata'],
    ['::ffff:6464:64c8', 'metadata'],
    ['64:ff9b::6464:64c8', 'metadata'],
    ['100.118.58.1', 'ordinary'],
    ['100.118.28.7', 'ordinary'],
    ['100.64.0.1', 'ordinary'],
    ['100.100.100.201', 'ordinary'],
    ['100.100.2.136', 'ordinary'],
    // multicast, broadcast, reserved
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['::ffff:224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    // ordinary: VPC-private, public, IPv6 global and unique-local
    ['10.0.0.5', 'ordinary'],
    ['172.16.3.4', 'ordinary'],
    ['192.168.1.1', 'ordinary'],
    ['47.95.1.2', 'ordinary'],
    ['::ffff:10.1.2.3', 'ordinary'],
    ['2408:4000::1', 'ordinary'],
    ['fd00::1', 'ordinary'],
    ['fec0::1', 'ordinary'],
    ['126.255.255.255', 'ordinary'],
    ['128.0.0.1', 'ordinary'],
    ['169.253.255.255', 'ordinary'],
    ['169.255.0.0', 'ordinary'],
    ['223.255.255.255', 'ordinary'],
    // not addresses
    ['', 'invalid'],
    ['localhost', 'invalid'],
    ['registry-vpc.cn-beijing.aliyuncs.com', 'invalid'],
    ['2130706433', 'invalid'],
    ['127.1', 'invalid'],
    ['256.0.0.1', 'invalid'],
    ['1::2::3', 'invalid'],
  ]
  it.each(table)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected)
  })
})

describe('parseIpv6', () => {
  it('expands :: and trailing dotted quads into eight groups', () => {
    expect(parseIpv6('::ffff:127.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1])
    expect(parseIpv6('fe80::1')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1])
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(parseIpv6('1:2:3:4:5:6:1.2.3.4')).toEqual([1, 2, 3, 4, 5, 6, 0x102, 0x304])
  })
  it('refuses malformed text', () => {
    expect(parseIpv6('1:2:3:4:5:6:7')).toBeUndefined()
    expect(parseIpv6('1:2:3:4:5:6:7:8::')).toBeUndefined()
    expect(parseIpv6('12345::')).toBeUndefined()
    expect(parseIpv6('::ffff:300.0.0.1')).toBeUndefined()
  })
})
