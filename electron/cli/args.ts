import { BridgeError } from '../core/errors.js'

/** How one flag is taken: a switch, a value, or a value that may repeat. */
export type FlagKind = 'boolean' | 'string' | 'repeat'

export type FlagSpec = Readonly<Record<string, FlagKind>>

export interface ParsedArgs {
  readonly flags: Readonly<Record<string, string | boolean | readonly string[] | undefined>>
}

/**
 * Strict parser for `--flag value`, `--flag=value` and `--switch`. Anything not in the spec (unknown flags, stray
 * positional words, a value flag without its value) is a USAGE error naming the offending word.
 */
export function parseArgs(command: string, argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags: Record<string, string | boolean | string[] | undefined> = {}
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string
    if (!word.startsWith('--')) {
      throw usage(`unexpected argument ${JSON.stringify(word)}`, command)
    }
    const eq = word.indexOf('=')
    const name = eq === -1 ? word.slice(2) : word.slice(2, eq)
    const kind = spec[name]
    if (kind === undefined) throw usage(`unknown option --${name}`, command)
    if (kind === 'boolean') {
      if (eq !== -1) throw usage(`--${name} takes no value`, command)
      flags[name] = true
      continue
    }
    let value: string | undefined
    if (eq !== -1) {
      value = word.slice(eq + 1)
    } else {
      value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw usage(`--${name} needs a value`, command)
      i++
    }
    if (value === '') throw usage(`--${name} needs a non-empty value`, command)
    if (kind === 'string') {
      if (flags[name] !== undefined) throw usage(`--${name} given twice`, command)
      flags[name] = value
    } else {
      const list = (flags[name] as string[] | undefined) ?? []
      list.push(value)
      flags[name] = list
    }
  }
  return { flags }
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags[name]
  return typeof value === 'string' ? value : undefined
}

export function requiredFlag(args: ParsedArgs, name: string, command: string): string {
  const value = stringFlag(args, name)
  if (value === undefined) throw usage(`--${name} is required`, command)
  return value
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true
}

export function repeatFlag(args: ParsedArgs, name: string): readonly string[] {
  const value = args.flags[name]
  return Array.isArray(value) ? value : []
}

export function usage(message: string, command?: string): BridgeError {
  return new BridgeError('USAGE', message, {
    hint: command === undefined ? 'run `acr-bridge help` for the commands' : `run \`acr-bridge help\` for the usage of ${command}`,
  })
}
