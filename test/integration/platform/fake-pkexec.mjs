// The stand-in for /usr/bin/pkexec in the up-unprivileged test (overlaid on /usr/bin in the CLI's own mount
// namespace only): @vscode/sudo-prompt runs `pkexec --disable-internal-agent /bin/bash -c "…"` as the unprivileged
// user; this hands its arguments to the test's "polkit" (a root process listening on a Unix socket, which always
// authorizes and runs the command as root inside the test's network namespace) and relays stdout, stderr and the
// exit code back, like pkexec does.
// Usage (from a generated two-line wrapper): node fake-pkexec.mjs <socket> <pkexec arguments…>
import { connect } from 'node:net'

const [socketPath, ...args] = process.argv.slice(2)
const socket = connect({ path: socketPath ?? '', allowHalfOpen: true })
let answer = ''
socket.setEncoding('utf8')
socket.on('data', (chunk) => (answer += chunk))
socket.on('end', () => {
  let reply
  try {
    reply = JSON.parse(answer)
  } catch {
    process.stderr.write('fake pkexec: no answer from the test polkit\n')
    process.exit(127)
  }
  process.stdout.write(reply.stdout, () => process.stderr.write(reply.stderr, () => process.exit(reply.code)))
})
socket.on('error', (error) => {
  process.stderr.write(`fake pkexec: ${error.message}\n`)
  process.exit(127)
})
socket.end(JSON.stringify({ args, uid: process.getuid() }))
