// The CLI contract of DESIGN.md, checked on the BUILT CLI as a child process: `hosts` prints the article's three
// cn-beijing VPC names at the listen address, `--json` shapes, `catalog --json` lists every region of ACR-FACTS §1,
// apply → revert gives back the hosts file byte for byte (CRLF, no trailing newline, UTF-16LE with BOM), and the
// exit codes 0/1/2 with errors on ONE stderr line. Every hosts file and data folder is a temp one.

import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { useCaseFolders } from '../../helpers/case-folders.js'
import { builtCli, builtCliTimeoutMs, runBuiltCli, type CliResult } from '../../helpers/cli.js'

const beginMarker = '# >>> acr-bridge managed block: do not edit >>>'
const endMarker = '# <<< acr-bridge managed block <<<'
/** The three names of the article (seed/acr-reverse-proxy-article.txt) for cn-beijing over the VPC. */
const articleNames = ['registry-vpc.cn-beijing.aliyuncs.com', 'dockerauth-vpc.cn-beijing.aliyuncs.com', 'oss-cn-beijing-internal.aliyuncs.com']

/** Every region id of ACR-FACTS.md §1 (the region catalog table), written out here as the independent oracle. */
const factsRegionIds = [
  'cn-qingdao', 'cn-beijing', 'cn-zhangjiakou', 'cn-huhehaote', 'cn-wulanchabu', 'cn-hangzhou', 'cn-shanghai',
  'cn-nanjing', 'cn-fuzhou', 'cn-wuhan-lr', 'cn-shenzhen', 'cn-heyuan', 'cn-guangzhou', 'cn-chengdu', 'cn-hongkong',
  'cn-zhengzhou-jva', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3',
  'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'ap-south-1', 'us-west-1', 'us-east-1', 'eu-central-1',
  'eu-west-1', 'me-east-1', 'me-central-1', 'cn-hangzhou-finance', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1',
  'cn-beijing-finance-1', 'na-south-1',
]

/** The endpoint kinds DESIGN.md names ("at least"). */
const designEndpointKinds = [
  'registry', 'registry-vpc', 'registry-intl', 'registry-intl-vpc', 'dockerauth', 'dockerauth-vpc', 'dockerauth-ee',
  'dockerauth-ee-vpc', 'oss', 'oss-internal',
]

const cases = useCaseFolders('acr-bridge-cli-contract-')
beforeAll(async () => {
  await builtCli()
}, builtCliTimeoutMs)

/** A fresh folder with a hosts file, a data folder and a config (JSON value or raw text) for one test. */
async function sandbox(options: { hosts?: Uint8Array | string; config?: unknown } = {}) {
  const dir = await cases.next()
  const dataDir = join(dir, 'data')
  await fs.mkdir(dataDir, { recursive: true })
  const hostsPath = join(dir, 'hosts')
  if (options.hosts !== undefined) await fs.writeFile(hostsPath, options.hosts)
  const configPath = join(dir, 'config.json')
  await fs.writeFile(configPath, JSON.stringify(options.config ?? beijingConfig()))
  return { dir, dataDir, hostsPath, configPath, env: { ACR_BRIDGE_DATA_DIR: dataDir } }
}

function beijingConfig(listen?: Record<string, unknown>): Record<string, unknown> {
  return {
    regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }],
    tunnel: { mode: 'sni', host: '203.0.113.10' },
    ...(listen === undefined ? {} : { listen }),
  }
}

/** Exactly one line on stderr, in the CLI's error form, and nothing else. */
function expectOneErrorLine(result: CliResult): string {
  expect(result.stderr, `stderr was ${JSON.stringify(result.stderr)}`).toMatch(/^acr-bridge: [^\r\n]+\n$/)
  return result.stderr.trimEnd()
}

function describeRun(result: CliResult): string {
  return `exit ${result.code} signal ${result.signal}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`
}

