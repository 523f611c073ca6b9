import { hostEntriesForConfig } from '../../core/catalog/index.js'
import { addExtraHosts, loadConfig, resolveSecrets, saveConfig, type ExtraHost } from '../../core/config/index.js'
import { describeTarget, discoverHosts, findRegistryCredentials, parseRepositoryRef } from '../../core/discovery/index.js'
import { BridgeError } from '../../core/errors.js'
import { nameRole } from '../../core/probes/index.js'
import { createDialerForConfig } from '../../core/session/create-dialer.js'
import { booleanFlag, requiredFlag, stringFlag, usage } from '../args.js'
import { print, type CliIo } from '../context.js'
import type { Command } from '../run.js'

const maxPasswordBytes = 64 * 1024

export const discoverCommand: Command = {
  name: 'discover',
  summary: 'run a real pull flow through the tunnel and list the hosts it touches; --save adds the missing ones',
  usage: 'acr-bridge discover --config F --repo NS/NAME [--username U --password-stdin] [--save]',
  flags: { config: 'string', repo: 'string', username: 'string', 'password-stdin': 'boolean', save: 'boolean' },
  async run(args, { io, homeDir, logger }) {
    const configPath = requiredFlag(args, 'config', 'discover')
    const ref = parseRepositoryRef(requiredFlag(args, 'repo', 'discover'))
    const username = stringFlag(args, 'username')
    const passwordStdin = booleanFlag(args, 'password-stdin')
    if (passwordStdin && username === undefined) throw usage('--password-stdin needs --username', 'discover')
    const stdinIsTty = (io.stdin as { isTTY?: boolean }).isTTY === true
    if (username !== undefined && !passwordStdin && !stdinIsTty) throw usage('--username needs --password-stdin (or a terminal to type the password in)', 'discover')

    const config = await loadConfig(configPath)
    const entries = hostEntriesForConfig(config)
    const registry = ref.registry ?? onlyRegistry(entries.filter((e) => nameRole(e) === 'registry' && e.ports.includes(443)).map((e) => e.name))

    let explicit: { username: string; password: string } | undefined
    if (username !== undefined) {
      const password = passwordStdin ? await readPasswordFromStdin(io) : await promptLine(io, `Password for ${username}: `, false)
      if (password === undefined || password === '') throw usage('the password is empty', 'discover')
      explicit = { username, password }
    }
    const credentials = await findRegistryCredentials({
      registry,
      env: io.env,
      homeDir,
      logger,
      ...(explicit === undefined ? {} : { explicit }),
      ...(stdinIsTty ? { prompt: () => promptCredentials(io) } : {}),
    })

    const resolved = resolveSecrets(config, io.env)
    const dialer = await createDialerForConfig(resolved, { env: io.env, homeDir, logger })
    const tunnel = resolved.tunnel
    print(io, `acr-bridge discover: pulling ${registry}/${ref.repository}:${ref.reference} through the tunnel (${tunnel.mode} via ${tunnel.host}:${tunnel.port})`)
    print(io, credentials === undefined ? 'credentials: none (trying anonymously)' : `credentials: from the ${credentials.source}`)
    let report
    try {
      report = await discoverHosts({
        dialer,
        entries,
        registry,
        repository: ref.repository,
        reference: ref.reference,
        logger,
        ...(credentials === undefined ? {} : { credentials: { username: credentials.username, password: credentials.password } }),
      })
    } finally {
      await dialer.close().catch(() => undefined)
    }

    print(io, 'hosts the pull touches:')
    const width = Math.max(...report.hosts.map((h) => describeTarget({ scheme: h.scheme, host: h.name, port: h.port }).length))
    for (const host of report.hosts) {
      const url = describeTarget({ scheme: host.scheme, host: host.name, port: host.port })
      print(io, `  ${host.covered ? '✓' : '✗'} ${url.padEnd(width)}  ${host.role.padEnd(8)}  ${host.covered ? 'covered' : 'NOT covered'}`)
    }
    if (report.blob?.servedBy === 'registry') print(io, '  (the registry serves blobs itself: no redirect)')

    const savable = report.missing.filter((h) => h.port === 443 || h.port === 80)
    for (const host of report.missing.filter((h) => !savable.includes(h))) {
      print(io, `note: ${host.name} is used on port ${host.port}, which the tunnel does not carry (only 443 and 80)`)
    }
    let saved = false
    if (savable.length > 0) {
      if (booleanFlag(args, 'save')) {
        const additions: ExtraHost[] = savable.map((h) => (h.port === 443 ? h.name : { name: h.name, ports: [h.port] }))
        await saveConfig(configPath, addExtraHosts(config, additions))
        saved = true
        print(io, `saved to extraHosts in ${configPath}: ${savable.map((h) => (h.port === 443 ? h.name : `${h.name} (port ${h.port})`)).join(', ')}`)
        print(io, 'Restart `acr-bridge up` (or apply the hosts block again) so the tunnel and the hosts file serve them.')
      } else {
        print(io, `not covered: ${savable.map((h) => h.name).join(', ')}; run again with --save to add ${savable.length === 1 ? 'it' : 'them'} to extraHosts.`)
      }
    } else if (report.incomplete === undefined && report.missing.length === 0) {
      print(io, 'Every host the pull touches is covered.')
    }
    if (report.incomplete !== undefined) {
      // what was found is listed (and saved with --save); the flow itself stopped early
      throw new BridgeError(report.incomplete.code, report.incomplete.message, { hint: report.incomplete.hint })
    }
    return report.missing.length === 0 || (saved && savable.length === report.missing.length) ? 0 : 1
  },
}

