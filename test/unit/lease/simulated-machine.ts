// A simulated machine for the lease's unit tests: an Elevator that reads the generated script section by section
// and applies each section to an in-memory network state (loopback aliases, redirect rules, pf enable references)
// and to the real temp files named in an install-file section (compare-and-swap, like the real script). It never
// runs a network command. It can refuse the prompt, fail a section, or "crash" after N sections (the run then never
// returns, like an app killed while its script ran; the staging folder stays behind).

import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Platform } from '../../../electron/core/paths.js'
import type { Elevator, PortRedirect } from '../../../electron/core/privileged/types.js'

export interface MachineState {
  aliases: Set<string>
  redirects: PortRedirect[]
  pfTokens: Set<string>
  flushes: number
}

export interface SimulatedMachine {
  readonly platform: Platform
  readonly state: MachineState
  readonly elevator: Elevator
  /** Every script the elevator was given, in order. */
  readonly scripts: string[]
  /** The section kinds each run performed (e.g. ['loopback-alias add', 'port-redirect-add', 'install-file']). */
  readonly performed: string[][]
  localAddresses(): Promise<string[]>
  /** Refuse the next prompt(s). */
  deny: boolean
  /** Perform this many sections of the next run, then never return (a crash); undefined: run everything. */
  crashAfter: number | undefined
  /** Fail the section whose header starts with this text, with this exit code and stderr line. */
  failSection: { readonly header: string; readonly code: number; readonly stderr: string } | undefined
  /** What a restart does: aliases, rules and pf references are gone; files stay. */
  reboot(): void
  snapshot(): string
}

function scriptPathOf(command: string): string {
  const match = /^\/bin\/sh '([^']+)'$/.exec(command) ?? /-File "([^"]+)"$/.exec(command)
  if (match?.[1] === undefined) throw new Error(`simulated machine: unexpected command ${command}`)
  return match[1]
}

function sectionsOf(script: string): string[][] {
  const normalized = script.replace(/\r\n/g, '\n')
  return normalized
    .split('\n\n')
    .slice(1)
    .map((section) => section.split('\n').filter((line) => line.length > 0))
    .filter((lines) => lines.length > 0 && lines[0] !== 'exit 0')
}

function quoted(lines: readonly string[], pattern: RegExp, what: string): string {
  for (const line of lines) {
    const match = pattern.exec(line)
    if (match?.[1] !== undefined) return match[1]
  }
  throw new Error(`simulated machine: no ${what} in the install-file section`)
}

class SectionFailure extends Error {
  constructor(
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`Command failed: ${stderr}`)
  }
}

