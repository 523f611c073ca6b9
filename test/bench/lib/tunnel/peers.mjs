// The peers the tunnel benchmarks start on 127.0.0.1 inside their network namespace: a certificate for the origin,
// the Node TLS + raw origin (server.mjs), tuned socat hops, tinyproxy, OpenSSH sshd and `ssh -L`. One place, so
// that `npm run bench` (driver.mjs) and the side comparisons (pool-latency.mjs, ssh-side.mjs) measure the same peers.

import { mkdirSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runChecked, startChild } from '../proc.mjs'
import { waitForPort } from './client.mjs'

const here = dirname(fileURLToPath(import.meta.url))

/** An ECDSA P-256 certificate for `name`, valid two days; its PEM is the clients' CA. */
export async function makeCertificate(dir, name) {
  const keyPath = join(dir, 'origin.key')
  const certPath = join(dir, 'origin.crt')
  await runChecked('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', keyPath, '-out', certPath,
  ])
  return { keyPath, certPath, ca: await readFile(certPath) }
}

/** The origin: TLS (1 KiB echo, downloads) on tlsPort and raw TCP downloads on rawPort. */
export function startOrigin({ tlsPort, rawPort, keyPath, certPath }) {
  return startChild({
    name: 'origin',
    command: process.execPath,
    args: [join(here, 'server.mjs'), JSON.stringify({ host: '127.0.0.1', tlsPort, rawPort, certPath, keyPath })],
    ready: 'json',
  })
}

/** Tuned socat (`-b 262144`, nodelay, backlog 1024) from 127.0.0.1:listen to 127.0.0.1:target; ready once listening. */
export async function startSocat(listen, target) {
  const socat = await startChild({
    name: `socat :${listen}`,
    command: 'socat',
    args: ['-b', '262144', `TCP-LISTEN:${listen},bind=127.0.0.1,fork,reuseaddr,nodelay,backlog=1024`, `TCP:127.0.0.1:${target},nodelay`],
  })
  await waitForPort(listen)
  return socat
}

/** tinyproxy on 127.0.0.1:port, CONNECT allowed to 443 and 80. */
export async function startTinyproxy(dir, port) {
  const config = join(dir, 'tinyproxy.conf')
  await writeFile(
    config,
    [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 600', 'MaxClients 4096', 'Allow 127.0.0.1', 'ConnectPort 443', 'ConnectPort 80', 'LogLevel Error', ''].join('\n'),
  )
  const proxy = await startChild({ name: 'tinyproxy', command: 'tinyproxy', args: ['-d', '-c', config] })
  await waitForPort(port)
  return proxy
}

/**
 * OpenSSH sshd on 127.0.0.1:port with a throwaway host key and a client key for root. known_hosts lists the host key
 * for 127.0.0.1 and for each of `alsoKnownOn` ([127.0.0.1]:p, for a relay in front of sshd).
 */
export async function startSshd(dir, port, { alsoKnownOn = [] } = {}) {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }) // sshd's privilege separation directory
  const hostKey = join(dir, 'ssh_host_ed25519_key')
  const clientKey = join(dir, 'client_ed25519')
  await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'acrb-bench-host', '-f', hostKey])
  await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'acrb-bench-client', '-f', clientKey])
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 })
  const [keyType, keyBase64] = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/)
  const knownHostsPath = join(dir, 'known_hosts')
  const hosts = ['127.0.0.1', ...alsoKnownOn.map((p) => `[127.0.0.1]:${p}`)]
  await writeFile(knownHostsPath, hosts.map((host) => `${host} ${keyType} ${keyBase64}\n`).join(''))
  const config = join(dir, 'sshd_config')
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'MaxStartups 100',
      'LogLevel INFO',
      '',
    ].join('\n'),
  )
  const sshd = await startChild({ name: 'sshd', command: '/usr/sbin/sshd', args: ['-D', '-e', '-f', config], ready: /Server listening on/ })
  return { sshd, clientKey, knownHostsPath }
}

/** `ssh -N -L 127.0.0.1:listenPort:name:targetPort -c aes128-gcm@openssh.com` to root@127.0.0.1:sshPort; ready once listening. */
export async function startSshL({ listenPort, name, targetPort, sshPort, clientKey, knownHostsPath }) {
  const sshL = await startChild({
    name: 'ssh -L',
    command: 'ssh',
    args: [
      '-N', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHostsPath}`,
      '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'ExitOnForwardFailure=yes', '-i', clientKey,
      '-c', 'aes128-gcm@openssh.com', '-L', `127.0.0.1:${listenPort}:${name}:${targetPort}`, '-p', String(sshPort), 'root@127.0.0.1',
    ],
  })
  await waitForPort(listenPort)
  return sshL
}
