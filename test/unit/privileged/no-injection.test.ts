// No value from a config, a hosts file or a hosts path ever reaches the elevated command or its script: hostile
// strings everywhere, the whole path from parseConfig to the Elevator, and none of them in what the Elevator gets.

import fc from 'fast-check'
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hostEntriesForConfig } from '../../../electron/core/catalog/host-entries.js'
import { parseConfig } from '../../../electron/core/config/schema.js'
import { isBridgeError } from '../../../electron/core/errors.js'
import { applyHostsBlock } from '../../../electron/core/hosts/hosts-manager.js'
import { createPrivilegedWriter } from '../../../electron/core/privileged/privileged-writer.js'
import { useCaseFolders } from '../../helpers/case-folders.js'
import { createFakeElevator } from './fake-elevator.js'

const dangerous = [
  "'; touch /tmp/acr-bridge-pwned; '",
  '$(id)',
  '`id`',
  '"; rm -rf ~; "',
  '\n127.0.0.1 evil.example\n',
  '%COMSPEC%',
  '!x!',
  '& calc.exe &',
  "' -or 1 -eq 1 '",
  '中文',
  '\r\n',
  '|| reboot',
  '$HOME',
  '\\',
  '#',
  ' ',
]

/** A hostile string with a unique token inside: if the token shows up in a script, the value leaked. */
const hostile = fc
  .tuple(fc.constantFrom(...dangerous), fc.stringMatching(/^[a-z0-9]{12}$/), fc.constantFrom(...dangerous))
  .map(([before, token, after]) => ({ text: `${before}zq${token}${after}`, token: `zq${token}` }))

const cases = useCaseFolders('acr-bridge-injection-')

describe('no config or file value reaches the privileged command or script', () => {
  it('holds for hostile strings in every field, the hosts file and its path', async () => {
    const reached = { script: 0, executed: 0, acceptedConfig: 0, refusedConfig: 0, refusedEntries: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostile, { minLength: 9, maxLength: 9 }),
        fc.boolean(),
        fc.constantFrom('connect', 'ssh'),
        fc.nat({ max: 7 }),
        async (values, hostileNames, mode, executePick) => {
          const [username, password, keyPath, knownHosts, instance, extra, fileName, comment, userNames] = values.map((value) => value.text)
          const tokens = values.map((value) => value.token)
          const raw = {
            regions: [{ id: 'cn-beijing', endpoints: ['registry-vpc', 'dockerauth-vpc'] }],
            instances: [{ name: hostileNames ? instance : 'myinst', region: 'cn-hangzhou', network: 'vpc' }],
            extraHosts: hostileNames ? [extra] : ['mybucket.oss-cn-beijing-internal.aliyuncs.com'],
            tunnel:
              mode === 'connect'
                ? { mode, host: '203.0.113.10', port: 3128, connect: { username, password } }
                : { mode, host: '203.0.113.10', port: 22, ssh: { username, privateKeyPath: keyPath, knownHostsPath: knownHosts, passphrase: password } },
          }
          let entries
          try {
            entries = hostEntriesForConfig(parseConfig(raw))
            reached.acceptedConfig += 1
          } catch (error) {
            expect(isBridgeError(error, 'INVALID_CONFIG')).toBe(true)
            reached.refusedConfig += 1
            // Free-text fields (credentials, paths) are allowed to be odd; they still must not reach a script:
            // run the rest of the path with the safe part of the config and hostile origins.
            entries = hostEntriesForConfig(parseConfig({ ...raw, instances: [], extraHosts: [], tunnel: { mode: 'sni', host: '203.0.113.10' } })).map(
              (entry) => ({ ...entry, origins: [{ kind: 'enterprise' as const, region: 'cn-hangzhou', instance: instance ?? '', role: 'registry' as const }], unconfirmed: extra }),
            )
          }

          const dir = await cases.next()
          const hostsPath = join(dir, `hosts-${(fileName ?? '').replace(/[/\0]/g, '_')}`)
          const userLine = `10.0.0.1 ${(userNames ?? '').replace(/[\r\n#]/g, ' ')}`
          await fs.writeFile(hostsPath, `# ${comment}\n127.0.0.1 localhost\n${userLine}\n`)
          const execute = executePick === 0
          const elevator = createFakeElevator({ execute })
          const writer = createPrivilegedWriter({ dataDir: join(dir, 'data'), platform: 'linux', elevator, canWriteDirectly: async () => false })
          try {
            await applyHostsBlock({ hostsPath, dataDir: join(dir, 'data'), platform: 'linux', writer, entries, takeOver: true })
            expect(execute).toBe(true)
            expect(await fs.readFile(hostsPath, 'utf8')).toContain('registry-vpc.cn-beijing.aliyuncs.com')
            reached.executed += 1
          } catch (error) {
            expect(isBridgeError(error)).toBe(true)
            expect(execute).toBe(false)
            expect((error as { code: string }).code).toBe('ELEVATION_FAILED')
          }
          expect(elevator.runs).toHaveLength(1)
          reached.script += 1
          for (const run of elevator.runs) {
            for (const token of tokens) {
              expect(run.command).not.toContain(token)
              expect(run.script).not.toContain(token)
            }
            expect(run.script).not.toContain('evil.example')
          }

          // Hostile names themselves are refused before anything is staged.
          const refusing = createFakeElevator()
          const refusal = applyHostsBlock({
            hostsPath,
            dataDir: join(dir, 'data'),
            platform: 'linux',
            writer: createPrivilegedWriter({ dataDir: join(dir, 'data'), platform: 'linux', elevator: refusing, canWriteDirectly: async () => false }),
            entries: [{ address: '127.0.0.1', name: extra ?? '' }],
            takeOver: true,
          })
          await expect(refusal).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
          expect(refusing.runs).toHaveLength(0)
          reached.refusedEntries += 1
          await fs.rm(dir, { recursive: true, force: true })
        },
      ),
      { numRuns: 300 },
    )
    // The property must have exercised both outcomes, not vacuously passed.
    expect(reached.script).toBe(300)
    expect(reached.executed).toBeGreaterThan(5)
    expect(reached.refusedEntries).toBe(300)
    expect(reached.acceptedConfig).toBeGreaterThan(10)
    expect(reached.refusedConfig).toBeGreaterThan(10)
  }, 240_000)
})
