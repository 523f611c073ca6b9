// The test's "polkit" for tests that run product code as an ordinary user with the REAL @vscode/sudo-prompt
// elevator: in the product process's private mount namespace an overlay puts fake-pkexec.mjs at /usr/bin/pkexec
// (see nobodyCommand); it hands its arguments to this root process on a Unix socket, which authorizes every request
// of the exact shape sudo-prompt makes (a script under the test's work folder) and runs it as root inside the
// test's network namespace. Same scheme as up-unprivileged.test.ts (docs/platforms.md).

import { spawnSync } from 'node:child_process'
import { promises as fs, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNamespace, snapshot, type Namespace, type SystemSnapshot } from './netns.js'
import { startOrigin } from './processes.js'

const here = dirname(fileURLToPath(import.meta.url))
/** The uid and gid the product runs as in these tests. */
export const nobody = 65534

export interface Authorization {
  readonly uid: number
  readonly command: string
  readonly script: string
}

export interface Polkit {
  /** Every authorized request, in order. */
  readonly authorizations: Authorization[]
  /** Where requests run (root inside this namespace); undefined refuses them. */
  active: Namespace | undefined
  /** `[file, args]` running `args` as nobody (uid 65534) in a private mount namespace whose pkexec is the stand-in. */
  nobodyCommand(args: readonly string[]): [string, string[]]
  close(): Promise<void>
}

/** Starts the polkit on `<work>/polkit.sock` and writes the pkexec wrapper to `<work>/fake-bin`. `work` must be 0755. */
export async function startPolkit(work: string, options: { readonly path: string }): Promise<Polkit> {
  const socketPath = join(work, 'polkit.sock')
  const fakeBin = join(work, 'fake-bin')
  const polkit: Polkit = {
    authorizations: [],
    active: undefined,
    nobodyCommand: (args) => [
      'unshare',
      [
        '--mount', '--propagation', 'private', '--', 'sh', '-c',
        'mount -t overlay overlay -o lowerdir="$1":/usr/bin /usr/bin && shift && exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"',
        'sh', fakeBin, ...args,
      ],
    ],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  // Half-open: the client ends its request and waits for the answer on the same connection.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    let request = ''
    socket.setEncoding('utf8')
    socket.on('error', () => {})
    socket.on('data', (chunk: string) => (request += chunk))
    socket.on('end', () => {
      void (async () => {
        const reply = (code: number, stdout: string, stderr: string): void => void socket.end(JSON.stringify({ code, stdout, stderr }))
        try {
          const { args, uid } = JSON.parse(request) as { args: string[]; uid: number }
          const command = args[3] ?? ''
          const script = /^echo SUDOPROMPT; \/bin\/sh '([^']+)'$/.exec(command)?.[1]
          if (args.length !== 4 || args[0] !== '--disable-internal-agent' || args[1] !== '/bin/bash' || args[2] !== '-c' || script === undefined || !script.startsWith(`${work}/`)) {
            reply(127, '', `test polkit: refusing ${JSON.stringify(args)}\n`)
            return
          }
          const namespace = polkit.active
          if (namespace === undefined) {
            reply(127, '', 'test polkit: no namespace\n')
            return
          }
          polkit.authorizations.push({ uid, command, script: await fs.readFile(script, 'utf8') })
          // HOME elsewhere: bash reads ~/.bashrc when its stdin is a socket, and root's is not this test's business.
          const result = await namespace.exec('/bin/bash', ['-c', command], { env: { PATH: options.path, HOME: '/nonexistent' } })
          reply(result.code ?? 1, result.stdout, result.stderr)
        } catch (error) {
          reply(127, '', `test polkit: ${(error as Error).message}\n`)
        }
      })()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  try {
    await fs.chmod(socketPath, 0o666)
    // The overlay's upper layer: a folder holding only `pkexec` (a fixed two-line wrapper of test paths).
    await fs.mkdir(fakeBin, { mode: 0o755 })
    await fs.writeFile(join(fakeBin, 'pkexec'), `#!/bin/sh\nexec '${process.execPath}' '${join(here, 'fake-pkexec.mjs')}' '${socketPath}' "$@"\n`, { mode: 0o755 })
  } catch (error) {
    await polkit.close()
    throw error
  }
  return polkit
}

/** Fails (never skips) when this machine cannot run a test of product code as nobody behind the stand-in pkexec. */
export function requireUnprivilegedTestTools(test: string): void {
  const missing = ['nft', 'iptables-save', 'ip', 'setpriv', 'unshare', 'mount', 'curl', 'openssl'].filter(
    (tool) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0,
  )
  if (missing.length > 0) throw new Error(`the ${test} test needs ${missing.join(', ')} (nftables, iptables, iproute2, util-linux, curl, openssl)`)
  if (process.getuid?.() !== 0) throw new Error(`the ${test} test creates network namespaces and mounts, and needs root`)
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) throw new Error(`the ${test} test needs overlayfs (to put the pkexec stand-in on /usr/bin)`)
}

/** A fresh test namespace for product code run as nobody: see nobodyNamespace. */
export interface NobodyNamespace {
  readonly namespace: Namespace
  /** `<work>/data-<namespace>`, nobody's, 0700: the data folder of the run. */
  readonly dataDir: string
  /** origin.mjs inside it (TLS and plain HTTP), the "ECS" of an sni-mode config. */
  readonly origin: { readonly tlsPort: number; readonly httpPort: number }
  /** The machine before the run: rules, addresses, the hosts file. */
  readonly before: SystemSnapshot
}

/**
 * Creates a namespace with `hosts` as its hosts file, makes it where `polkit` runs elevations, starts the origin
 * with `certificate` and nobody's data folder. On a failure the namespace is disposed of before the error is thrown.
 */
export async function nobodyNamespace(
  polkit: Polkit,
  work: string,
  hosts: string,
  certificate: { readonly cert: string; readonly key: string },
): Promise<NobodyNamespace> {
  const namespace = await createNamespace(hosts)
  try {
    polkit.active = namespace
    const origin = await startOrigin(namespace, certificate)
    const dataDir = join(work, `data-${namespace.name}`)
    await fs.mkdir(dataDir, { mode: 0o700 })
    await fs.chown(dataDir, nobody, nobody)
    return { namespace, dataDir, origin, before: await snapshot(namespace) }
  } catch (error) {
    await namespace.dispose()
    throw error
  }
}
