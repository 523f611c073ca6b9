import { describe, expect, it } from 'vitest'
import { ConfigValidationError, parseConfig } from '../../../electron/core/config/schema.js'
import { BridgeError, isBridgeError } from '../../../electron/core/errors.js'

const tunnel = { mode: 'sni', host: '203.0.113.10' }
const base = (): Record<string, unknown> => ({
  regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }],
  instances: [{ name: 'myinst', region: 'cn-hangzhou', network: 'vpc', instanceId: 'cri-abc123', chart: true }],
  personalInstances: [{ id: 'abc123', region: 'cn-shanghai', network: 'vpc' }],
  extraHosts: ['mybucket.oss-cn-beijing-internal.aliyuncs.com', { name: 'aliregistry-cn-beijing.oss-cn-beijing-internal.aliyuncs.com', ports: [80] }],
  tunnel: { ...tunnel },
  listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
  hosts: { takeOver: false },
})

function catchError(run: () => unknown): BridgeError {
  try {
    run()
  } catch (error) {
    if (error instanceof BridgeError) return error
    throw error
  }
  throw new Error('expected parseConfig to throw')
}

describe('parseConfig: valid input', () => {
  it('fills every default from the smallest config', () => {
    expect(parseConfig({ tunnel })).toEqual({
      regions: [],
      instances: [],
      personalInstances: [],
      extraHosts: [],
      tunnel: { mode: 'sni', host: '203.0.113.10', port: 443, httpPort: 80 },
      listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
      hosts: { takeOver: false },
    })
  })

  it('defaults tunnel.port per mode and httpPort only for sni', () => {
    expect(parseConfig({ tunnel: { mode: 'connect', host: 'proxy.example.com' } }).tunnel).toEqual({ mode: 'connect', host: 'proxy.example.com', port: 3128 })
    expect(parseConfig({ tunnel: { mode: 'ssh', host: '2001:db8::1', ssh: { username: 'root' } } }).tunnel).toEqual({
      mode: 'ssh',
      host: '2001:db8::1',
      port: 22,
      ssh: { username: 'root' },
    })
    expect(parseConfig({ tunnel: { ...tunnel, port: 8443, httpPort: 8080 } }).tunnel).toEqual({ ...tunnel, port: 8443, httpPort: 8080 })
  })

  it('defaults region endpoints to the VPC set and instance networks to vpc', () => {
    const config = parseConfig({ tunnel, regions: [{ id: 'cn-beijing' }], instances: [{ name: 'a', region: 'cn-beijing' }], personalInstances: [{ id: 'x', region: 'cn-beijing' }] })
    expect(config.regions).toEqual([{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }])
    expect(config.instances[0]?.network).toBe('vpc')
    expect(config.personalInstances[0]?.network).toBe('vpc')
  })

  it('accepts the full example and is idempotent', () => {
    const once = parseConfig(base())
    expect(parseConfig(once)).toEqual(once)
    expect(parseConfig(JSON.parse(JSON.stringify(once)))).toEqual(once)
  })

  it('accepts every documented option', () => {
    const connect = parseConfig({ tunnel: { mode: 'connect', host: '198.51.100.7', port: 8080, connect: { username: 'u', password: 'p:w d', tls: true, caFile: '~/ca.pem' } }, listen: { address: '::1', port: 8443, httpPort: null, proxyPort: 3129 }, hosts: { takeOver: true } })
    expect(connect.tunnel.connect).toEqual({ username: 'u', password: 'p:w d', tls: true, caFile: '~/ca.pem' })
    expect(connect.listen).toEqual({ address: '::1', port: 8443, httpPort: null, proxyPort: 3129 })
    const overrides = { address: '10.200.10.1', port: 443, httpPort: 80, alias: true, mechanism: 'redirect', highPorts: { tls: 14443, http: 14080 } }
    expect(parseConfig({ tunnel, listen: overrides }).listen).toEqual(overrides)
    expect(parseConfig({ tunnel, listen: { alias: false, mechanism: 'auto' } }).listen).toEqual({ address: '127.0.0.1', port: 443, httpPort: 80, alias: false, mechanism: 'auto' })
    expect(parseConfig({ tunnel, listen: { address: '::1', mechanism: 'direct', alias: false } }).listen.mechanism).toBe('direct')
    const ssh = parseConfig({ tunnel: { mode: 'ssh', host: 'bastion', ssh: { username: 'ecs-user', privateKeyPath: '~/.ssh/id_ed25519', passphrase: 'x', password: 'y', knownHostsPath: '~/.ssh/known_hosts', agent: '/run/agent.sock', keepaliveIntervalMs: 15000 } } })
    expect(ssh.tunnel.ssh?.agent).toBe('/run/agent.sock')
    expect(parseConfig({ extraHosts: [{ name: 'a.example.com', ports: [443, 80, 443] }], tunnel }).extraHosts).toEqual([{ name: 'a.example.com', ports: [80, 443] }])
  })
})

