// No config value, hosts-file name or user text reaches the network steps of a privileged script (issue 6):
// (1) the builder renders an address, port or pf token only when it is exactly canonical, and throws otherwise;
// (2) end to end, hostile strings in every config field and in the hosts path go through parseConfig → listen
//     strategy → planSystemChanges → applySystemChanges / revertSystemChanges, and none reaches a script or command.

import fc from 'fast-check'
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hostEntriesForConfig } from '../../../electron/core/catalog/host-entries.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import { isBridgeError } from '../../../electron/core/errors.js'
import { planSystemChanges } from '../../../electron/core/lease/plan.js'
import { applySystemChanges, revertSystemChanges } from '../../../electron/core/lease/system-changes.js'
import { canonicalIpv4, isPort } from '../../../electron/core/platform/addresses.js'
import { chooseListenStrategy } from '../../../electron/core/platform/listen-strategy.js'
import { buildPrivilegedScript } from '../../../electron/core/privileged/script.js'
import type { PrivilegedStep } from '../../../electron/core/privileged/types.js'
import { useCaseFolders } from '../../helpers/case-folders.js'
import { createSimulatedMachine } from '../lease/simulated-machine.js'

const dangerous = ["'; touch /tmp/pwned; '", '$(id)', '`id`', '"; rm -rf ~; "', '\n', '%COMSPEC%', '& calc &', '|| reboot', '$HOME', '\\', '#', ' ', '{', '}', ';', '->']

/** A hostile string with a unique token inside: if the token shows up in a script, the value leaked. */
const hostile = fc
  .tuple(fc.constantFrom(...dangerous), fc.stringMatching(/^[a-z0-9]{12}$/), fc.constantFrom(...dangerous))
  .map(([before, token, after]) => ({ text: `${before}zq${token}${after}`, token: `zq${token}` }))

/** Anything at all where an address, a port or a token is expected. */
const anyValue = fc.oneof(
  fc.string(),
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  fc.integer({ min: -10, max: 70000 }),
  fc.double(),
  fc.constant(undefined),
  hostile.map((value) => value.text),
  fc.tuple(fc.ipV4(), fc.constantFrom(...dangerous)).map(([ip, tail]) => `${ip}${tail}`),
)

