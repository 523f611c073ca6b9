// The config schema (zod 4, strict objects everywhere): parses unknown JSON into a Config, filling defaults, and
// reports EVERY problem it finds, each naming its field path and the bad value. docs/config.md documents the rules.

import { BlockList, isIP } from 'node:net'
import { z } from 'zod'
import { hostEntriesForConfig } from '../catalog/host-entries.js'
import { isEndpointKind, defaultEndpointsFor } from '../catalog/endpoint-kinds.js'
import { findRegion } from '../catalog/regions.js'
import { BridgeError } from '../errors.js'
import { describeValue, formatPath, quoteString } from './describe-value.js'
import { validateHostName } from './host-name.js'
import type { Config, ConnectOptions, EndpointKind, ExtraHost, ListenMechanismSetting, Network, SshOptions, TunnelConfig, TunnelMode } from './types.js'

/** Bounds on every list and string of the config. */
export const configLimits = {
  /** regions, instances, personalInstances, extraHosts. */
  maxEntries: 500,
  maxEndpointsPerRegion: 32,
  /** Plain strings (usernames, ids). */
  maxString: 1024,
  /** Passwords and passphrases. */
  maxSecret: 4096,
  maxPath: 4096,
} as const

/** tunnel.port when the file leaves it out. connect: 3128, the usual port of squid and tinyproxy. */
export const defaultTunnelPorts: Readonly<Record<TunnelMode, number>> = { sni: 443, connect: 3128, ssh: 22 }

/** One problem in a config. */
export interface ConfigIssue {
  /** Field path: `regions[1].id`, `tunnel.ssh.username`; `(config)` for the whole document. */
  readonly field: string
  /** What is wrong, as a phrase that follows the field: `must be a whole number from 1 to 65535`. */
  readonly problem: string
  /** The bad value as shown to the user (JSON-quoted, truncated, escaped); absent when the field is missing. */
  readonly value?: string
  readonly hint: string
}

/**
 * INVALID_CONFIG with every problem found. `message`, `field` and `hint` describe the first problem; `issues`
 * lists all of them (and `details.issueCount` says how many there are).
 */
