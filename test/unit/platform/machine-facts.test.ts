import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { canonicalIpv4 } from '../../../electron/core/platform/addresses.js'
import {
  dockerDesktopHostAddress,
  externalIpv4Addresses,
  localIpv4Addresses,
  readDockerDesktopHostAddress,
  readUnprivilegedPortStart,
} from '../../../electron/core/platform/machine-facts.js'

const dockerDesktopSection = [
  '# Copyright (c) 1993-2009 Microsoft Corp.',
  '127.0.0.1 localhost',
  '# Added by Docker Desktop',
  '192.168.1.23 host.docker.internal',
  '192.168.1.23 gateway.docker.internal',
  '# To allow the same kube context to work on the host and the container:',
  '127.0.0.1 kubernetes.docker.internal',
  '# End of section',
  '',
].join('\r\n')

describe('machine facts', () => {
  it('finds the address Docker Desktop maps host.docker.internal to', async () => {
    expect(dockerDesktopHostAddress(dockerDesktopSection)).toBe('192.168.1.23')
    expect(dockerDesktopHostAddress('# 10.0.0.1 host.docker.internal\n127.0.0.1 localhost\n')).toBeUndefined()
    const dir = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-facts-'))
    try {
      // The hosts engine's codec: a UTF-16 LE file with a BOM is read too.
      await fs.writeFile(join(dir, 'hosts'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(dockerDesktopSection, 'utf16le')]))
      expect(await readDockerDesktopHostAddress(join(dir, 'hosts'))).toBe('192.168.1.23')
      expect(await readDockerDesktopHostAddress(join(dir, 'missing'))).toBeUndefined()
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })

  it('lists interface addresses from os.networkInterfaces() data', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
      eth0: [
        { address: '192.168.1.23', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.1.23/24' },
        { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
      ],
    } as const
    expect(externalIpv4Addresses(interfaces as never)).toEqual(['192.168.1.23'])
    expect(localIpv4Addresses(interfaces as never)).toEqual(['127.0.0.1', '192.168.1.23'])
  })

  it('reads ip_unprivileged_port_start from a proc tree', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-proc-'))
    try {
      await fs.mkdir(join(dir, 'sys', 'net', 'ipv4'), { recursive: true })
      await fs.writeFile(join(dir, 'sys', 'net', 'ipv4', 'ip_unprivileged_port_start'), '1024\n')
      expect(await readUnprivilegedPortStart(dir)).toBe(1024)
      expect(await readUnprivilegedPortStart(join(dir, 'nope'))).toBeUndefined()
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })

  it('accepts only canonical dotted-quad IPv4', () => {
    expect(canonicalIpv4('198.19.82.17')).toBe('198.19.82.17')
    for (const bad of ['01.2.3.4', '1.2.3', '1.2.3.4 ', '::1', '1.2.3.4/32', '0x7f.0.0.1', '256.1.1.1', '', 7, null]) {
      expect(canonicalIpv4(bad)).toBeUndefined()
    }
  })
})