// A config each, with the field that must be blamed. Every row must throw INVALID_CONFIG naming that field.
type Row = readonly [description: string, input: unknown, field: string]

const withExtra = (host: unknown): Record<string, unknown> => ({ tunnel, extraHosts: [host] })
const withTunnel = (patch: Record<string, unknown>): Record<string, unknown> => ({ tunnel: { ...tunnel, ...patch } })
const withListen = (patch: Record<string, unknown>): Record<string, unknown> => ({ tunnel, listen: patch })
const sshTunnel = (ssh: unknown): Record<string, unknown> => ({ tunnel: { mode: 'ssh', host: '203.0.113.10', ssh } })
const connectTunnel = (connect: unknown): Record<string, unknown> => ({ tunnel: { mode: 'connect', host: '203.0.113.10', connect } })
const huge = 'a'.repeat(100_000)

const rows: Row[] = [
  ['newline in an extra host (hosts-file injection)', withExtra('a.example.com\n10.0.0.1 evil.example.com'), 'extraHosts[0]'],
  ['space in an extra host', withExtra('a .example.com'), 'extraHosts[0]'],
  ['";" in an extra host', withExtra('a.example.com;reboot'), 'extraHosts[0]'],
  ['"$()" in an extra host', withExtra('$(reboot).example.com'), 'extraHosts[0]'],
  ['backtick in an extra host', withExtra('`reboot`.example.com'), 'extraHosts[0]'],
  ['double quote in an extra host', withExtra('"a".example.com'), 'extraHosts[0]'],
  ['single quote in an extra host', withExtra("'a'.example.com"), 'extraHosts[0]'],
  ['"#" in an extra host', withExtra('a.example.com#comment'), 'extraHosts[0]'],
  ['"|", "&", "<>" in an extra host', withExtra('a|b&c<d>.example.com'), 'extraHosts[0]'],
  ['NUL in an extra host', withExtra('a\u0000.example.com'), 'extraHosts[0]'],
  ['unicode homoglyph host (Cyrillic a)', withExtra('registry-vpc.cn-beijing.\u0430liyuncs.com'), 'extraHosts[0]'],
  ['empty extra host', withExtra(''), 'extraHosts[0]'],
  ['IPv4 literal as an extra host', withExtra('10.0.0.1'), 'extraHosts[0]'],
  ['IPv6 literal as an extra host', withExtra('::1'), 'extraHosts[0]'],
  ['localhost as an extra host', withExtra('localhost'), 'extraHosts[0]'],
  ['single-label extra host', withExtra('registry'), 'extraHosts[0]'],
  ['300-character extra host', withExtra(`${'a'.repeat(60)}.`.repeat(5)), 'extraHosts[0]'],
  ['huge extra host', withExtra(huge), 'extraHosts[0]'],
  ['extra host of the wrong type', withExtra(42), 'extraHosts[0]'],
  ['extra host object with a bad name', withExtra({ name: 'a b.example.com', ports: [443] }), 'extraHosts[0].name'],
  ['extra host object with port 8080', withExtra({ name: 'a.example.com', ports: [8080] }), 'extraHosts[0].ports[0]'],
  ['extra host object with port "443"', withExtra({ name: 'a.example.com', ports: ['443'] }), 'extraHosts[0].ports[0]'],
  ['extra host object with an unknown key', withExtra({ name: 'a.example.com', ports: [443], note: 'x' }), 'extraHosts[0].note'],
  ['extra host object without ports', withExtra({ name: 'a.example.com' }), 'extraHosts[0].ports'],
  ['10k extra hosts', { tunnel, extraHosts: new Array(10_000).fill('a.example.com') }, 'extraHosts'],
  ['unknown region', { tunnel, regions: [{ id: 'xx-nowhere-1' }] }, 'regions[0].id'],
  ['closed region (Sydney)', { tunnel, regions: [{ id: 'ap-southeast-2' }] }, 'regions[0].id'],
  ['closed region (Mumbai) as an instance region', { tunnel, instances: [{ name: 'a', region: 'ap-south-1' }] }, 'instances[0].region'],
  ['region without ACR (cn-beijing-finance-1)', { tunnel, personalInstances: [{ id: 'a', region: 'cn-beijing-finance-1' }] }, 'personalInstances[0].region'],
  ['upper-case region id', { tunnel, regions: [{ id: 'CN-BEIJING' }] }, 'regions[0].id'],
  ['region id with a newline', { tunnel, regions: [{ id: 'cn-beijing\n' }] }, 'regions[0].id'],
  ['region id of the wrong type', { tunnel, regions: [{ id: 7 }] }, 'regions[0].id'],
  ['unknown endpoint kind', { tunnel, regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'registry-evil'] }] }, 'regions[0].endpoints[1]'],
  ['endpoints not a list', { tunnel, regions: [{ id: 'cn-beijing', endpoints: 'registry-vpc' }] }, 'regions[0].endpoints'],
  ['regions not a list', { tunnel, regions: {} }, 'regions'],
  ['10k regions', { tunnel, regions: new Array(10_000).fill({ id: 'cn-beijing' }) }, 'regions'],
  ['listen.port 0', withListen({ port: 0 }), 'listen.port'],
  ['listen.port 70000', withListen({ port: 70000 }), 'listen.port'],
  ['listen.port 1.5', withListen({ port: 1.5 }), 'listen.port'],
  ['listen.port "443"', withListen({ port: '443' }), 'listen.port'],
  ['listen.port NaN', withListen({ port: Number.NaN }), 'listen.port'],
  ['listen.httpPort the same as listen.port', withListen({ port: 8443, httpPort: 8443 }), 'listen.httpPort'],
  ['listen.proxyPort the same as listen.httpPort', withListen({ proxyPort: 80 }), 'listen.proxyPort'],
  ['tunnel.port -1', withTunnel({ port: -1 }), 'tunnel.port'],
  ['tunnel.httpPort 65536', withTunnel({ httpPort: 65536 }), 'tunnel.httpPort'],
  ['listen.address not an IP', withListen({ address: 'localhost' }), 'listen.address'],
  ['listen.address with a shell tail', withListen({ address: '127.0.0.1; rm -rf /' }), 'listen.address'],
  ['listen.address unspecified', withListen({ address: '0.0.0.0' }), 'listen.address'],
  ['listen.address with an IPv6 zone', withListen({ address: 'fe80::1%eth0' }), 'listen.address'],
  ['tunnel.host with a space', withTunnel({ host: 'evil host' }), 'tunnel.host'],
  ['tunnel.host with "$()"', withTunnel({ host: '$(id).example.com' }), 'tunnel.host'],
  ['tunnel.host in brackets', withTunnel({ host: '[2001:db8::1]' }), 'tunnel.host'],
  ['tunnel.host empty', withTunnel({ host: '' }), 'tunnel.host'],
  ['tunnel.host is a mapped name (loop)', { tunnel: { ...tunnel, host: 'registry-vpc.cn-beijing.aliyuncs.com' }, regions: [{ id: 'cn-beijing' }] }, 'tunnel.host'],
  ['tunnel.mode unknown', withTunnel({ mode: 'socks' }), 'tunnel.mode'],
  ['tunnel missing', {}, 'tunnel'],
  ['tunnel of the wrong type', { tunnel: 'ssh://root@host' }, 'tunnel'],
  ['ssh mode without username', sshTunnel({ privateKeyPath: '~/.ssh/id_ed25519' }), 'tunnel.ssh.username'],
  ['ssh mode without an ssh object', { tunnel: { mode: 'ssh', host: '203.0.113.10' } }, 'tunnel.ssh.username'],
  ['ssh username with a newline', sshTunnel({ username: 'root\nProxyCommand x' }), 'tunnel.ssh.username'],
  ['huge ssh username', sshTunnel({ username: 'u'.repeat(2000) }), 'tunnel.ssh.username'],
  ['ssh key path with a newline', sshTunnel({ username: 'root', privateKeyPath: '/a\n/b' }), 'tunnel.ssh.privateKeyPath'],
  ['empty known_hosts path', sshTunnel({ username: 'root', knownHostsPath: '' }), 'tunnel.ssh.knownHostsPath'],
  ['path over 4096 characters', sshTunnel({ username: 'root', privateKeyPath: `/${'k'.repeat(5000)}` }), 'tunnel.ssh.privateKeyPath'],
  ['keepalive of 10 ms', sshTunnel({ username: 'root', keepaliveIntervalMs: 10 }), 'tunnel.ssh.keepaliveIntervalMs'],
  ['agent of the wrong type', sshTunnel({ username: 'root', agent: 1 }), 'tunnel.ssh.agent'],
  ['ssh sub-object in sni mode', withTunnel({ ssh: { username: 'root' } }), 'tunnel.ssh'],
  ['connect sub-object in sni mode', withTunnel({ connect: { username: 'u' } }), 'tunnel.connect'],
  ['httpPort in connect mode', { tunnel: { mode: 'connect', host: '203.0.113.10', httpPort: 80 } }, 'tunnel.httpPort'],
  ['proxy password without a user name', connectTunnel({ password: 'secret' }), 'tunnel.connect.password'],
  ['proxy user name with ":"', connectTunnel({ username: 'a:b' }), 'tunnel.connect.username'],
  ['caFile without tls', connectTunnel({ caFile: '/ca.pem' }), 'tunnel.connect.caFile'],
  ['5000-character proxy password', connectTunnel({ username: 'u', password: 'p'.repeat(5000) }), 'tunnel.connect.password'],
  ['tls as a string', connectTunnel({ tls: 'true' }), 'tunnel.connect.tls'],
  ['unknown top-level key', { tunnel, extra: 1 }, 'extra'],
  ['unknown key in a region', { tunnel, regions: [{ id: 'cn-beijing', bogus: true }] }, 'regions[0].bogus'],
  ['unknown key in an instance', { tunnel, instances: [{ name: 'a', region: 'cn-beijing', password: 'x' }] }, 'instances[0].password'],
  ['unknown key in a personal instance', { tunnel, personalInstances: [{ id: 'a', region: 'cn-beijing', name: 'x' }] }, 'personalInstances[0].name'],
  ['unknown key in tunnel', withTunnel({ proxy: 'x' }), 'tunnel.proxy'],
  ['unknown key in tunnel.connect', connectTunnel({ username: 'u', pasword: 'typo' }), 'tunnel.connect.pasword'],
  ['unknown key in tunnel.ssh', sshTunnel({ username: 'root', identityFile: '~/.ssh/id' }), 'tunnel.ssh.identityFile'],
  ['unknown key in listen', withListen({ host: '127.0.0.1' }), 'listen.host'],
  ['unknown key in hosts', { tunnel, hosts: { takeOver: false, force: true } }, 'hosts.force'],
  ['__proto__ key from JSON', JSON.parse('{"tunnel":{"mode":"sni","host":"203.0.113.10"},"__proto__":{"polluted":1}}'), '__proto__'],
  ['non-identifier unknown key', { tunnel, 'a b\n': 1 }, '["a b\\n"]'],
  ['hosts.takeOver "yes"', { tunnel, hosts: { takeOver: 'yes' } }, 'hosts.takeOver'],
  ['instance chart "true"', { tunnel, instances: [{ name: 'a', region: 'cn-beijing', chart: 'true' }] }, 'instances[0].chart'],
  ['instance name with "_" and capitals', { tunnel, instances: [{ name: 'My_Inst', region: 'cn-beijing' }] }, 'instances[0].name'],
  ['instance name ending with "-"', { tunnel, instances: [{ name: 'inst-', region: 'cn-beijing' }] }, 'instances[0].name'],
  ['huge instance name', { tunnel, instances: [{ name: huge, region: 'cn-beijing' }] }, 'instances[0].name'],
  ['instance network "public"', { tunnel, instances: [{ name: 'a', region: 'cn-beijing', network: 'public' }] }, 'instances[0].network'],
  ['instance id in capitals', { tunnel, instances: [{ name: 'a', region: 'cn-beijing', instanceId: 'cri-ABC' }] }, 'instances[0].instanceId'],
  ['crpi id with its prefix', { tunnel, personalInstances: [{ id: 'crpi-abc', region: 'cn-beijing' }] }, 'personalInstances[0].id'],
  ['crpi id with a dot', { tunnel, personalInstances: [{ id: 'abc.evil', region: 'cn-beijing' }] }, 'personalInstances[0].id'],
  ['listen.alias "yes"', withListen({ alias: 'yes' }), 'listen.alias'],
  ['listen.alias null', withListen({ alias: null }), 'listen.alias'],
  ['listen.alias true with an IPv6 address', withListen({ address: '::1', alias: true }), 'listen.alias'],
  ['listen.mechanism "nft"', withListen({ mechanism: 'nft' }), 'listen.mechanism'],
  ['listen.mechanism "Direct" (case matters)', withListen({ mechanism: 'Direct' }), 'listen.mechanism'],
  ['listen.mechanism true', withListen({ mechanism: true }), 'listen.mechanism'],
  ['listen.mechanism "redirect" with an IPv6 address', withListen({ address: 'fd00::17', mechanism: 'redirect' }), 'listen.mechanism'],
  ['listen.highPorts.tls 443 (a privileged port)', withListen({ highPorts: { tls: 443, http: 14080 } }), 'listen.highPorts.tls'],
  ['listen.highPorts.http 70000', withListen({ highPorts: { tls: 14443, http: 70000 } }), 'listen.highPorts.http'],
  ['listen.highPorts.tls "14443"', withListen({ highPorts: { tls: '14443', http: 14080 } }), 'listen.highPorts.tls'],
  ['listen.highPorts without http', withListen({ highPorts: { tls: 14443 } }), 'listen.highPorts.http'],
  ['listen.highPorts a number', withListen({ highPorts: 14443 }), 'listen.highPorts'],
  ['listen.highPorts with an unknown key', withListen({ highPorts: { tls: 14443, http: 14080, proxy: 14128 } }), 'listen.highPorts.proxy'],
  ['listen.highPorts.http the same as tls', withListen({ highPorts: { tls: 14443, http: 14443 } }), 'listen.highPorts.http'],
  ['listen.highPorts.tls the same as listen.proxyPort', withListen({ proxyPort: 14443, highPorts: { tls: 14443, http: 14080 } }), 'listen.highPorts.tls'],
  ['listen.highPorts with mechanism "direct"', withListen({ mechanism: 'direct', highPorts: { tls: 14443, http: 14080 } }), 'listen.highPorts'],
  ['httpPort off while a port-80 name is mapped', { tunnel, regions: [{ id: 'cn-hangzhou', endpoints: ['pe-bucket'] }], listen: { httpPort: null } }, 'listen.httpPort'],
  ['config is null', null, '(config)'],
  ['config is a list', [], '(config)'],
  ['config is a string', '{"tunnel":{}}', '(config)'],
]