describe('the network steps render only canonical values', () => {
  it('throws for anything that is not exactly a dotted-quad IPv4, an integer port or a decimal token', () => {
    let rendered = 0
    let refused = 0
    fc.assert(
      fc.property(
        fc.oneof({ arbitrary: fc.ipV4(), weight: 4 }, { arbitrary: anyValue, weight: 1 }),
        fc.oneof({ arbitrary: fc.integer({ min: 1, max: 65535 }), weight: 4 }, { arbitrary: anyValue, weight: 1 }),
        fc.oneof({ arbitrary: fc.integer({ min: 1, max: 65535 }), weight: 4 }, { arbitrary: anyValue, weight: 1 }),
        fc.oneof({ arbitrary: fc.stringMatching(/^[0-9]{1,20}$/), weight: 4 }, { arbitrary: anyValue, weight: 1 }),
        fc.constantFrom('linux', 'darwin'),
        (address, port, toPort, token, platform) => {
        const steps: PrivilegedStep[] = [
          { kind: 'loopback-alias', action: 'add', address: address as string },
          { kind: 'port-redirect-add', redirects: [{ address: address as string, port: port as number, toPort: toPort as number }], releasePfToken: token as string },
          { kind: 'port-redirect-remove', pfTokens: [token as string] },
        ]
        let script: string
        try {
          script = buildPrivilegedScript(platform, { steps })
        } catch (error) {
          expect(String(error)).toMatch(/privileged script: refusing/)
          refused += 1
          return
        }
        rendered += 1
        expect(canonicalIpv4(address)).toBe(address)
        expect(isPort(port) && isPort(toPort)).toBe(true)
        if (platform === 'darwin') expect(typeof token === 'string' && /^[0-9]{1,20}$/.test(token)).toBe(true)
        else expect(script).not.toContain('pfctl')
        // The only command substitutions are the script's own.
        for (const match of script.matchAll(/\$\(([a-z]+)/g)) expect(['ip', 'pfctl', 'printf', 'ifconfig']).toContain(match[1])
        expect(script).not.toContain('`')
        },
      ),
      { numRuns: 2000 },
    )
    expect(refused).toBeGreaterThan(200)
    expect(rendered).toBeGreaterThan(200)
  })
})

const cases = useCaseFolders('acr-bridge-injection-net-')

describe('no config or file value reaches the apply or revert script', () => {
  it('holds for hostile strings in every field and the hosts path, on Linux and macOS, for every engine', async () => {
    const reached = { runs: 0, accepted: 0, refused: 0, withRedirect: 0, withAlias: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostile, { minLength: 7, maxLength: 7 }),
        fc.constantFrom('linux', 'darwin'),
        fc.constantFrom('native', 'docker-desktop', 'rootless-docker', 'colima'),
        fc.constantFrom('127.0.0.1', '198.19.82.17', '10.200.10.1', '::1'),
        fc.boolean(),
        fc.boolean(),
        async (values, platform, engine, listenAddress, overrideAddress, hostileNames) => {
          const [username, password, keyPath, instance, extra, fileName, comment] = values.map((value) => value.text)
          const tokens = values.map((value) => value.token)
          const raw = {
            regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc'] }],
            instances: [{ name: hostileNames ? instance : 'myinst', region: 'cn-hangzhou', network: 'vpc' }],
            extraHosts: [hostileNames ? extra : 'mybucket.oss-cn-beijing-internal.aliyuncs.com'],
            tunnel: { mode: 'ssh', host: '203.0.113.10', port: 22, ssh: { username, privateKeyPath: keyPath, passphrase: password } },
            listen: { address: listenAddress, port: 443, httpPort: 80 },
          }
          let config
          try {
            config = parseConfig(raw)
            reached.accepted += 1
          } catch (error) {
            expect(isBridgeError(error, 'INVALID_CONFIG')).toBe(true)
            reached.refused += 1
            // Refused (hostile names or free text): go on with the safe part, the hosts path and file stay hostile.
            config = parseConfig({ ...raw, instances: [], extraHosts: [], tunnel: { mode: 'sni', host: '203.0.113.10' } })
          }
          const strategy = chooseListenStrategy({
            platform,
            engines: [engine],
            isPrivileged: false,
            unprivilegedPortStart: 1024,
            ports: { tls: config.listen.port, http: config.listen.httpPort },
            // alias: true only where it can work: an IPv6 address with it is refused (INVALID_CONFIG, listen.alias).
            ...(overrideAddress ? { overrides: { address: config.listen.address, ...(canonicalIpv4(config.listen.address) === undefined ? {} : { alias: true }) } } : {}),
          })
          const dir = await cases.next()
          const hostsPath = join(dir, `hosts-${(fileName ?? '').replace(/[/\0]/g, '_')}`)
          await fs.writeFile(hostsPath, `# ${comment}\n127.0.0.1 localhost\n`)
          const plan = planSystemChanges({
            strategy,
            bound: { port: 38211, httpPort: 40111 },
            names: hostEntriesForConfig(config),
            hostsPath,
            takeOver: false,
            flushResolverCache: false,
          })
          if ((plan.redirects?.length ?? 0) > 0) reached.withRedirect += 1
          if (plan.alias !== undefined) reached.withAlias += 1
          const machine = createSimulatedMachine(platform)
          const deps = {
            dataDir: join(dir, 'data'),
            platform,
            elevator: machine.elevator,
            canWriteDirectly: async () => false,
            localAddresses: () => machine.localAddresses(),
            bootMark: async () => ({ time: 1 }),
            verifyDelayMs: 0,
          }
          await applySystemChanges(plan, deps)
          await revertSystemChanges(deps)
          expect(await fs.readFile(hostsPath, 'utf8')).toBe(`# ${comment}\n127.0.0.1 localhost\n`)
          expect(machine.scripts.length).toBeGreaterThanOrEqual(2)
          reached.runs += 1
          for (const script of machine.scripts) {
            for (const token of tokens) expect(script).not.toContain(token)
            expect(script).not.toContain(hostsPath)
          }
          await fs.rm(dir, { recursive: true, force: true })
        },
      ),
      { numRuns: 120 },
    )
    expect(reached.runs).toBe(120)
    expect(reached.accepted).toBeGreaterThan(0)
    expect(reached.refused).toBeGreaterThan(10)
    expect(reached.withRedirect).toBeGreaterThan(10)
    expect(reached.withAlias).toBeGreaterThan(10)
  }, 240_000)
})