describe('acr-bridge hosts', () => {
  it('prints exactly the three names of the article for a cn-beijing VPC config, at 127.0.0.1 by default', async () => {
    const box = await sandbox()
    const result = await runBuiltCli(['hosts', '--config', box.configPath])
    expect(result.code, describeRun(result)).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout).toBe([beginMarker, ...articleNames.map((name) => `127.0.0.1 ${name}`), endMarker, ''].join('\n'))
  })

  it('maps the names to listen.address when the config sets one (10.0.0.9)', async () => {
    const box = await sandbox({ config: beijingConfig({ address: '10.0.0.9' }) })
    const result = await runBuiltCli(['hosts', '--config', box.configPath])
    expect(result.code, describeRun(result)).toBe(0)
    const mappings = result.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'))
    expect(mappings).toEqual(articleNames.map((name) => `10.0.0.9 ${name}`))
  })

  it('--json gives { address, entries[{ address, name, ports }], block } and the same block as the text form', async () => {
    const box = await sandbox({ config: beijingConfig({ address: '10.0.0.9' }) })
    const [json, text] = await Promise.all([
      runBuiltCli(['hosts', '--config', box.configPath, '--json']),
      runBuiltCli(['hosts', '--config', box.configPath]),
    ])
    expect(json.code, describeRun(json)).toBe(0)
    expect(json.stderr).toBe('')
    const value = JSON.parse(json.stdout) as Record<string, unknown>
    expect(Object.keys(value).sort()).toEqual(['address', 'block', 'entries'])
    expect(value['address']).toBe('10.0.0.9')
    expect(value['entries']).toEqual(articleNames.map((name) => ({ address: '10.0.0.9', name, ports: [443] })))
    expect(`${value['block'] as string}\n`).toBe(text.stdout)
  })
})