function onlyRegistry(names: readonly string[]): string {
  if (names.length === 1) return names[0] as string
  if (names.length === 0) {
    throw new BridgeError('USAGE', 'The config maps no registry name, and --repo does not name one.', {
      hint: 'Give the registry in --repo: --repo registry-vpc.<region>.aliyuncs.com/NAMESPACE/NAME.',
    })
  }
  throw new BridgeError('USAGE', `The config maps ${names.length} registry names (${names.join(', ')}); --repo must say which one.`, {
    hint: `Give the registry in --repo, e.g. --repo ${names[0]}/NAMESPACE/NAME.`,
  })
}

/** `docker login --password-stdin`: everything on stdin, less one trailing line break. */
async function readPasswordFromStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of io.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer)
    size += buf.length
    if (size > maxPasswordBytes) throw usage('the password on stdin is longer than 64 KiB', 'discover')
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\n$/, '').replace(/\r$/, '')
}

async function promptCredentials(io: CliIo): Promise<{ username: string; password: string } | undefined> {
  const username = await promptLine(io, 'Registry username (empty: go on without): ', true)
  if (username === undefined || username === '') return undefined
  const password = await promptLine(io, 'Password: ', false)
  if (password === undefined || password === '') return undefined
  return { username, password }
}

/** One line from a terminal, echoed or not; undefined when stdin is not a terminal or input ends. Ctrl-C aborts. */
function promptLine(io: CliIo, question: string, echo: boolean): Promise<string | undefined> {
  const stdin = io.stdin as NodeJS.ReadStream
  if (stdin.isTTY !== true || typeof stdin.setRawMode !== 'function') return Promise.resolve(undefined)
  io.stderr.write(question)
  return new Promise((resolve, reject) => {
    let line = ''
    const done = (value: string | undefined, error?: Error): void => {
      stdin.off('data', ondata)
      stdin.off('end', onend)
      stdin.setRawMode(false)
      stdin.pause()
      io.stderr.write('\n')
      if (error !== undefined) reject(error)
      else resolve(value)
    }
    const onend = (): void => done(undefined)
    const ondata = (data: Buffer | string): void => {
      for (const ch of typeof data === 'string' ? data : data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(line)
        if (ch === '\u0003') return done(undefined, new BridgeError('USAGE', 'Interrupted.', { hint: 'Run the command again.' }))
        if (ch === '\u0004') return done(line)
        if (ch === '\u007f' || ch === '\b') {
          if (line.length > 0) {
            line = line.slice(0, -1)
            if (echo) io.stderr.write('\b \b')
          }
          continue
        }
        line += ch
        if (echo) io.stderr.write(ch)
      }
    }
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', ondata)
    stdin.on('end', onend)
  })
}
