#!/usr/bin/env node
// `npm test`: build, check that every peer the tiers need is here, run every tier, print one closing line.
// A tier that cannot run fails the run loudly; nothing is skipped silently.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const peers = [
  ['docker-registry', 'docker-registry'],
  ['skopeo', 'skopeo'],
  ['tinyproxy', 'tinyproxy'],
  ['sshd', 'openssh-server'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['ssh-agent', 'openssh-client'],
  ['ssh-add', 'openssh-client'],
  ['ssh-keyscan', 'openssh-client'],
  ['useradd', 'passwd'],
  ['userdel', 'passwd'],
  ['chpasswd', 'passwd'],
  ['unshare', 'util-linux'],
  ['setpriv', 'util-linux'],
  ['curl', 'curl'],
  ['mount', 'mount'],
  ['socat', 'socat'],
  ['openssl', 'openssl'],
  ['chromium', 'chromium'],
  ['shellcheck', 'shellcheck'],
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
  ['iptables-save', 'iptables'],
]

function which(cmd) {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, cmd))) return join(dir, cmd)
  }
  return undefined
}

const missing = peers.filter(([cmd]) => which(cmd) === undefined)
if (missing.length > 0) {
  const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ')
  console.error(`npm test: missing test peers: ${missing.map(([c]) => c).join(', ')}`)
  console.error(`install them first: apt-get install -y ${packages}`)
  process.exit(1)
}
if (process.getuid?.() !== 0) {
  console.error('npm test: the integration, VPC-world and platform tiers create network namespaces and need root; run as root (CI does).')
  process.exit(1)
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(`npm test: \`${cmd} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
}

run('npm', ['run', 'build'])
run('npx', ['tsc', '-p', 'test/tsconfig.json', '--noEmit'])

const dir = mkdtempSync(join(tmpdir(), 'acr-bridge-test-'))
const report = join(dir, 'report.json')
const extra = process.argv.slice(2)
const vitest = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
  stdio: 'inherit',
})
let passed = 0
let failed = 0
let skipped = 0
if (existsSync(report)) {
  const data = JSON.parse(readFileSync(report, 'utf8'))
  passed = data.numPassedTests
  failed = data.numFailedTests
  skipped = data.numPendingTests + data.numTodoTests
  if (data.numTotalTests === 0) failed += 1
}
rmSync(dir, { recursive: true, force: true })
if (skipped > 0) {
  console.error(`npm test: ${skipped} test(s) were skipped; a tier that cannot run must fail, not skip`)
  failed += skipped
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(vitest.status === 0 && failed === 0 ? 0 : 1)