describe('acr-bridge catalog', () => {
  it('--json lists every region of the facts, each with both display names and a status, and the endpoint kinds', async () => {
    const result = await runBuiltCli(['catalog', '--json'])
    expect(result.code, describeRun(result)).toBe(0)
    expect(result.stderr).toBe('')
    const listing = JSON.parse(result.stdout) as {
      regions: { id: string; nameEn: string; nameZh: string; status: string }[]
      endpointKinds: { kind: string; pattern: string; ports: number[] }[]
    }
    const ids = listing.regions.map((region) => region.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual([...factsRegionIds].sort())
    for (const region of listing.regions) {
      expect(region.nameEn, region.id).toMatch(/\S/)
      expect(region.nameZh, region.id).toMatch(/[\u4e00-\u9fff]/)
      expect(['available', 'closing', 'closed'], region.id).toContain(region.status)
    }
    const status = new Map(listing.regions.map((region) => [region.id, region.status]))
    // Facts §1: Sydney and Mumbai are closed; Nanjing and Fuzhou are closing down; Beijing is the article's region.
    expect(status.get('ap-southeast-2')).toBe('closed')
    expect(status.get('ap-south-1')).toBe('closed')
    expect(status.get('cn-nanjing')).toBe('closing')
    expect(status.get('cn-fuzhou')).toBe('closing')
    expect(status.get('cn-beijing')).toBe('available')
    const kinds = listing.endpointKinds.map((kind) => kind.kind)
    for (const kind of designEndpointKinds) expect(kinds).toContain(kind)
    for (const kind of listing.endpointKinds) expect(kind.ports.length, kind.kind).toBeGreaterThan(0)
  })

  it('the text form names every region id too', async () => {
    const result = await runBuiltCli(['catalog'])
    expect(result.code, describeRun(result)).toBe(0)
    const words = new Set(result.stdout.split(/\s+/))
    for (const id of factsRegionIds) expect(words.has(id), id).toBe(true)
  })
})

/** Encodes text as UTF-16LE with a BOM, as Windows tools sometimes save the hosts file. */
function utf16leWithBom(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
}

const roundTripFiles: { name: string; bytes: Buffer; eol: string; decode: (bytes: Buffer) => string }[] = [
  {
    name: 'CRLF line endings',
    bytes: Buffer.from('127.0.0.1\tlocalhost\r\n# a comment of the user\r\n\r\n::1 localhost ip6-localhost\r\n'),
    eol: '\r\n',
    decode: (bytes) => bytes.toString('utf8'),
  },
  {
    name: 'no trailing newline',
    bytes: Buffer.from('127.0.0.1 localhost\n10.1.2.3 build.internal  # tabs\tand  spaces kept\n# last line without a line break'),
    eol: '\n',
    decode: (bytes) => bytes.toString('utf8'),
  },
  {
    name: 'UTF-16LE with a BOM (CRLF)',
    bytes: utf16leWithBom('# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n127.0.0.1       localhost\r\n::1             localhost\r\n'),
    eol: '\r\n',
    decode: (bytes) => bytes.subarray(2).toString('utf16le'),
  },
]

describe('acr-bridge apply → revert on a temp hosts file', () => {
  for (const file of roundTripFiles) {
    it(`gives back the file byte for byte: ${file.name}`, async () => {
      const box = await sandbox({ hosts: file.bytes })
      const applied = await runBuiltCli(['apply', '--config', box.configPath, '--hosts-file', box.hostsPath, '--yes'], { env: box.env })
      expect(applied.code, describeRun(applied)).toBe(0)
      expect(applied.stderr).toBe('')
      expect(applied.stdout).toContain(`Wrote 3 names to ${box.hostsPath}`)
      const during = await fs.readFile(box.hostsPath)
      if (file.name.startsWith('UTF-16')) expect([...during.subarray(0, 2)]).toEqual([0xff, 0xfe])
      const text = file.decode(during)
      // The block is there, in the file's own line endings, one name per line, at the listen address.
      const block = [beginMarker, ...articleNames.map((name) => `127.0.0.1 ${name}`), endMarker].join(file.eol)
      expect(text).toContain(block)
      if (file.eol === '\r\n') expect(text.replace(/\r\n/g, '')).not.toContain('\n')
      else expect(text).not.toContain('\r')
      // The user's lines are all still there, unchanged and in order, ahead of the block.
      expect(text.startsWith(file.decode(file.bytes).replace(/[^\r\n]*$/, ''))).toBe(true)
      await expect(fs.readFile(join(box.dataDir, 'hosts.backup'))).resolves.toEqual(file.bytes)

      const reverted = await runBuiltCli(['revert', '--hosts-file', box.hostsPath, '--yes'], { env: box.env })
      expect(reverted.code, describeRun(reverted)).toBe(0)
      expect(reverted.stderr).toBe('')
      expect(reverted.stdout).toContain(`Removed 3 acr-bridge names from ${box.hostsPath}`)
      expect((await fs.readFile(box.hostsPath)).equals(file.bytes)).toBe(true)
      // Nothing of ours is left: no backup, no journal, no temp file next to the hosts file.
      expect(await fs.readdir(box.dataDir)).toEqual([])
      expect((await fs.readdir(box.dir)).sort()).toEqual(['config.json', 'data', 'hosts'])
    })
  }

  it('apply twice equals apply once, and revert of a file without a block changes nothing (exit 0)', async () => {
    const original = Buffer.from('127.0.0.1 localhost\n')
    const box = await sandbox({ hosts: original })
    const args = ['apply', '--config', box.configPath, '--hosts-file', box.hostsPath]
    const first = await runBuiltCli(args, { env: box.env })
    expect(first.code, describeRun(first)).toBe(0)
    const once = await fs.readFile(box.hostsPath)
    const second = await runBuiltCli(args, { env: box.env })
    expect(second.code, describeRun(second)).toBe(0)
    expect(second.stdout).toContain('already holds this block; nothing to do')
    expect((await fs.readFile(box.hostsPath)).equals(once)).toBe(true)
    const revert = ['revert', '--hosts-file', box.hostsPath]
    expect((await runBuiltCli(revert, { env: box.env })).code).toBe(0)
    expect((await fs.readFile(box.hostsPath)).equals(original)).toBe(true)
    const again = await runBuiltCli(revert, { env: box.env })
    expect(again.code, describeRun(again)).toBe(0)
    expect(again.stdout).toContain('holds no acr-bridge block; nothing to do')
    expect((await fs.readFile(box.hostsPath)).equals(original)).toBe(true)
  })
})

describe('exit codes and error lines', () => {
  it('exit 2 for an unknown command, with one line that names it', async () => {
    const result = await runBuiltCli(['frobnicate'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(expectOneErrorLine(result)).toContain('unknown command "frobnicate"')
  })

  it('exit 2 for an unknown flag, for a stray word and for a flag without its value', async () => {
    const box = await sandbox()
    const cases: [string[], string][] = [
      [['hosts', '--config', box.configPath, '--bogus'], '--bogus'],
      [['catalog', '--yes'], '--yes'],
      [['hosts', 'extra', '--config', box.configPath], '"extra"'],
      [['hosts', '--config'], '--config needs a value'],
      [['apply', '--config', box.configPath, '--hosts-file', box.hostsPath, '--json'], '--json'],
    ]
    const results = await Promise.all(cases.map(([args]) => runBuiltCli(args, { env: box.env })))
    results.forEach((result, index) => {
      const [args, named] = cases[index]!
      expect(result.code, `${args.join(' ')}\n${describeRun(result)}`).toBe(2)
      expect(result.stdout).toBe('')
      expect(expectOneErrorLine(result)).toContain(named)
    })
  })

  it('exit 2 when --config is missing (hosts, apply) or names no file', async () => {
    const box = await sandbox({ hosts: '127.0.0.1 localhost\n' })
    const missingFile = join(box.dir, 'no-such-config.json')
    const [hosts, apply, notFound] = await Promise.all([
      runBuiltCli(['hosts']),
      runBuiltCli(['apply', '--hosts-file', box.hostsPath], { env: box.env }),
      runBuiltCli(['apply', '--config', missingFile, '--hosts-file', box.hostsPath], { env: box.env }),
    ])
    for (const result of [hosts, apply]) {
      expect(result.code, describeRun(result)).toBe(2)
      expect(expectOneErrorLine(result)).toContain('--config is required')
    }
    expect(notFound.code, describeRun(notFound)).toBe(2)
    expect(expectOneErrorLine(notFound)).toContain(missingFile)
    expect(await fs.readFile(box.hostsPath, 'utf8')).toBe('127.0.0.1 localhost\n')
  })

  it('exit 1 with HOSTS_CONFLICT naming the line when the user maps one of our names; nothing is written', async () => {
    const original = '127.0.0.1 localhost\n# pinned by hand:\n10.9.8.7 registry-vpc.cn-beijing.aliyuncs.com\n'
    const box = await sandbox({ hosts: original })
    const before = await fs.stat(box.hostsPath)
    const result = await runBuiltCli(['apply', '--config', box.configPath, '--hosts-file', box.hostsPath, '--yes'], { env: box.env })
    expect(result.code, describeRun(result)).toBe(1)
    expect(result.stdout).toBe('')
    const line = expectOneErrorLine(result)
    expect(line).toContain('registry-vpc.cn-beijing.aliyuncs.com')
    expect(line).toContain('line 3')
    expect(await fs.readFile(box.hostsPath, 'utf8')).toBe(original)
    expect((await fs.stat(box.hostsPath)).mtimeMs).toBe(before.mtimeMs)
    expect(await fs.readdir(box.dataDir)).toEqual([])
  })

  it('exit 1 when the hosts file does not exist (apply and revert), with one line naming it', async () => {
    const box = await sandbox()
    const [apply, revert] = await Promise.all([
      runBuiltCli(['apply', '--config', box.configPath, '--hosts-file', box.hostsPath, '--yes'], { env: box.env }),
      runBuiltCli(['revert', '--hosts-file', box.hostsPath, '--yes'], { env: box.env }),
    ])
    for (const result of [apply, revert]) {
      expect(result.code, describeRun(result)).toBe(1)
      expect(expectOneErrorLine(result)).toContain(`${box.hostsPath} does not exist`)
    }
    await expect(fs.access(box.hostsPath)).rejects.toThrow()
    expect(await fs.readdir(box.dataDir)).toEqual([])
  })

  it('without a command: exit 2 and the usage on stderr; help: exit 0 and the usage on stdout', async () => {
    const [bare, help] = await Promise.all([runBuiltCli([]), runBuiltCli(['help'])])
    expect(bare.code).toBe(2)
    expect(bare.stdout).toBe('')
    expect(bare.stderr).toContain('usage: acr-bridge <command>')
    expect(help.code).toBe(0)
    for (const command of ['catalog', 'hosts', 'apply', 'revert', 'up']) expect(help.stdout).toContain(`acr-bridge ${command}`)
  })
})