export function createSimulatedMachine(platform: Platform): SimulatedMachine {
  const state: MachineState = { aliases: new Set(), redirects: [], pfTokens: new Set(), flushes: 0 }
  let nextToken = 9000000000000000001n
  let currentScript = ''
  const scripts: string[] = []
  const performed: string[][] = []

  function install(lines: readonly string[]): string {
    const [targetFile, expected, source] =
      platform === 'win32'
        ? [
            quoted(lines, /ReadAllText\('([^']+)'/, 'target path file'),
            quoted(lines, /Get-FileHash -LiteralPath '([^']+)'/, 'expected file'),
            quoted(lines, /::Copy\('([^']+)'/, 'source file'),
          ]
        : [
            quoted(lines, /^target=\$\(cat -- '([^']+)'/, 'target path file'),
            quoted(lines, /cmp -s -- '([^']+)'/, 'expected file'),
            quoted(lines, /^cat -- '([^']+)' > "\$tmp"$/, 'source file'),
          ]
    const target = readFileSync(targetFile, 'utf8')
    if (!readFileSync(target).equals(readFileSync(expected))) throw new SectionFailure(75, 'acr-bridge: target-changed')
    writeFileSync(target, readFileSync(source))
    return 'acr-bridge: method=rename\n'
  }

  function perform(lines: readonly string[]): { kind: string; stdout: string } {
    const header = lines[0] ?? ''
    const machine = simulated
    if (machine.failSection !== undefined && header.startsWith(machine.failSection.header)) {
      throw new SectionFailure(machine.failSection.code, machine.failSection.stderr)
    }
    const alias = /^# loopback-alias (add|remove): ([0-9.]+)/.exec(header)
    if (alias !== null) {
      if (alias[1] === 'add') state.aliases.add(alias[2] ?? '')
      else state.aliases.delete(alias[2] ?? '')
      return { kind: `loopback-alias ${alias[1]}`, stdout: '' }
    }
    if (header.startsWith('# port-redirect-add')) {
      const rule =
        platform === 'darwin'
          ? /^rdr pass on lo0 inet proto tcp from any to ([0-9.]+) port (\d+) -> [0-9.]+ port (\d+)$/
          : /^\s*ip daddr ([0-9.]+) tcp dport (\d+) redirect to :(\d+)$/
      state.redirects = lines.flatMap((line) => {
        const match = rule.exec(line)
        return match === null ? [] : [{ address: match[1] ?? '', port: Number(match[2]), toPort: Number(match[3]) }]
      })
      if (platform !== 'darwin') return { kind: 'port-redirect-add', stdout: '' }
      for (const line of lines) {
        const release = /^pfctl -X (\d+) /.exec(line)
        if (release?.[1] !== undefined) state.pfTokens.delete(release[1])
      }
      const token = String(nextToken++)
      state.pfTokens.add(token)
      // Like the real script: the token also goes next to the script, in the staging folder.
      writeFileSync(join(dirname(currentScript), 'pf-token'), `${token}\n`)
      return { kind: 'port-redirect-add', stdout: `acr-bridge: pf-token=${token}\n` }
    }
    if (header.startsWith('# port-redirect-remove')) {
      state.redirects = []
      for (const line of lines) {
        const release = /^pfctl -X (\d+) /.exec(line)
        if (release?.[1] !== undefined) state.pfTokens.delete(release[1])
      }
      return { kind: 'port-redirect-remove', stdout: '' }
    }
    if (header.startsWith('# install-file')) return { kind: 'install-file', stdout: install(lines) }
    if (header.startsWith('# flush-resolver-cache')) {
      state.flushes += 1
      return { kind: 'flush-resolver-cache', stdout: '' }
    }
    throw new Error(`simulated machine: unknown section ${header}`)
  }

  const simulated: SimulatedMachine = {
    platform,
    state,
    scripts,
    performed,
    deny: false,
    crashAfter: undefined,
    failSection: undefined,
    async localAddresses() {
      return ['127.0.0.1', ...state.aliases]
    },
    reboot() {
      state.aliases.clear()
      state.redirects = []
      state.pfTokens.clear()
    },
    snapshot() {
      return JSON.stringify({ aliases: [...state.aliases].sort(), redirects: state.redirects, pfTokens: [...state.pfTokens].sort() })
    },
    elevator: {
      run(command) {
        currentScript = scriptPathOf(command)
        const script = readFileSync(currentScript, 'utf8')
        scripts.push(script)
        if (simulated.deny) return Promise.reject(new Error('User did not grant permission.'))
        const kinds: string[] = []
        performed.push(kinds)
        let stdout = ''
        const sections = sectionsOf(script)
        for (const [index, lines] of sections.entries()) {
          if (simulated.crashAfter !== undefined && index >= simulated.crashAfter) {
            simulated.crashAfter = undefined
            return new Promise(() => {})
          }
          try {
            const result = perform(lines)
            kinds.push(result.kind)
            stdout += result.stdout
          } catch (error) {
            if (error instanceof SectionFailure) {
              return Promise.reject(Object.assign(new Error(error.message), { code: error.code, stdout, stderr: `${error.stderr}\n` }))
            }
            return Promise.reject(error)
          }
        }
        if (simulated.crashAfter !== undefined) {
          simulated.crashAfter = undefined
          return new Promise(() => {})
        }
        return Promise.resolve({ stdout, stderr: '' })
      },
    },
  }
  return simulated
}

/** How many sections (steps) a run of this script performs. */
export function sectionCount(script: string): number {
  return sectionsOf(script).length
}
