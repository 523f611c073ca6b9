// Malicious and malformed config files through the BUILT CLI: every one must give exit code 2, ONE stderr line that
// names the field (or the file, for problems of the whole file), nothing on stdout, and leave the hosts file exactly
// as it was (bytes, mtime and ctime), with no temp file in the hosts folder and nothing in the data folder. Names
// that try command substitution point at a marker file in the test's own folder: it must never appear.

import { existsSync, mkdtempSync, promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { builtCli, builtCliTimeoutMs, runBuiltCli } from '../../helpers/cli.js'

const tunnel = { mode: 'sni', host: '203.0.113.10' }
const region = { id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }
const originalHosts = Buffer.from('127.0.0.1\tlocalhost\r\n# the user\'s own line\r\n10.1.2.3 build.internal\r\n')
/** An mtime far in the past: any write, even of the same bytes, would move it. */
const fixedTime = new Date('2020-02-02T02:02:02Z')

// Made at load time: the case table below embeds marker paths inside it.
const root = mkdtempSync(join(tmpdir(), 'acr-bridge-cli-bad-input-'))

beforeAll(async () => {
  await builtCli()
}, builtCliTimeoutMs)

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

/** The marker a command substitution in a name would create if it ever reached a shell. */
function marker(name: string): string {
  return join(root, `pwned-${name}`)
}

type Command = 'apply' | 'hosts' | 'up'

interface BadConfig {
  readonly name: string
  /** A JSON value (serialised here) or the raw file bytes. */
  readonly config: unknown
  readonly raw?: boolean
  /** Words the one stderr line must contain: the field path (or the file name for whole-file problems). */
  readonly names: readonly string[]
  /** Extra commands to run the same file through (apply always runs). */
  readonly also?: readonly Command[]
  /** Marker files that must not exist afterwards. */
  readonly markers?: readonly string[]
}

/** A config that is valid except for `patch` (shallow-merged on top). */
function withPatch(patch: Record<string, unknown>): Record<string, unknown> {
  return { regions: [region], tunnel, ...patch }
}

function extraHost(name: unknown): Record<string, unknown> {
  return withPatch({ extraHosts: [name] })
}

const cases: BadConfig[] = [
  // Host names that would break the hosts file or a shell.
  { name: 'newline in a name (a second mapping smuggled in)', config: extraHost('evil.example.com\n10.6.6.6 registry-vpc.cn-beijing.aliyuncs.com'), names: ['extraHosts[0]', 'line break'], also: ['hosts', 'up'] },
  { name: 'carriage return in a name', config: extraHost('evil.example.com\rx.example.com'), names: ['extraHosts[0]', 'line break'] },
  { name: 'space in a name', config: extraHost('a.example.com b.example.com'), names: ['extraHosts[0]', 'whitespace'], also: ['hosts'] },
  { name: 'tab in a name', config: extraHost('a.example.com\tb.example.com'), names: ['extraHosts[0]', 'whitespace'] },
  { name: '";" in a name', config: extraHost('a.example.com;rm -rf /'), names: ['extraHosts[0]', '";"'], also: ['up'] },
  {
    name: '"$()" in a name',
    config: extraHost(`$(touch ${marker('dollar')}).example.com`),
    names: ['extraHosts[0]', '"$"'],
    also: ['hosts', 'up'],
    markers: [marker('dollar')],
  },
  {
    name: 'backtick in a name',
    config: extraHost(`\`touch ${marker('backtick')}\`.example.com`),
    names: ['extraHosts[0]', 'backtick'],
    also: ['up'],
    markers: [marker('backtick')],
  },
  { name: 'double quote in a name', config: extraHost('a"b.example.com'), names: ['extraHosts[0]', 'double quote'] },
  { name: 'single quote in a name', config: extraHost("a'b.example.com"), names: ['extraHosts[0]', 'single quote'] },
  { name: '"#" in a name (would comment out the rest of the line)', config: extraHost('a.example.com#x'), names: ['extraHosts[0]', '"#"'] },
  { name: '"|" and "&" in a name', config: extraHost('a.example.com|b&c'), names: ['extraHosts[0]', '"|"'] },
  { name: 'NUL in a name', config: extraHost('a.example.com\u0000b'), names: ['extraHosts[0]', 'NUL'] },
  { name: 'Unicode line separator in a name', config: extraHost('a.example.com\u2028b.example.com'), names: ['extraHosts[0]', 'U+2028'] },
  { name: 'non-ASCII name', config: extraHost('例子.example.com'), names: ['extraHosts[0]', 'non-ASCII'] },
  { name: 'label starting with a hyphen', config: extraHost('-a.example.com'), names: ['extraHosts[0]', 'hyphen'] },
  { name: 'IP literal as a name', config: extraHost('10.0.0.1'), names: ['extraHosts[0]', 'IP address'] },
  { name: 'localhost remapped', config: extraHost('localhost'), names: ['extraHosts[0]'] },
  { name: 'huge name (100,000 characters)', config: extraHost(`${'a'.repeat(100_000)}.example.com`), names: ['extraHosts[0]', 'longer than 253'] },
  { name: 'label longer than 63 characters', config: extraHost(`${'a'.repeat(64)}.example.com`), names: ['extraHosts[0]', 'longer than 63'] },
  { name: 'extra host on port 8080', config: extraHost({ name: 'a.example.com', ports: [8080] }), names: ['extraHosts[0].ports[0]'] },
  { name: 'extra host object with an unknown key', config: extraHost({ name: 'a.example.com', ports: [443], script: 'id' }), names: ['extraHosts[0].script'] },
  { name: 'extraHosts is an object, not a list', config: withPatch({ extraHosts: { 'a.example.com': 443 } }), names: ['extraHosts'] },
  { name: '501 extra hosts', config: withPatch({ extraHosts: Array.from({ length: 501 }, (_, i) => `h${i}.example.com`) }), names: ['extraHosts', 'more than 500'] },
  // Regions and endpoint kinds.
  { name: 'unknown region', config: withPatch({ regions: [{ id: 'cn-atlantis' }] }), names: ['regions[0].id', 'cn-atlantis'], also: ['hosts'] },
  { name: 'closed region (Sydney)', config: withPatch({ regions: [{ id: 'ap-southeast-2' }] }), names: ['regions[0].id'] },
  {
    name: 'region id with a newline and "$()"',
    config: withPatch({ regions: [{ id: `cn-beijing\n$(touch ${marker('region')})` }] }),
    names: ['regions[0].id'],
    markers: [marker('region')],
  },
  { name: 'unknown endpoint kind with ";"', config: withPatch({ regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc; ls'] }] }), names: ['regions[0].endpoints[0]'] },
  { name: 'regions is a string', config: withPatch({ regions: 'cn-beijing' }), names: ['regions'] },
  { name: 'region entry with an unknown key', config: withPatch({ regions: [{ id: 'cn-beijing', hosts: ['x.example.com'] }] }), names: ['regions[0].hosts'] },
  // Ports and addresses.
  { name: 'listen.port 0', config: withPatch({ listen: { port: 0 } }), names: ['listen.port', 'got 0'], also: ['hosts', 'up'] },
  { name: 'listen.port 70000', config: withPatch({ listen: { port: 70000 } }), names: ['listen.port', 'got 70000'], also: ['up'] },
  { name: 'listen.port as a string', config: withPatch({ listen: { port: '443' } }), names: ['listen.port'] },
  { name: 'listen.port 443.5', config: withPatch({ listen: { port: 443.5 } }), names: ['listen.port'] },
  { name: 'listen.httpPort -1', config: withPatch({ listen: { httpPort: -1 } }), names: ['listen.httpPort'] },
  { name: 'tunnel.port 70000', config: withPatch({ tunnel: { ...tunnel, port: 70000 } }), names: ['tunnel.port'] },
  { name: 'listen.address 0.0.0.0', config: withPatch({ listen: { address: '0.0.0.0' } }), names: ['listen.address'] },
  { name: 'listen.address with a name after a space', config: withPatch({ listen: { address: '127.0.0.1 registry.evil' } }), names: ['listen.address'] },
  { name: 'listen.address with an IPv6 zone', config: withPatch({ listen: { address: 'fe80::1%eth0' } }), names: ['listen.address', 'zone'] },
  // Tunnel.
  { name: 'tunnel missing', config: { regions: [region] }, names: ['tunnel'], also: ['up'] },
  { name: 'tunnel.mode unknown', config: withPatch({ tunnel: { mode: 'vpn', host: '203.0.113.10' } }), names: ['tunnel.mode'] },
  {
    name: 'tunnel.host with "$()"',
    config: withPatch({ tunnel: { mode: 'sni', host: `$(touch ${marker('tunnel')})` } }),
    names: ['tunnel.host'],
    also: ['up'],
    markers: [marker('tunnel')],
  },
  { name: 'ssh options in sni mode', config: withPatch({ tunnel: { ...tunnel, ssh: { username: 'root' } } }), names: ['tunnel.ssh'] },
  // Unknown keys and wrong types.
  { name: 'unknown top-level key', config: withPatch({ hostsFile: '/etc/hosts' }), names: ['hostsFile', 'not a known field'], also: ['hosts'] },
  { name: 'unknown nested key', config: withPatch({ listen: { address: '127.0.0.1', bind: 'all' } }), names: ['listen.bind'] },
  { name: 'listen.alias as a string', config: withPatch({ listen: { alias: 'always' } }), names: ['listen.alias', 'true or false'], also: ['up'] },
  { name: 'listen.alias true with an IPv6 address', config: withPatch({ listen: { address: '::1', alias: true } }), names: ['listen.alias', 'IPv6'], also: ['up'] },
  { name: 'listen.mechanism unknown', config: withPatch({ listen: { mechanism: 'iptables' } }), names: ['listen.mechanism', '"iptables"'], also: ['up'] },
  { name: 'listen.mechanism redirect with an IPv6 address', config: withPatch({ listen: { address: 'fd00::17', mechanism: 'redirect' } }), names: ['listen.mechanism', 'IPv4-only'] },
  { name: 'listen.highPorts.tls below 1024', config: withPatch({ listen: { highPorts: { tls: 443, http: 14080 } } }), names: ['listen.highPorts.tls', '1024'], also: ['up'] },
  { name: 'listen.highPorts with "$()" in a key', config: withPatch({ listen: { highPorts: { tls: 14443, http: 14080, [`$(touch ${marker('highports')})`]: 1 } } }), names: ['listen.highPorts'], markers: [marker('highports')] },
  { name: 'listen.highPorts with mechanism direct', config: withPatch({ listen: { mechanism: 'direct', highPorts: { tls: 14443, http: 14080 } } }), names: ['listen.highPorts', '"direct"'] },
  { name: '"__proto__" key', config: '{"regions":[{"id":"cn-beijing"}],"tunnel":{"mode":"sni","host":"203.0.113.10"},"__proto__":{"takeOver":true}}', raw: true, names: ['__proto__'] },
  { name: 'hosts.takeOver as a string', config: withPatch({ hosts: { takeOver: 'yes' } }), names: ['hosts.takeOver'] },
  { name: 'instance name with "_" and capitals', config: withPatch({ instances: [{ name: 'My_Inst', region: 'cn-hangzhou' }] }), names: ['instances[0].name'] },
  { name: 'instance id with "$()"', config: withPatch({ instances: [{ name: 'myinst', region: 'cn-hangzhou', instanceId: 'cri-$(id)' }] }), names: ['instances[0].instanceId'] },
  { name: 'crpi id given with its prefix', config: withPatch({ personalInstances: [{ id: 'crpi-abc123', region: 'cn-hangzhou' }] }), names: ['personalInstances[0].id'] },
  // The file as a whole.
  { name: 'invalid JSON (trailing comma)', config: '{\n  "regions": [],\n  "tunnel": { "mode": "sni", "host": "203.0.113.10" },\n}\n', raw: true, names: ['config.json', 'not valid JSON', 'line 4'], also: ['hosts', 'up'] },
  { name: 'JSON with a comment', config: '// settings\n{ "tunnel": { "mode": "sni", "host": "203.0.113.10" } }', raw: true, names: ['config.json', 'not valid JSON'] },
  { name: 'empty file', config: '', raw: true, names: ['config.json', 'not valid JSON'] },
  { name: 'binary garbage', config: Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x0a, 0x1b, 0x5b, 0x32, 0x4a]), raw: true, names: ['config.json', 'not valid JSON'] },
  { name: 'non-object JSON: a list', config: [region], names: ['(config)', 'not a list'] },
  { name: 'non-object JSON: a string', config: 'cn-beijing', names: ['(config)', 'not a string'] },
  { name: 'non-object JSON: null', config: null, names: ['(config)'], also: ['hosts'] },
  { name: 'non-object JSON: a number', config: 42, names: ['(config)'] },
  { name: 'a 2 MB file', config: JSON.stringify(withPatch({ extraHosts: [`${'x'.repeat(2 * 1024 * 1024)}.example.com`] })), raw: true, names: ['config.json', 'larger than'], also: ['hosts', 'up'] },
  { name: 'a 900 kB name (under the size cap)', config: extraHost(`${'x'.repeat(900 * 1024)}.example.com`), names: ['extraHosts[0]', 'longer than 253'] },
  { name: 'nesting 200,000 levels deep', config: `${'['.repeat(200_000)}${']'.repeat(200_000)}`, raw: true, names: ['(config)'] },
]

let caseCounter = 0

async function runCase(testCase: BadConfig, command: Command, expect: typeof import('vitest').expect): Promise<void> {
  const dir = join(root, `case-${++caseCounter}`)
  const hostsDir = join(dir, 'etc')
  const dataDir = join(dir, 'data')
  await fs.mkdir(hostsDir, { recursive: true })
  await fs.mkdir(dataDir)
  const hostsPath = join(hostsDir, 'hosts')
  await fs.writeFile(hostsPath, originalHosts)
  await fs.utimes(hostsPath, fixedTime, fixedTime)
  const configPath = join(dir, 'config.json')
  const raw = testCase.raw === true ? testCase.config : JSON.stringify(testCase.config)
  await fs.writeFile(configPath, raw as string | Buffer)
  const before = await fs.stat(hostsPath)

  const args =
    command === 'hosts'
      ? ['hosts', '--config', configPath]
      : [command, '--config', configPath, '--hosts-file', hostsPath, '--yes']
  // `up` would run until a signal if it ever got past validation: bound it, and a timeout fails the case.
  const result = await runBuiltCli(args, { env: { ACR_BRIDGE_DATA_DIR: dataDir }, timeoutMs: 30_000 })
  const shown = `${command}: exit ${result.code} signal ${result.signal}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`

  expect(result.timedOut, shown).toBe(false)
  expect(result.code, shown).toBe(2)
  expect(result.stdout, shown).toBe('')
  expect(result.stderr, shown).toMatch(/^acr-bridge: [^\r\n]+\n$/)
  for (const name of testCase.names) expect(result.stderr, shown).toContain(name)
  // The error line is printable ASCII or the value is escaped: no raw control character reaches the terminal.
  expect(result.stderr.trimEnd(), shown).not.toMatch(/[\u0000-\u001f\u007f\u2028\u2029]/)
  expect(result.stderr.length, 'the error line stays short even for a huge value').toBeLessThan(1000)

  const after = await fs.stat(hostsPath)
  expect((await fs.readFile(hostsPath)).equals(originalHosts)).toBe(true)
  expect(after.mtimeMs).toBe(before.mtimeMs)
  expect(after.ctimeMs).toBe(before.ctimeMs)
  expect(after.mode).toBe(before.mode)
  expect(await fs.readdir(hostsDir)).toEqual(['hosts'])
  expect(await fs.readdir(dataDir)).toEqual([])
  for (const path of testCase.markers ?? []) expect(existsSync(path), `${path} was created`).toBe(false)
}

describe('bad config files give exit 2, one line naming the field, and an untouched hosts file', () => {
  it('the table has at least 30 configs', ({ expect }) => {
    expect(cases.length).toBeGreaterThanOrEqual(30)
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
  })

  describe.concurrent('apply', () => {
    for (const testCase of cases) {
      it(testCase.name, async ({ expect }) => {
        await runCase(testCase, 'apply', expect)
      })
    }
  })

  describe.concurrent('hosts and up', () => {
    for (const testCase of cases) {
      for (const command of testCase.also ?? []) {
        it(`${command}: ${testCase.name}`, async ({ expect }) => {
          await runCase(testCase, command, expect)
        })
      }
    }
  })
})
