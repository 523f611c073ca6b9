// fast-check generators for realistic and nasty hosts files (no markers of ours: those come from applying).

import fc from 'fast-check'
import { encodeHosts, type HostsEncoding } from '../../../electron/core/hosts/codec.js'
import type { Platform } from '../../../electron/core/paths.js'

export const ourNames = [
  'registry-vpc.cn-beijing.aliyuncs.com',
  'dockerauth-vpc.cn-beijing.aliyuncs.com',
  'aliregistry.oss-cn-beijing-internal.aliyuncs.com',
  'myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com',
] as const

const otherNames = ['localhost', 'example.com', 'host.docker.internal', 'gateway.docker.internal', 'ip6-localhost', 'a.b', 'my-nas']

const addresses = ['127.0.0.1', '::1', '10.0.0.5', '203.0.113.9', '192.168.65.2', 'fe80::1%lo0', '0.0.0.0', 'not-an-ip', '127.1']

const anyName = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...ourNames) },
  { weight: 1, arbitrary: fc.constantFrom(...ourNames).map((name) => name.toUpperCase()) },
  { weight: 4, arbitrary: fc.constantFrom(...otherNames) },
)
const separator = fc.constantFrom(' ', '\t', '  ', ' \t ')
const indent = fc.constantFrom('', '', '', ' ', '\t')

/** Comment text per charset: what each encoding can really hold. */
function commentText(encoding: HostsEncoding): fc.Arbitrary<string> {
  const units =
    encoding.charset === 'latin1'
      ? ['a', 'z', ' ', '-', '\u00e9', '\u00d6', '\u00ff', '#']
      : ['a', 'z', ' ', '-', 'é', '中', '文', '😀', '#', '\uFEFF']
  return fc.string({ unit: fc.constantFrom(...units), maxLength: 16 })
}

function mappingLine(encoding: HostsEncoding): fc.Arbitrary<string> {
  return fc
    .tuple(indent, fc.constantFrom(...addresses), separator, fc.array(anyName, { minLength: 1, maxLength: 3 }), fc.option(commentText(encoding)))
    .map(([pad, address, sep, names, comment]) => `${pad}${address}${sep}${names.join(sep)}${comment === null ? '' : ` #${comment}`}`)
}

function section(encoding: HostsEncoding): fc.Arbitrary<string[]> {
  return fc.oneof(
    fc.array(mappingLine(encoding), { maxLength: 3 }).map((lines) => ['# Added by Docker Desktop', ...lines, '# End of section']),
    fc.array(mappingLine(encoding), { maxLength: 2 }).map((lines) => ['# BEGIN ANSIBLE MANAGED BLOCK', ...lines, '# END ANSIBLE MANAGED BLOCK']),
    fc.array(mappingLine(encoding), { maxLength: 2 }).map((lines) => ['# profile.on dev', ...lines, '# end']),
    // Unclosed sections are ordinary comments (except SwitchHosts', which runs to the end of the file).
    fc.constant<string[]>(['# Added by Docker Desktop']),
    fc.array(mappingLine(encoding), { maxLength: 2 }).map((lines) => ['# --- SWITCHHOSTS_CONTENT_START ---', ...lines]),
  )
}

function lineGroup(encoding: HostsEncoding): fc.Arbitrary<string[]> {
  return fc.oneof(
    { weight: 6, arbitrary: mappingLine(encoding).map((line) => [line]) },
    { weight: 3, arbitrary: commentText(encoding).map((text) => [`#${text}`]) },
    { weight: 2, arbitrary: fc.constantFrom('', '   ', '\t').map((line) => [line]) },
    { weight: 1, arbitrary: section(encoding) },
  )
}

export const encodings: fc.Arbitrary<HostsEncoding> = fc.constantFrom<HostsEncoding>(
  { charset: 'utf8', bom: false },
  { charset: 'utf8', bom: true },
  { charset: 'utf16le', bom: true },
  { charset: 'utf16be', bom: true },
  { charset: 'latin1', bom: false },
)

export interface GeneratedHosts {
  readonly encoding: HostsEncoding
  readonly text: string
  readonly bytes: Buffer
}

/** A hosts file: mixed or uniform line endings, maybe no final line break, comments, blanks, tabs, other tools' sections. */
export const hostsFiles: fc.Arbitrary<GeneratedHosts> = encodings.chain((encoding) =>
  fc
    .tuple(
      fc.array(fc.tuple(lineGroup(encoding), fc.constantFrom('\n', '\r\n', '\r')), { maxLength: 12 }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([groups, mixed, finalBreak]) => {
      const uniform = groups[0]?.[1] ?? '\n'
      const lines = groups.flatMap(([group, eol]) => group.map((line) => ({ line, eol: mixed ? eol : uniform })))
      let text = ''
      lines.forEach(({ line, eol }, index) => {
        text += line + (index === lines.length - 1 && !finalBreak ? '' : eol)
      })
      return { encoding, text, bytes: encodeHosts(text, encoding) }
    }),
)

export const platforms: fc.Arbitrary<Platform> = fc.constantFrom<Platform>('linux', 'darwin', 'win32')

const entryAddresses = ['127.0.0.1', '127.0.0.2', '::1', '10.9.8.7'] as const

/** 0-4 of our names, in random order, each with one of a few addresses. */
export const entryLists = fc
  .tuple(fc.shuffledSubarray([...ourNames]), fc.array(fc.nat({ max: entryAddresses.length - 1 }), { minLength: ourNames.length, maxLength: ourNames.length }))
  .map(([names, picks]) => names.map((name, index) => ({ address: entryAddresses[picks[index] ?? 0] ?? '127.0.0.1', name })))
