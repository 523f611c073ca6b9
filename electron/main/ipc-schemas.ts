// Payload validators for every invoke channel. Config payloads go through the core's config parser (the same rules
// as --config: unknown keys, bad names, bad ports → INVALID_CONFIG naming the field); the rest through zod.

import { z } from 'zod'
import {
  languageSettings,
  secretNames,
  themeSettings,
  type InvokeChannel,
  type InvokeRequest,
} from '../common/ipc-contract.js'
import type { Config } from '../core/config/types.js'
import { BridgeError } from '../core/errors.js'
import type { Validator } from './ipc.js'

export type ParseConfig = (input: unknown) => Config

export type Validators = { readonly [C in InvokeChannel]: Validator<InvokeRequest<C>> }

/** Channels without a request accept nothing (a stray argument is a caller bug worth seeing). */
function noPayload(channel: string): Validator<void> {
  return (input) => {
    if (input !== undefined) throw new BridgeError('USAGE', `${channel} takes no argument.`, { hint: 'Call it without arguments.' })
  }
}

function fromSchema<T>(channel: string, schema: z.ZodType<T>): Validator<T> {
  return (input) => {
    const parsed = schema.safeParse(input)
    if (parsed.success) return parsed.data
    const issue = parsed.error.issues[0]
    const field = issue === undefined || issue.path.length === 0 ? undefined : issue.path.map(String).join('.')
    throw new BridgeError('USAGE', `The ${channel} request is not valid${field === undefined ? '' : ` at ${field}`}: ${issue?.message ?? 'unknown problem'}.`, {
      hint: 'This is a bug in the window; reload it (View → Reload) and try again.',
      ...(field === undefined ? {} : { field }),
    })
  }
}

const noControlChars = (value: string): boolean => !/[\u0000-\u001f\u007f]/.test(value)

const configSetEnvelope = z.strictObject({
  config: z.unknown(),
  clearSecrets: z.array(z.enum(secretNames)).max(secretNames.length).optional(),
})

const previewEnvelope = z.strictObject({ config: z.unknown().optional() })

const discoverSchema = z.strictObject({
  repository: z.string().min(1).max(256).refine(noControlChars, 'must not contain control characters').refine((v) => !/\s/.test(v), 'must not contain spaces'),
  username: z.string().max(256).refine(noControlChars, 'must not contain control characters').optional(),
  password: z.string().max(8192).optional(),
  reference: z.string().min(1).max(256).refine((v) => !/\s/.test(v), 'must not contain spaces').optional(),
})

const logTailSchema = z.strictObject({ limit: z.number().int().min(1).max(1000).optional() })

/** The values an SSH_HOST_KEY_UNKNOWN error's details carry; main checks the fingerprint against the key itself. */
const trustHostKeySchema = z.strictObject({
  host: z.string().min(1).max(253).regex(/^[A-Za-z0-9._:%-]+$/, 'must be a host name or address'),
  port: z.number().int().min(1).max(65535),
  keyType: z.string().regex(/^[A-Za-z0-9@._+-]{1,64}$/, 'must be an SSH key type'),
  key: z.string().min(16).max(16384).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
  fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be a SHA256 fingerprint'),
})

/** Bounded: the window may report its errors, not fill the log. */
const logWriteSchema = z.strictObject({
  level: z.enum(['error', 'warn']),
  message: z.string().max(4096),
  source: z.string().max(1024).optional(),
  stack: z.string().max(16384).optional(),
})

const settingsPatchSchema = z.strictObject({
  startAtLogin: z.boolean().optional(),
  language: z.enum(languageSettings).optional(),
  theme: z.enum(themeSettings).optional(),
  notifications: z.boolean().optional(),
  connectAtStart: z.boolean().optional(),
})

/** Runs a config through the core parser; only a BridgeError (INVALID_CONFIG) or a bug can come out. */
function configFrom(parseConfig: ParseConfig, input: unknown): Config {
  return parseConfig(input)
}

export function createValidators(parseConfig: ParseConfig): Validators {
  const configSet = fromSchema('config:set', configSetEnvelope)
  const preview = fromSchema('hosts:preview', previewEnvelope)
  return {
    'catalog:get': noPayload('catalog:get'),
    'config:get': noPayload('config:get'),
    'config:set': (input) => {
      const envelope = configSet(input)
      const config = configFrom(parseConfig, envelope.config)
      return envelope.clearSecrets === undefined ? { config } : { config, clearSecrets: envelope.clearSecrets }
    },
    'hosts:preview': (input) => {
      const envelope = preview(input === undefined ? {} : input)
      return envelope.config === undefined ? {} : { config: configFrom(parseConfig, envelope.config) }
    },
    'session:connect': noPayload('session:connect'),
    'session:disconnect': noPayload('session:disconnect'),
    'session:state': noPayload('session:state'),
    'diagnostics:run': noPayload('diagnostics:run'),
    'discover:run': stripUndefined(fromSchema('discover:run', discoverSchema)),
    'lease:find': noPayload('lease:find'),
    'lease:revert': noPayload('lease:revert'),
    'log:tail': (input) => stripUndefined(fromSchema('log:tail', logTailSchema))(input === undefined ? {} : input),
    'log:write': stripUndefined(fromSchema('log:write', logWriteSchema)),
    'ssh:trust-host-key': fromSchema('ssh:trust-host-key', trustHostKeySchema),
    'profile:export': noPayload('profile:export'),
    'profile:import': noPayload('profile:import'),
    'app:settings': noPayload('app:settings'),
    'app:set-settings': stripUndefined(fromSchema('app:set-settings', settingsPatchSchema)),
    'app:info': noPayload('app:info'),
  }
}

function stripUndefined<T extends object>(validate: Validator<T>): Validator<T> {
  return (input) => {
    const value = validate(input)
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
  }
}