describe('parseConfig: malicious and malformed input', () => {
  it('has a table of at least 30 cases', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30)
  })

  it.each(rows)('%s → INVALID_CONFIG at %s', (_description, input, field) => {
    const error = catchError(() => parseConfig(input))
    expect(isBridgeError(error, 'INVALID_CONFIG')).toBe(true)
    expect(error).toBeInstanceOf(ConfigValidationError)
    expect(error.field).toBe(field)
    expect(error.message).toContain(field)
    expect(error.hint).toBeTruthy()
    // one line, printable ASCII, bounded: nothing from the input can break a terminal or a log line
    expect(error.message).toMatch(/^[\x20-\x7e]+$/)
    expect(error.message.length).toBeLessThan(500)
    expect((error as ConfigValidationError).issues[0]?.field).toBe(field)
  })

  it('quotes the bad value, escaped and truncated', () => {
    expect(catchError(() => parseConfig(withListen({ port: 70000 }))).message).toBe('listen.port: must be a whole number from 1 to 65535 (got 70000).')
    expect(catchError(() => parseConfig({ tunnel, regions: [{ id: 'xx-nowhere-1' }] })).message).toContain('(got "xx-nowhere-1")')
    const newline = catchError(() => parseConfig(withExtra('a.example.com\n10.0.0.1 evil.example.com'))).message
    expect(newline).toContain('"a.example.com\\n10.0.0.1 evil.example.com"')
    const homoglyph = catchError(() => parseConfig(withExtra('\u0430liyuncs.com'))).message
    expect(homoglyph).toContain('"\\u0430liyuncs.com"')
    const long = catchError(() => parseConfig(withExtra(huge))).message
    expect(long).toContain('... (100000 characters)')
    expect(catchError(() => parseConfig({ tunnel, regions: new Array(10_000).fill({ id: 'cn-beijing' }) })).message).toContain('an array of 10000 items')
  })

  it('never shows a secret in a message', () => {
    const password = 'hunter2-very-secret'
    const errors = [
      catchError(() => parseConfig(connectTunnel({ password }))),
      catchError(() => parseConfig(connectTunnel({ username: 'u', password: `${password}\u0000` }))),
      catchError(() => parseConfig(sshTunnel({ username: 'root', passphrase: '' }))),
      catchError(() => parseConfig({ tunnel: { ...tunnel, password } })),
    ]
    for (const error of errors) {
      expect(error.message).not.toContain('hunter2')
      for (const issue of (error as ConfigValidationError).issues) expect(JSON.stringify(issue)).not.toContain('hunter2')
    }
    expect(errors[1]?.message).toContain('tunnel.connect.password')
  })

  it('collects every problem: the message tells the first, issues list them all', () => {
    const error = catchError(() =>
      parseConfig({
        tunnel: { ...tunnel, port: 0 },
        regions: [{ id: 'xx-nowhere-1' }],
        extraHosts: ['a b.example.com'],
        listen: { port: '443' },
        unknown: true,
      }),
    ) as ConfigValidationError
    expect(error.issues.map((i) => i.field)).toEqual(['regions[0].id', 'extraHosts[0]', 'tunnel.port', 'listen.port', 'unknown'])
    expect(error.field).toBe('regions[0].id')
    expect(error.message).toMatch(/^regions\[0\]\.id: .*\(and 4 more problems\)\.$/)
    expect(error.details).toEqual({ issueCount: 5 })
    for (const issue of error.issues) expect(issue.hint).toBeTruthy()
  })

  it('explains the listen override rules in the message and hint', () => {
    const alias = catchError(() => parseConfig(withListen({ address: '::1', alias: true })))
    expect(alias.message).toContain('only IPv4 addresses can be added to the loopback interface')
    expect(alias.hint).toContain('listen.alias')
    expect(catchError(() => parseConfig(withListen({ mechanism: 'nft' }))).message).toBe('listen.mechanism: must be one of "auto", "direct", "redirect" (got "nft").')
    expect(catchError(() => parseConfig(withListen({ highPorts: { tls: 80, http: 14080 } }))).hint).toContain('1024')
  })

  it('says "is required" for a missing field', () => {
    const error = catchError(() => parseConfig({ tunnel: { mode: 'sni' } }))
    expect(error.message).toBe('tunnel.host: is required.')
    expect(catchError(() => parseConfig({})).message).toBe('tunnel: is required.')
  })
})
