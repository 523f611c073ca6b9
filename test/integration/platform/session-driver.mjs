// The session controller of the built core as a process, for the resume test: run as nobody (setpriv) with the REAL
// sudo-prompt elevator (whose pkexec the test replaces). It connects — with { resumeStaleLease } when asked, as the
// app does with "Connect at start" — prints one JSON line ({"connected":…} or {"error":…}), and disconnects on
// SIGINT/SIGTERM, printing {"disconnected":…}. The container engine list is given (a rootless engine: the strategy
// puts an alias outside 127/8 on lo, as for a VM engine); everything else is the product's default.
// Usage: node session-driver.mjs <built core dir> '{"config":…,"dataDir":…,"resume":bool}'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [coreDir, json] = process.argv.slice(2)
const options = JSON.parse(json ?? '{}')
const load = (path) => import(pathToFileURL(join(coreDir, path)).href)
const { createSessionController } = await load('session/controller.js')
const { parseConfig } = await load('config/schema.js')
const { createSudoPromptElevator } = await load('privileged/sudo-prompt-elevator.js')

const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`)
const log = (level) => (message, error) => process.stderr.write(`${level} ${message}${error === undefined ? '' : ` ${error?.message ?? error}`}\n`)
const logger = { error: log('error'), warn: log('warn'), info: log('info'), debug: () => {} }

const controller = createSessionController({
  config: parseConfig(options.config),
  hostsPath: '/etc/hosts',
  dataDir: options.dataDir,
  platform: 'linux',
  env: {},
  homeDir: options.dataDir,
  elevator: createSudoPromptElevator(),
  detectEngines: async () => options.engines ?? ['rootless-docker'],
  logger,
  drainMs: 0,
})

try {
  await controller.connect({ resumeStaleLease: options.resume === true })
} catch (error) {
  say({ error: { code: error?.code ?? 'BUG', message: String(error?.message ?? error) } })
  process.exit(1)
}
const listening = controller.listening()
say({ connected: true, pid: process.pid, uid: process.getuid(), bound: listening.bound, hostsAddress: listening.strategy.hostsAddress })

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  try {
    await controller.disconnect()
    say({ disconnected: true })
    process.exit(0)
  } catch (error) {
    say({ error: { code: error?.code ?? 'BUG', message: String(error?.message ?? error) } })
    process.exit(1)
  }
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
setInterval(() => {}, 1 << 30)
