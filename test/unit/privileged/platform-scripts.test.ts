// The one apply script and the one revert script per OS and container engine (golden files, reviewed by hand),
// shellcheck on every POSIX one, and the guards that keep anything but canonical values out of them.
// UPDATE_GOLDEN=1 rewrites the golden files; read the diff before committing it.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { renderNftRuleset, renderPfRules, parsePfToken } from '../../../electron/core/privileged/network-steps.js'
import { buildPrivilegedScript } from '../../../electron/core/privileged/script.js'
import type { PrivilegedStep } from '../../../electron/core/privileged/types.js'
import { goldenName, platformScenarios, scenarioPlans, strategyFor, vmEngines } from './platform-plans.js'

const goldenDir = fileURLToPath(new URL('./__golden__/platforms/', import.meta.url))
const update = process.env['UPDATE_GOLDEN'] === '1'

function shellcheck(script: string): { status: number; output: string } {
  try {
    const output = execFileSync('shellcheck', ['--shell=sh', '--severity=style', '--format=gcc', '-'], { input: script, encoding: 'utf8' })
    return { status: 0, output }
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { status?: number; stdout?: string }
    if (failure.code === 'ENOENT') throw new Error('shellcheck is not installed: it is required to check the generated POSIX scripts')
    return { status: failure.status ?? -1, output: failure.stdout ?? String(error) }
  }
}

function matchGolden(name: string, text: string): void {
  const path = join(goldenDir, name)
  if (update) {
    mkdirSync(goldenDir, { recursive: true })
    writeFileSync(path, text)
  }
  if (!existsSync(path)) throw new Error(`golden file ${name} is missing: run with UPDATE_GOLDEN=1 and review it`)
  expect(text).toBe(readFileSync(path, 'utf8'))
}

describe('apply and revert scripts per OS and engine', () => {
  for (const scenario of platformScenarios) {
    for (const direction of ['apply', 'revert'] as const) {
      const name = goldenName(scenario, direction)
      it(`matches ${name}`, () => {
        matchGolden(name, buildPrivilegedScript(scenario.platform, scenarioPlans(scenario)[direction]))
      })
      if (scenario.platform !== 'win32') {
        it(`${name} passes shellcheck`, () => {
          const result = shellcheck(buildPrivilegedScript(scenario.platform, scenarioPlans(scenario)[direction]))
          expect(result.output).toBe('')
          expect(result.status).toBe(0)
        })
      }
    }
  }

  it('every VM engine gets the same scripts on the same OS (they all dial from a VM)', () => {
    for (const platform of ['darwin', 'linux', 'win32'] as const) {
      const reference = scenarioPlans({ name: 'x', platform, engines: ['docker-desktop'], isPrivileged: false })
      for (const engine of vmEngines) {
        const plans = scenarioPlans({ name: 'x', platform, engines: [engine], isPrivileged: false })
        expect(buildPrivilegedScript(platform, plans.apply)).toBe(buildPrivilegedScript(platform, reference.apply))
        expect(buildPrivilegedScript(platform, plans.revert)).toBe(buildPrivilegedScript(platform, reference.revert))
      }
    }
  })

  it('the steps are where the decision table says (order: alias, redirect, hosts; revert the reverse)', () => {
    const kinds = (name: string, direction: 'apply' | 'revert'): string[] => {
      const scenario = platformScenarios.find((s) => s.name === name)
      if (scenario === undefined) throw new Error(name)
      return scenarioPlans(scenario)[direction].steps.map((step) => (step.kind === 'loopback-alias' ? `alias-${step.action}` : step.kind))
    }
    expect(kinds('linux-rootless-docker-user', 'apply')).toEqual(['alias-add', 'port-redirect-add', 'install-file', 'flush-resolver-cache'])
    expect(kinds('linux-rootless-docker-user', 'revert')).toEqual(['install-file', 'flush-resolver-cache', 'port-redirect-remove', 'alias-remove'])
    expect(kinds('linux-native-user', 'apply')).toEqual(['port-redirect-add', 'install-file', 'flush-resolver-cache'])
    expect(kinds('linux-native-root', 'apply')).toEqual(['install-file', 'flush-resolver-cache'])
    expect(kinds('darwin-docker-desktop-root', 'apply')).toEqual(['alias-add', 'install-file', 'flush-resolver-cache'])
    expect(kinds('win32-docker-desktop', 'apply')).toEqual(['install-file', 'flush-resolver-cache'])
    expect(strategyFor({ platform: 'win32', engines: ['docker-desktop'], isPrivileged: false }).hostsAddress).toBe('192.168.1.23')
  })

  it('shellcheck really checks: a broken script fails', () => {
    expect(shellcheck('#!/bin/sh\nrm $1\n').status).not.toBe(0)
  })
})

describe('the guards of the network steps', () => {
  const redirect = { address: '127.0.0.1', port: 443, toPort: 38211 }

  it('renders rules only from canonical values', () => {
    expect(renderNftRuleset([redirect])).toContain('\t\tip daddr 127.0.0.1 tcp dport 443 redirect to :38211')
    expect(renderPfRules([redirect])).toEqual(['rdr pass on lo0 inet proto tcp from any to 127.0.0.1 port 443 -> 127.0.0.1 port 38211'])
    for (const address of ['127.0.0.01', '::1', '127.0.0.1; reboot', '127.0.0.1\n', '1.2.3.4/32', '']) {
      expect(() => renderNftRuleset([{ ...redirect, address }])).toThrow(/canonical IPv4/)
    }
    for (const port of [0, 65536, 1.5, Number.NaN, -1]) {
      expect(() => renderPfRules([{ ...redirect, port }])).toThrow(/integer port/)
      expect(() => renderPfRules([{ ...redirect, toPort: port }])).toThrow(/integer port/)
    }
    expect(() => renderNftRuleset([])).toThrow(/at least one/)
  })

  it('refuses a pf token that is not digits, and every network step on Windows', () => {
    const bad: PrivilegedStep[] = [
      { kind: 'port-redirect-remove', pfTokens: ['15', '1; pfctl -d'] },
      { kind: 'port-redirect-add', redirects: [redirect], releasePfToken: '$(id)' },
    ]
    for (const step of bad) expect(() => buildPrivilegedScript('darwin', { steps: [step] })).toThrow(/pf token/)
    for (const step of [
      { kind: 'loopback-alias', action: 'add', address: '198.19.82.17' },
      { kind: 'port-redirect-add', redirects: [redirect] },
      { kind: 'port-redirect-remove' },
    ] as PrivilegedStep[]) {
      expect(() => buildPrivilegedScript('win32', { steps: [step] })).toThrow(/not used on Windows/)
    }
  })

  it('reads the pf token the script prints', () => {
    expect(parsePfToken('acr-bridge: method=rename\nacr-bridge: pf-token=15671782873491853291\n')).toBe('15671782873491853291')
    expect(parsePfToken('acr-bridge: pf-token=\n')).toBeUndefined()
    expect(parsePfToken('acr-bridge: pf-token=12 34\n')).toBeUndefined()
  })
})
