// The test host on its own, for development (never for end users): serves the built renderer at a loopback URL
// with the real core behind it, on a temporary hosts file, until Ctrl-C (which runs the quit sequence: the tunnel
// stops and the hosts block is reverted, then the temp folder is removed).
//
//   npm run build:renderer
//   node --import jiti/register test/e2e/host/run.ts [--config FILE] [--hosts-file FILE]
//
// --config: the saved config to start with (the config format); its `tunnel` and `listen` are replaced by the
// host's own relay and free ports. --hosts-file: the temp hosts file starts as a copy of FILE (FILE is only read).

import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { defaultConfig, startTestHost } from './test-host.js'

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, 'hosts-file': { type: 'string' } } })
  const config = values.config === undefined ? undefined : (JSON.parse(await readFile(values.config, 'utf8')) as Record<string, unknown>)
  const hostsFile = values['hosts-file'] === undefined ? undefined : await readFile(values['hosts-file'])

  const host = await startTestHost({
    ...(config === undefined ? {} : { config: (peers) => ({ ...config, ...(defaultConfig(peers) as { tunnel: unknown; listen: unknown }), regions: config['regions'] ?? [] }) }),
    ...(hostsFile === undefined ? {} : { hostsFile }),
    echoLog: (line) => process.stderr.write(`${line}\n`),
  })
  process.stdout.write(`ACR Bridge test host: open ${host.url}\n  hosts file ${host.hostsPath}\n  Ctrl-C quits (reverting the hosts block)\n`)

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    void host.cleanup().then(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  process.on('uncaughtException', (error) => host.quitSequence.onFatal('uncaughtException', error))
  process.on('unhandledRejection', (error) => host.quitSequence.onFatal('unhandledRejection', error))
  void host.exited.then((code) => {
    if (!stopping) void host.cleanup().then(() => process.exit(code))
  })
}

main().catch((error: unknown) => {
  process.stderr.write(`test host: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