export class ConfigValidationError extends BridgeError {
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    const first = issues[0]
    if (first === undefined) throw new Error('ConfigValidationError needs at least one issue')
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length === 2 ? '' : 's'})` : ''
    super('INVALID_CONFIG', `${issueText(first)}${more}.`, { field: first.field, hint: first.hint, details: { issueCount: issues.length } })
    this.name = 'ConfigValidationError'
    this.issues = issues
  }
}

/** `listen.port: must be a whole number from 1 to 65535 (got 70000)`. */
export function issueText(issue: ConfigIssue): string {
  return issue.value === undefined ? `${issue.field}: ${issue.problem}` : `${issue.field}: ${issue.problem} (got ${issue.value})`
}

// ---------------------------------------------------------------------------------------------------------------
// Leaf checks: each turns an unknown value into a typed one or a problem (+ hint).

type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string; readonly hint?: string }
type Check<T> = (value: unknown) => Checked<T>

const hints = {
  generic: 'Correct this field; docs/config.md describes every field of the config.',
  port: 'Use a whole number from 1 to 65535 (a JSON number, not a string).',
  hostName: 'Use a plain DNS name: ASCII letters, digits, hyphens and dots only.',
  region: 'Use a region id that `acr-bridge catalog` lists, e.g. cn-beijing.',
  closedRegion: 'Remove this region from the config: ACR cannot be used there.',
  endpoint: 'Use an endpoint kind that `acr-bridge catalog` lists, e.g. registry-vpc.',
  unknownKey: 'Remove the field or fix its spelling: unknown fields are refused.',
  mode: 'Set tunnel.mode to "sni", "connect" or "ssh".',
  path: 'Give a file path of at most 4096 characters on one line.',
  secret: 'Give the secret as a non-empty string of at most 4096 characters, or leave it out and use the environment variable.',
  tooMany: 'Remove entries: lists are bounded to keep the hosts block and the tunnel manageable.',
} as const

function ok<T>(value: T): Checked<T> {
  return { ok: true, value }
}

function fail(problem: string, hint?: string): Checked<never> {
  return hint === undefined ? { ok: false, problem } : { ok: false, problem, hint }
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return 'a string'
  if (typeof value === 'number') return 'a number'
  if (typeof value === 'boolean') return 'a boolean'
  return `a ${typeof value}`
}

function leaf<T>(check: Check<T>) {
  return z.unknown().transform((value, ctx): T => {
    const result = check(value)
    if (result.ok) return result.value
    ctx.addIssue({ code: 'custom', message: result.problem, params: { hint: result.hint ?? hints.generic } })
    return z.NEVER
  })
}

function requireType<T>(value: unknown, expected: 'string' | 'number' | 'boolean', what: string, hint?: string): Checked<T> | undefined {
  if (value === undefined) return fail('is required', hint)
  if (typeof value !== expected) return fail(`must be ${what}, not ${typeName(value)}`, hint)
  return undefined
}

const checkPort: Check<number> = (value) => {
  const bad = requireType<number>(value, 'number', 'a port number', hints.port)
  if (bad !== undefined) return bad
  const n = value as number
  if (!Number.isInteger(n) || n < 1 || n > 65535) return fail('must be a whole number from 1 to 65535', hints.port)
  return ok(n)
}

const checkPortOrNull: Check<number | null> = (value) => (value === null ? ok(null) : checkPort(value))

/** A redirected listener's port: it is bound without privilege, so 1024 or above. */
const checkHighPort: Check<number> = (value) => {
  const hint = 'Use a whole number from 1024 to 65535 that nothing else listens on, or remove listen.highPorts to let the OS pick free ports.'
  const bad = requireType<number>(value, 'number', 'a port number', hint)
  if (bad !== undefined) return bad
  const n = value as number
  if (!Number.isInteger(n) || n < 1024 || n > 65535) return fail('must be a whole number from 1024 to 65535 (a redirected listener runs without privilege)', hint)
  return ok(n)
}

const checkBoolean: Check<boolean> = (value) => requireType<boolean>(value, 'boolean', 'true or false') ?? ok(value as boolean)

function checkOneOf<T extends string>(allowed: readonly T[], hint: string): Check<T> {
  const list = allowed.map((a) => `"${a}"`).join(', ')
  return (value) => {
    const bad = requireType<T>(value, 'string', `one of ${list}`, hint)
    if (bad !== undefined) return bad
    return (allowed as readonly string[]).includes(value as string) ? ok(value as T) : fail(`must be one of ${list}`, hint)
  }
}

function checkString(max: number, rule: { what: string; allowed: (text: string) => string | undefined; hint?: string }): Check<string> {
  return (value) => {
    const bad = requireType<string>(value, 'string', rule.what, rule.hint)
    if (bad !== undefined) return bad
    const text = value as string
    if (text.length === 0) return fail('must not be empty (leave the field out instead)', rule.hint)
    if (text.length > max) return fail(`is longer than ${max} characters`, rule.hint)
    const problem = rule.allowed(text)
    return problem === undefined ? ok(text) : fail(problem, rule.hint)
  }
}

function noControlCharacters(text: string): string | undefined {
  return /[\u0000-\u001f\u007f]/.test(text) ? 'contains a control character or line break' : undefined
}

const checkPath = checkString(configLimits.maxPath, {
  what: 'a file path',
  hint: hints.path,
  allowed: (text) => (text.includes('\u0000') ? 'contains a NUL character' : /[\r\n]/.test(text) ? 'contains a line break' : undefined),
})

const checkSecret = checkString(configLimits.maxSecret, {
  what: 'a string',
  hint: hints.secret,
  allowed: (text) => (text.includes('\u0000') ? 'contains a NUL character' : undefined),
})

const checkProxyUsername = checkString(configLimits.maxString, {
  what: 'a user name',
  hint: 'Give the proxy user name without ":" or control characters.',
  allowed: (text) => noControlCharacters(text) ?? (text.includes(':') ? 'contains ":", which Basic authentication cannot carry in a user name' : undefined),
})

const checkSshUsername = checkString(configLimits.maxString, {
  what: 'a user name',
  hint: 'Set tunnel.ssh.username to the account to log in as on the proxy ECS (no spaces or control characters).',
  allowed: (text) => noControlCharacters(text) ?? (/\s/u.test(text) ? 'contains whitespace' : undefined),
})

const checkAgent: Check<boolean | string> = (value) => (typeof value === 'boolean' ? ok(value) : typeof value === 'string' ? checkPath(value) : fail(`must be true, false or an agent socket path, not ${typeName(value)}`))

const checkKeepalive: Check<number> = (value) => {
  const bad = requireType<number>(value, 'number', 'a number of milliseconds')
  if (bad !== undefined) return bad
  const n = value as number
  return Number.isInteger(n) && n >= 1000 && n <= 600_000 ? ok(n) : fail('must be a whole number of milliseconds from 1000 to 600000')
}

function checkPattern(pattern: RegExp, what: string, hint: string, extra?: (text: string) => string | undefined): Check<string> {
  return (value) => {
    const bad = requireType<string>(value, 'string', what, hint)
    if (bad !== undefined) return bad
    const text = value as string
    if (text.length > configLimits.maxString) return fail(`is longer than ${configLimits.maxString} characters`, hint)
    const problem = extra?.(text)
    if (problem !== undefined) return fail(problem, hint)
    return pattern.test(text) ? ok(text) : fail(`must be ${what}`, hint)
  }
}

const checkRegionId: Check<string> = (value) => {
  const bad = requireType<string>(value, 'string', 'a region id', hints.region)
  if (bad !== undefined) return bad
  const id = value as string
  const region = findRegion(id)
  if (region === undefined) {
    const lower = findRegion(id.trim().toLowerCase())
    return fail(lower === undefined ? 'is not a region in the catalog' : `is not a region in the catalog (did you mean "${lower.id}"?)`, hints.region)
  }
  if (region.status === 'closed') {
    const why = (region.note ?? 'Region closed.').replace(/\.$/, '')
    return fail(`is a region where ACR cannot be used (${region.nameEn}; ${why})`, hints.closedRegion)
  }
  return ok(region.id)
}

const checkEndpointKind: Check<EndpointKind> = (value) => {
  const bad = requireType<EndpointKind>(value, 'string', 'an endpoint kind', hints.endpoint)
  if (bad !== undefined) return bad
  return isEndpointKind(value as string) ? ok(value as EndpointKind) : fail('is not a known endpoint kind', hints.endpoint)
}

const checkMechanism = checkOneOf<ListenMechanismSetting>(
  ['auto', 'direct', 'redirect'],
  'Set listen.mechanism to "auto" (or leave it out), "direct" (the tunnel binds the ports itself) or "redirect" (high ports behind an nft/pf redirect).',
)
const checkNetwork = checkOneOf<Network>(['vpc', 'internet'], 'Set network to "vpc" (reach the instance over the VPC) or "internet".')
const checkMode = checkOneOf<TunnelMode>(['sni', 'connect', 'ssh'], hints.mode)

const checkInstanceName = checkPattern(
  /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
  'an instance name: a lower-case letter, then up to 62 lower-case letters, digits or hyphens, not ending with a hyphen',
  'Give the instance name as in <name>-registry.<region>.cr.aliyuncs.com.',
)
const checkInstanceId = checkPattern(/^cri-[a-z0-9]{1,40}$/, 'an instance id of the form cri-<lower-case letters and digits>', 'Copy the instance id (cri-…) from the ACR console.')
const checkCrpiId = checkPattern(
  /^[a-z0-9]{1,40}$/,
  'the part after "crpi-": 1 to 40 lower-case letters and digits',
  'Give only the part after "crpi-" of crpi-<id>.<region>.personal.cr.aliyuncs.com.',
  (text) => (text.startsWith('crpi-') ? 'must not include the "crpi-" prefix' : undefined),
)

function hostNameProblem(value: unknown, what: string): Checked<string> | undefined {
  const bad = requireType<string>(value, 'string', what, hints.hostName)
  if (bad !== undefined) return bad
  return undefined
}

function ipLiteralProblem(text: string): string | undefined {
  if (text.includes('%')) return 'carries an IPv6 zone ("%..."), which a hosts file cannot hold'
  if (text.startsWith('[')) return 'must be written without brackets'
  return undefined
}

const checkTunnelHost: Check<string> = (value) => {
  const bad = hostNameProblem(value, 'an IP address or a host name')
  if (bad !== undefined) return bad
  const text = value as string
  const ipProblem = ipLiteralProblem(text)
  if (ipProblem !== undefined) return fail(ipProblem, 'Give the proxy ECS as an IP address (203.0.113.10, 2001:db8::1) or a DNS name.')
  if (isIP(text) !== 0) return ok(text)
  const problem = validateHostName(text)
  return problem === undefined ? ok(text) : fail(`is neither an IP address nor a valid host name: it ${problem}`, 'Give the proxy ECS as an IP address (203.0.113.10, 2001:db8::1) or a DNS name.')
}

const unspecified = new BlockList()
unspecified.addAddress('0.0.0.0', 'ipv4')
unspecified.addAddress('::', 'ipv6')

const checkListenAddress: Check<string> = (value) => {
  const hint = 'Give an IP address on this machine, e.g. 127.0.0.1 (or an lo0 alias for VM-based Docker engines).'
  const bad = requireType<string>(value, 'string', 'an IP address', hint)
  if (bad !== undefined) return bad
  const text = value as string
  const ipProblem = ipLiteralProblem(text)
  if (ipProblem !== undefined) return fail(ipProblem, hint)
  const family = isIP(text)
  if (family === 0) return fail('must be an IPv4 or IPv6 address literal', hint)
  if (unspecified.check(text, family === 4 ? 'ipv4' : 'ipv6')) {
    return fail('is the unspecified address: the hosts file needs an address clients can dial', hint)
  }
  return ok(text)
}

/** The extra rules for extraHosts names on top of validateHostName. */
function extraHostNameProblem(name: string): string | undefined {
  if (isIP(name) !== 0 || name.startsWith('[')) return 'is an IP address literal; extraHosts takes host names only'
  const problem = validateHostName(name)
  if (problem !== undefined) return `is not a valid host name: it ${problem}`
  const lower = name.toLowerCase()
  if (!lower.includes('.')) return 'is a single-label name; give a fully qualified name'
  if (lower === 'localhost' || lower.endsWith('.localhost') || lower === 'localhost.localdomain') return 'is a loopback name, which must never be remapped'
  return undefined
}

const extraHostPorts = [80, 443] as const

/** extraHosts entries: a name (port 443) or { name, ports } with ports from {80, 443}. */
const extraHostSchema = z.unknown().transform((value, ctx): ExtraHost => {
  const issue = (problem: string, path: PropertyKey[] = [], hint: string = hints.hostName): typeof z.NEVER => {
    ctx.addIssue({ code: 'custom', message: problem, path, params: { hint } })
    return z.NEVER
  }
  if (typeof value === 'string') {
    const problem = extraHostNameProblem(value)
    return problem === undefined ? value : issue(problem)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return issue(`must be a host name or an object { "name", "ports" }, not ${typeName(value)}`)
  }
  const record = value as Record<string, unknown>
  let failed = false
  for (const key of Object.keys(record)) {
    if (key !== 'name' && key !== 'ports') {
      issue(`unknown field ${quoteString(key)}`, [key], hints.unknownKey)
      failed = true
    }
  }
  const name = record['name']
  if (typeof name !== 'string') {
    issue(name === undefined ? 'is required' : `must be a host name, not ${typeName(name)}`, ['name'])
    failed = true
  } else {
    const problem = extraHostNameProblem(name)
    if (problem !== undefined) {
      issue(problem, ['name'])
      failed = true
    }
  }
  const ports = record['ports']
  const portsHint = 'List the ports clients dial on this name: 443 (TLS), 80 (plain HTTP), or both.'
  let portList: number[] = []
  if (!Array.isArray(ports)) {
    issue(ports === undefined ? 'is required' : `must be a list of ports, not ${typeName(ports)}`, ['ports'], portsHint)
    failed = true
  } else if (ports.length === 0 || ports.length > 8) {
    issue(ports.length === 0 ? 'must list at least one port' : 'lists more than 8 ports', ['ports'], portsHint)
    failed = true
  } else {
    ports.forEach((port, index) => {
      if (typeof port !== 'number' || !(extraHostPorts as readonly number[]).includes(port)) {
        issue('must be 443 or 80: the tunnel serves only TLS on 443 and plain HTTP on 80', ['ports', index], portsHint)
        failed = true
      }
    })
    portList = [...new Set(ports as number[])].sort((a, b) => a - b)
  }
  if (failed) return z.NEVER
  return { name: name as string, ports: portList }
})

// ---------------------------------------------------------------------------------------------------------------
// Structure

const regionSelectionSchema = z
  .strictObject({
    id: leaf(checkRegionId),
    endpoints: z.array(leaf(checkEndpointKind)).max(configLimits.maxEndpointsPerRegion).optional(),
  })
  .transform((selection) => ({ id: selection.id, endpoints: selection.endpoints ?? defaultEndpointsFor('vpc') }))

const enterpriseInstanceSchema = z.strictObject({
  name: leaf(checkInstanceName),
  region: leaf(checkRegionId),
  network: leaf(checkNetwork).default('vpc'),
  instanceId: leaf(checkInstanceId).optional(),
  chart: leaf(checkBoolean).optional(),
})

const personalInstanceSchema = z.strictObject({
  id: leaf(checkCrpiId),
  region: leaf(checkRegionId),
  network: leaf(checkNetwork).default('vpc'),
})

const connectSchema = z
  .strictObject({
    username: leaf(checkProxyUsername).optional(),
    password: leaf(checkSecret).optional(),
    tls: leaf(checkBoolean).optional(),
    caFile: leaf(checkPath).optional(),
  })
  .superRefine((connect, ctx) => {
    if (connect.password !== undefined && connect.username === undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'is set without tunnel.connect.username', params: { hint: 'Set tunnel.connect.username too, or remove the password.' } })
    }
    if (connect.caFile !== undefined && connect.tls !== true) {
      ctx.addIssue({ code: 'custom', path: ['caFile'], message: 'is only used when tunnel.connect.tls is true', params: { hint: 'Set tunnel.connect.tls to true, or remove caFile.' } })
    }
  })

const sshSchema = z.strictObject({
  username: leaf(checkSshUsername),
  privateKeyPath: leaf(checkPath).optional(),
  passphrase: leaf(checkSecret).optional(),
  password: leaf(checkSecret).optional(),
  knownHostsPath: leaf(checkPath).optional(),
  agent: leaf(checkAgent).optional(),
  keepaliveIntervalMs: leaf(checkKeepalive).optional(),
})

const tunnelSchema = z
  .strictObject({
    mode: leaf(checkMode),
    host: leaf(checkTunnelHost),
    port: leaf(checkPort).optional(),
    httpPort: leaf(checkPort).optional(),
    connect: connectSchema.optional(),
    ssh: sshSchema.optional(),
  })
  .superRefine((tunnel, ctx) => {
    const onlyFor = (field: 'httpPort' | 'connect' | 'ssh', mode: TunnelMode): void => {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `is only allowed when tunnel.mode is "${mode}" (it is "${tunnel.mode}")`,
        params: { hint: `Remove tunnel.${field}, or set tunnel.mode to "${mode}".` },
      })
    }
    if (tunnel.httpPort !== undefined && tunnel.mode !== 'sni') onlyFor('httpPort', 'sni')
    if (tunnel.connect !== undefined && tunnel.mode !== 'connect') onlyFor('connect', 'connect')
    if (tunnel.ssh !== undefined && tunnel.mode !== 'ssh') onlyFor('ssh', 'ssh')
    if (tunnel.mode === 'ssh' && tunnel.ssh === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ssh', 'username'],
        message: 'is required when tunnel.mode is "ssh"',
        params: { hint: 'Add "ssh": { "username": "…" } to tunnel: the account to log in as on the proxy ECS.' },
      })
    }
  })
  .transform((tunnel): TunnelConfig => ({
    mode: tunnel.mode,
    host: tunnel.host,
    port: tunnel.port ?? defaultTunnelPorts[tunnel.mode],
    ...(tunnel.mode === 'sni' ? { httpPort: tunnel.httpPort ?? 80 } : {}),
    ...(tunnel.connect === undefined ? {} : { connect: tunnel.connect satisfies ConnectOptions }),
    ...(tunnel.ssh === undefined ? {} : { ssh: tunnel.ssh satisfies SshOptions }),
  }))

const listenSchema = z
  .strictObject({
    address: leaf(checkListenAddress).default('127.0.0.1'),
    port: leaf(checkPort).default(443),
    httpPort: leaf(checkPortOrNull).default(80),
    proxyPort: leaf(checkPort).optional(),
    alias: leaf(checkBoolean).optional(),
    mechanism: leaf(checkMechanism).optional(),
    highPorts: z.strictObject({ tls: leaf(checkHighPort), http: leaf(checkHighPort) }).optional(),
  })
  .superRefine((listen, ctx) => {
    const seen = new Map<number, string>([[listen.port, 'listen.port']])
    const others: [path: PropertyKey[], port: number | null | undefined][] = [
      [['httpPort'], listen.httpPort],
      [['proxyPort'], listen.proxyPort],
      [['highPorts', 'tls'], listen.highPorts?.tls],
      [['highPorts', 'http'], listen.highPorts?.http],
    ]
    for (const [path, port] of others) {
      if (port === undefined || port === null) continue
      const other = seen.get(port)
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path, message: `uses the same port as ${other}`, params: { hint: 'Give each listener its own port.' } })
      }
      seen.set(port, `listen.${path.join('.')}`)
    }
    // Aliases and redirect rules are IPv4-only (nft table ip, pf inet; docs/platforms.md).
    const ipv6 = isIP(listen.address) === 6
    if (listen.alias === true && ipv6) {
      ctx.addIssue({
        code: 'custom',
        path: ['alias'],
        message: `is true, but listen.address ${listen.address} is IPv6: only IPv4 addresses can be added to the loopback interface`,
        params: { hint: 'Remove listen.alias (or set it to false), or give an IPv4 listen.address.' },
      })
    }
    if (listen.mechanism === 'redirect' && ipv6) {
      ctx.addIssue({
        code: 'custom',
        path: ['mechanism'],
        message: `is "redirect", but listen.address ${listen.address} is IPv6: redirect rules are IPv4-only`,
        params: { hint: 'Set listen.mechanism to "auto" or "direct", or give an IPv4 listen.address.' },
      })
    }
    if (listen.highPorts !== undefined && listen.mechanism === 'direct') {
      ctx.addIssue({
        code: 'custom',
        path: ['highPorts'],
        message: 'is only used for redirected listeners, and listen.mechanism is "direct"',
        params: { hint: 'Remove listen.highPorts, or set listen.mechanism to "auto" or "redirect".' },
      })
    }
  })
  .default(() => ({ address: '127.0.0.1', port: 443, httpPort: 80 }))

const hostsSchema = z.strictObject({ takeOver: leaf(checkBoolean).default(false) }).default(() => ({ takeOver: false }))

const configSchema = z
  .strictObject({
    regions: z.array(regionSelectionSchema).max(configLimits.maxEntries).default(() => []),
    instances: z.array(enterpriseInstanceSchema).max(configLimits.maxEntries).default(() => []),
    personalInstances: z.array(personalInstanceSchema).max(configLimits.maxEntries).default(() => []),
    extraHosts: z.array(extraHostSchema).max(configLimits.maxEntries).default(() => []),
    tunnel: tunnelSchema,
    listen: listenSchema,
    hosts: hostsSchema,
  })
  .superRefine((config, ctx) => {
    // Rules that need the whole config: they run once every field is valid.
    let entries
    try {
      entries = hostEntriesForConfig(config)
    } catch (error) {
      if (error instanceof BridgeError) {
        ctx.addIssue({ code: 'custom', path: [], message: error.message, params: { hint: error.hint ?? hints.generic } })
        return
      }
      throw error
    }
    if (config.listen.httpPort === null) {
      const plain = entries.find((entry) => entry.ports.includes(80))
      if (plain !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['listen', 'httpPort'],
          message: `is null, but ${plain.name} is served on port 80 (plain HTTP)`,
          params: { hint: 'Set listen.httpPort (80 by default), or remove the port-80 names (pe-bucket kinds, extraHosts with port 80).' },
        })
      }
    }
    const tunnelHost = config.tunnel.host.toLowerCase()
    if (entries.some((entry) => entry.name === tunnelHost)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tunnel', 'host'],
        message: 'is one of the names this config maps to the tunnel, so the tunnel would dial itself',
        params: { hint: 'Give the proxy ECS by its IP address or another name.' },
      })
    }
  })

/** Compile-time proof that the schema's output is exactly a Config. */
function asConfig(data: z.output<typeof configSchema>): Config {
  return data
}

/**
 * Parses unknown JSON into a Config, filling the defaults. Throws ConfigValidationError (a BridgeError with code
 * INVALID_CONFIG) listing every problem; its message, field and hint describe the first.
 */
export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input)
  if (result.success) return asConfig(result.data)
  throw new ConfigValidationError(toIssues(result.error.issues, input))
}

const secretKeys = new Set(['password', 'passphrase'])

function toIssues(zodIssues: readonly z.core.$ZodIssue[], input: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = []
  for (const issue of zodIssues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ field: formatPath([...issue.path, key]), problem: 'is not a known field', value: quoteString(key), hint: hints.unknownKey })
      }
      continue
    }
    const value = valueAt(input, issue.path)
    const last = issue.path[issue.path.length - 1]
    const shown = value === undefined ? undefined : typeof last === 'string' && secretKeys.has(last) ? '(a hidden value)' : describeValue(value)
    const { problem, hint } = describeIssue(issue, value)
    out.push({ field: formatPath(issue.path), problem, hint, ...(shown === undefined ? {} : { value: shown }) })
  }
  return out
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): { problem: string; hint: string } {
  switch (issue.code) {
    case 'custom': {
      const hint = typeof issue.params?.['hint'] === 'string' ? (issue.params['hint'] as string) : hints.generic
      return { problem: issue.message, hint }
    }
    case 'invalid_type':
      if (value === undefined) return { problem: 'is required', hint: hints.generic }
      return { problem: `must be ${issue.expected === 'array' ? 'a list' : `an ${issue.expected}`}, not ${typeName(value)}`, hint: hints.generic }
    case 'too_big':
      if (issue.origin === 'array') return { problem: `has more than ${String(issue.maximum)} entries`, hint: hints.tooMany }
      return { problem: issue.message, hint: hints.generic }
    default:
      return { problem: issue.message, hint: hints.generic }
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined
    try {
      current = Object.prototype.hasOwnProperty.call(current, segment) ? (current as Record<PropertyKey, unknown>)[segment] : undefined
    } catch {
      return undefined
    }
  }
  return current
}
