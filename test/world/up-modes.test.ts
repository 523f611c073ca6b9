// `acr-bridge up` in the VPC world, in every tunnel mode: the built CLI runs in the laptop namespace without
// --hosts-file, so it writes the laptop's /etc/hosts (the file `ip netns exec` bind-mounts from
// /etc/netns/<laptop>/hosts: the hosts engine's mount-point path); skopeo in the laptop namespace then pushes an
// image with a 30 MB layer to registry-vpc.cn-beijing.aliyuncs.com and pulls it back with equal digests, through the
// tunnel and the ECS only (the laptop has no route to the VPC). On the ECS: our relay (sni), real tinyproxy with
// Basic auth (connect), real OpenSSH sshd (ssh). In sni and ssh mode the laptop then changes address, as after a Wi-Fi
// switch: `up` must cut the download left dead (sni) and make the SSH connection anew at once (ssh). Runs as root.

import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { generateKeyPair, startSshd } from '../helpers/sshd.js'
import { buildCli } from '../integration/cli-up/cli-process.js'
import {
  createVpcWorld,
  DEFAULT_BLOB_REDIRECT,
  HTTP_BLOB_REDIRECT,
  WORLD_REGION,
  type OciImage,
  type VpcWorld,
  type WorldProcess,
} from './harness/index.js'

type Mode = 'sni' | 'connect' | 'ssh'

const proxyUser = 'acr-proxy-user'
const proxyPassword = `proxy-${randomBytes(9).toString('hex')}`

let world: VpcWorld
let cli: string
let laptopHostsBefore: Buffer
let realHostsBefore: string
const images = {} as Record<Mode, OciImage>

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

beforeAll(async () => {
  realHostsBefore = sha256(readFileSync('/etc/hosts'))
  cli = await buildCli()
  world = await createVpcWorld()
  // Prove that the laptop's /etc/hosts is the world's file before letting `up` write "/etc/hosts" in there.
  const marker = `# acr-bridge up-modes test ${randomBytes(6).toString('hex')}\n`
  writeFileSync(world.laptopHostsPath, `${readFileSync(world.laptopHostsPath, 'utf8')}${marker}`)
  const inside = await world.exec('laptop', 'cat', ['/etc/hosts'])
  if (!inside.stdout.includes(marker)) {
    throw new Error(`/etc/hosts in the laptop namespace is not ${world.laptopHostsPath}; refusing to run \`up\` there:\n${inside.stdout}${inside.stderr}`)
  }
  laptopHostsBefore = readFileSync(world.laptopHostsPath)
  for (const mode of ['sni', 'connect', 'ssh'] as const) images[mode] = await world.buildImage({ sizeMb: 30, tag: mode })
})

// A test that failed half-way leaves its `up` running: stop it, so the next test's `up` can bind (and the failure
// stays the first test's).
const upsStarted: WorldProcess[] = []
afterEach(async () => {
  for (const up of upsStarted.splice(0)) if (up.isRunning()) await up.stop()
})

afterAll(async () => {
  await world?.dispose()
  // Nothing here may ever touch the machine's own hosts file.
  expect(sha256(readFileSync('/etc/hosts'))).toBe(realHostsBefore)
})

function configFor(mode: Mode, tunnel: Record<string, unknown>): string {
  const path = join(world.tmpDir, `config-${mode}.json`)
  const config = {
    regions: [{ id: WORLD_REGION, endpoints: ['registry-vpc', 'dockerauth-vpc', 'oss-internal'] }],
    // the Personal Edition style bucket host: plain HTTP on port 80, routed by Host
    extraHosts: [{ name: world.names.httpBucket, ports: [80] }],
    tunnel,
    listen: { address: '127.0.0.1', port: 443, httpPort: 80 },
  }
  writeFileSync(path, JSON.stringify(config, null, 2))
  return path
}

/** Starts `up` in the laptop namespace (OS hosts file, --yes) and waits for its status lines. */
async function startUp(mode: Mode, tunnel: Record<string, unknown>, env: Record<string, string> = {}): Promise<WorldProcess> {
  const up = await world.spawn('laptop', process.execPath, [cli, 'up', '--config', configFor(mode, tunnel), '--yes'], {
    // trustEnv: the health probes check each name's certificate, which the world's test CA signed
    env: { ACR_BRIDGE_DATA_DIR: join(world.tmpDir, `data-${mode}`), ACR_BRIDGE_LOG: 'info', ...world.trustEnv(), ...env },
    logName: `up-${mode}`,
    ready: /^state: healthy$/m,
    readyTimeoutMs: 60_000,
  })
  upsStarted.push(up)
  const output = up.output()
  expect(output).toContain(`acr-bridge up: 4 names in /etc/hosts, mode ${mode}`)
  for (const name of [world.names.registry, world.names.auth, world.names.oss]) {
    expect(output).toMatch(new RegExp(`^  ${name.replace(/\./g, '\\.')} +→ 127\\.0\\.0\\.1:443 via ${mode} `, 'm'))
  }
  expect(output).toMatch(new RegExp(`^  ${world.names.httpBucket.replace(/\./g, '\\.')} +→ 127\\.0\\.0\\.1:80 via ${mode} `, 'm'))
  const hosts = readFileSync(world.laptopHostsPath, 'utf8')
  for (const name of [world.names.registry, world.names.auth, world.names.oss, world.names.httpBucket]) expect(hosts).toContain(`127.0.0.1 ${name}\n`)
  return up
}

interface Stopped {
  output: string
  connections: number
  downMiB: number
  upMiB: number
  refused: number
  refusedBy: Record<string, number>
}

/** SIGINT, exit 0, the laptop's hosts file byte for byte as before, and the tunnel's final counters. */
async function stopUp(up: WorldProcess): Promise<Stopped> {
  up.child.kill('SIGINT')
  const exit = await up.exited
  const output = up.output()
  expect(exit, output).toEqual({ code: 0, signal: null })
  expect(readFileSync(world.laptopHostsPath).equals(laptopHostsBefore), readFileSync(world.laptopHostsPath, 'utf8')).toBe(true)
  const match = /^Stopped: (\d+) connections, ([\d.]+) MiB down, ([\d.]+) MiB up, \d+ errors, (\d+) refused(?: \(([^)]*)\))?;/m.exec(output)
  expect(match, output).not.toBeNull()
  const refusedBy = Object.fromEntries((match![5] ?? '').split(', ').filter(Boolean).map((part) => [part.split(' ')[0]!, Number(part.split(' ')[1])]))
  return { output, connections: Number(match![1]), downMiB: Number(match![2]), upMiB: Number(match![3]), refused: Number(match![4]), refusedBy }
}

/** Push the mode's image, pull it back into a fresh OCI folder: equal digests, and the layer's bytes check out. */
async function pushAndPull(mode: Mode, up: WorldProcess): Promise<void> {
  const image = images[mode]
  const ref = `acr-test/up-${mode}:v1`
  const push = await world.skopeoPush('laptop', image, ref)
  expect(push.ok, `${push.stderr}\n${up.output()}\n${world.logs()}`).toBe(true)
  expect(push.digest).toBe(image.manifestDigest)
  await pullAndCheck(mode, up)
}

async function pullAndCheck(mode: Mode, up: WorldProcess): Promise<void> {
  const image = images[mode]
  const pull = await world.skopeoPull('laptop', `acr-test/up-${mode}:v1`)
  expect(pull.ok, `${pull.stderr}\n${up.output()}\n${world.logs()}`).toBe(true)
  expect(pull.digest).toBe(image.manifestDigest)
  expect(pull.configDigest).toBe(image.configDigest)
  expect(pull.layerDigests).toEqual([image.layers[0]!.digest])
  const hex = image.layers[0]!.digest.slice('sha256:'.length)
  expect(sha256(readFileSync(join(pull.dir, 'blobs', 'sha256', hex)))).toBe(hex)
}

/** The same pull with the registry redirecting blobs to the plain-HTTP bucket host: the tunnel's port-80 path. */
async function pullOverHttpRedirect(mode: Mode, up: WorldProcess): Promise<void> {
  const hex = images[mode].layers[0]!.digest.slice('sha256:'.length)
  const seen = world.ossRequests().length
  await world.setBlobRedirect(HTTP_BLOB_REDIRECT)
  try {
    await pullAndCheck(mode, up)
    const served = world.ossRequests().slice(seen).find((r) => r.scheme === 'http' && r.path.endsWith(`/${hex}/data`))
    expect(served, JSON.stringify(world.ossRequests().slice(seen))).toMatchObject({
      port: 80,
      host: world.names.httpBucket,
      status: 200,
      complete: true,
      bytes: images[mode].layers[0]!.size,
    })
  } finally {
    await world.setBlobRedirect(DEFAULT_BLOB_REDIRECT)
  }
}

async function pullFails(): Promise<string> {
  const pull = await world.skopeoPull('laptop', `acr-test/up-sni:v1`, { timeoutMs: 60_000 })
  expect(pull.ok).toBe(false)
  return pull.stderr
}

const laptopDevice = 'eth0'

/** `ip …` in the laptop's namespace; it must succeed. */
async function ip(...args: string[]): Promise<void> {
  const result = await world.exec('laptop', 'ip', args)
  expect(result.code, `ip ${args.join(' ')}: ${result.stderr}`).toBe(0)
}

/**
 * The laptop moves to another address on the same network, as after a Wi-Fi switch. Returns the moment of the move
 * and a function that moves it back (the old address back, the new one gone), so the next test finds the world as
 * it was.
 */
async function moveLaptop(newAddress: string): Promise<{ movedAt: number; moveBack: () => Promise<void> }> {
  const [oldAddress, device] = [world.addresses.laptop, laptopDevice]
  const movedAt = Date.now()
  await ip('addr', 'del', `${oldAddress}/24`, 'dev', device)
  await ip('addr', 'add', `${newAddress}/24`, 'dev', device)
  const moveBack = async (): Promise<void> => {
    // (in this order: deleting a subnet's first address deletes the others with it)
    await ip('addr', 'del', `${newAddress}/24`, 'dev', device)
    await ip('addr', 'add', `${oldAddress}/24`, 'dev', device)
  }
  return { movedAt, moveBack }
}

/** What `up` says when it sees the move (the new address in the same line, or in the next one when a look fell between the two `ip` runs). */
function expectNetworkChangeSeen(said: string, oldAddress: string, newAddress: string): void {
  expect(said).toContain(`the network changed (gone: ${oldAddress}`)
  expect(said).toMatch(new RegExp(`the network changed \\((gone: [^;)]*; )?new: ${newAddress.replace(/\./g, '\\.')}\\)`))
}

/**
 * ssh mode: the SSH connection left from the old address and is dead though nothing says so (its keepalives would
 * take 45 s). `up` must notice the move and connect anew from the new address at once; a pull then works from there.
 */
async function sshFollowsTheLaptop(up: WorldProcess, sshd: { log(): string }): Promise<void> {
  const [oldAddress, newAddress] = [world.addresses.laptop, '203.0.113.3']
  const seen = up.output().length
  const { movedAt, moveBack } = await moveLaptop(newAddress)
  try {
    // Well before the keepalives (15 s × 3) could say the old connection is dead.
    const deadline = movedAt + 20_000
    while (!sshd.log().includes(`Accepted publickey for root from ${newAddress}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(sshd.log(), up.output().slice(seen)).toContain(`Accepted publickey for root from ${newAddress}`)
    const said = up.output().slice(seen)
    expectNetworkChangeSeen(said, oldAddress, newAddress)
    expect(said).toContain(`no longer has the address ${oldAddress} the SSH connection left from`)
    await pullAndCheck('ssh', up)
  } finally {
    await moveBack()
  }
}

/**
 * ssh mode: the laptop is offline (no address at all) until the backoff waits 12 s or more between attempts. When its
 * address comes back, `up` must connect at once (its next look at the network, within 3 s), not when the backoff
 * says; a pull then works.
 */
async function sshReconnectsWhenTheNetworkReturns(up: WorldProcess, sshd: { log(): string }): Promise<void> {
  const address = world.addresses.laptop
  const accepted = (): number => sshd.log().split(`Accepted publickey for root from ${address}`).length - 1
  const acceptedBefore = accepted()
  const seen = up.output().length
  await ip('addr', 'del', `${address}/24`, 'dev', laptopDevice)
  let restored = false
  try {
    // gone seen within 3 s, then attempts after 0.5, 1, 2, 4 and 8 s (±20 %): the 6th waits 16 s (12.8 at least)
    const longWait = /Trying again in (\d+\.\d) s \(attempt \d+\)\./g
    const deadline = Date.now() + 45_000
    let waitSaid: number | undefined
    while (waitSaid === undefined && Date.now() < deadline) {
      waitSaid = [...up.output().slice(seen).matchAll(longWait)].map((m) => Number(m[1])).find((seconds) => seconds >= 12)
      if (waitSaid === undefined) await new Promise((r) => setTimeout(r, 50))
    }
    expect(waitSaid, up.output().slice(seen)).toBeDefined()
    const backoffDueAt = Date.now() - 1_000 + waitSaid! * 1000 // said at most a moment ago
    const backAt = Date.now()
    await ip('addr', 'add', `${address}/24`, 'dev', laptopDevice)
    restored = true
    while (accepted() === acceptedBefore && Date.now() < backoffDueAt - 1_000) await new Promise((r) => setTimeout(r, 100))
    expect(accepted(), up.output().slice(seen)).toBeGreaterThan(acceptedBefore)
    expect(Date.now() - backAt, up.output().slice(seen)).toBeLessThan(8_000) // a look every 3 s, one SSH handshake, slack for this machine
    // (sshd's log is a file; what `up` said comes through a pipe, and may arrive a moment later)
    const heard = Date.now() + 2_000
    while (!up.output().slice(seen).includes(`the network changed (new: ${address})`) && Date.now() < heard) await new Promise((r) => setTimeout(r, 50))
    const said = up.output().slice(seen)
    expect(said).toContain(`the network changed (gone: ${address})`)
    // what the tray and `up` say meanwhile: degraded, and why; then down: this computer is offline (not: check the ECS
    // and its security group)
    expect(said).toContain(`state: degraded: The SSH connection to ${world.addresses.ecsPublic}:22 was lost (this machine no longer has the address ${address} the SSH connection left from).`)
    expect(said).toMatch(new RegExp(`state: down: .*\\(ENETUNREACH\\)\\. This computer has no route to ${world.addresses.ecsPublic.replace(/\./g, '\\.')}: check that it is online`))
    expect(said).toContain(`the network changed (new: ${address})`)
    await pullAndCheck('ssh', up)
  } finally {
    if (!restored) await ip('addr', 'add', `${address}/24`, 'dev', laptopDevice)
  }
}

/**
 * sni mode: a download in flight when the laptop moves. Its upstream connection left from the old address, so
 * nothing the ECS sends can arrive any more, yet TCP would take minutes to give up, and the client would wait on it
 * all that time. `up` must cut it within seconds (docker and skopeo then retry the layer). The VPC side sends at
 * 2 Mbit/s meanwhile (a token bucket on its interface), so the 30 MB blob takes two minutes and the client, reading
 * as fast as bytes come, has next to nothing buffered when the move happens: without the cut it would wait.
 */
async function downloadCutWhenTheLaptopMoves(up: WorldProcess): Promise<void> {
  const [oldAddress, newAddress] = [world.addresses.laptop, '203.0.113.3']
  const hex = images.sni.layers[0]!.digest.slice('sha256:'.length)
  const url = `http://${world.names.httpBucket}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`
  const tc = async (...args: string[]): Promise<void> => {
    const result = await world.exec('vpc', 'tc', ['qdisc', ...args, 'dev', world.interfaces.vpc, 'root', ...(args[0] === 'add' ? ['tbf', 'rate', '2mbit', 'burst', '32kbit', 'latency', '400ms'] : [])])
    expect(result.code, `tc qdisc ${args.join(' ')}: ${result.stderr}`).toBe(0)
  }
  await tc('add')
  try {
    const download = await world.spawn('laptop', 'curl', ['-sS', '-v', '--max-time', '120', '-o', '/dev/null', url], {
      logName: 'slow-download',
      ready: /< HTTP\/1\.1 200/,
    })
    try {
      await new Promise((r) => setTimeout(r, 1_000)) // bytes are flowing
      expect(download.isRunning(), download.output()).toBe(true)
      const seen = up.output().length
      const { movedAt, moveBack } = await moveLaptop(newAddress)
      try {
        const cutWithin = 10_000 // a look every 3 s, and some slack for this machine
        const exit = await Promise.race([download.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), movedAt + cutWithin - Date.now()))])
        expect(exit, `${download.output()}\n${up.output().slice(seen)}`).not.toBe('still running')
        // curl: 18 (partial file) or 56 (failure receiving): the transfer was cut, not finished
        expect([18, 56], download.output()).toContain((exit as { code: number | null }).code)
        const said = up.output().slice(seen)
        expectNetworkChangeSeen(said, oldAddress, newAddress)
        expect(said).toContain(`[tunnel] closed 1 forwarded connection that left from ${oldAddress}, gone from this machine`)
      } finally {
        await moveBack()
      }
    } finally {
      await download.stop()
    }
  } finally {
    await tc('del')
  }
}

/**
 * The proxy on the ECS dies while `up` says healthy. The first pull that fails through the tunnel must turn the state
 * down within seconds (a failed dial checks every hop again), not at the next periodic check, up to 30 s later.
 */
async function downWhenAPullFailsThroughADeadProxy(up: WorldProcess, proxy: WorldProcess): Promise<void> {
  const states = [...up.output().matchAll(/^state: (\w+)/gm)].map((m) => m[1])
  expect(states.at(-1), up.output()).toBe('healthy')
  await proxy.stop()
  const seen = up.output().length
  await pullFails()
  const failedAt = Date.now()
  const said = (): string => up.output().slice(seen)
  while (!said().includes('state: down') && Date.now() < failedAt + 10_000) await new Promise((r) => setTimeout(r, 100))
  expect(said()).toContain('[session] a client connection could not reach its upstream: checking every hop again')
  expect(said()).toMatch(new RegExp(`state: down: ${world.addresses.ecsPublic.replace(/\./g, '\\.')}:3128: `))
}

describe('acr-bridge up in the VPC world', () => {
  test('without up, the laptop cannot pull: the names do not resolve', async () => {
    expect(await pullFails()).toMatch(new RegExp(`lookup ${world.names.registry.replace(/\./g, '\\.')}`))
  })

  test('sni mode through our relay on the ECS: push and pull 30 MB, refuse a foreign SNI, the port-80 bucket path; a download in flight is cut at once when the laptop changes address, and the next pull works', async () => {
    const ecs = world.addresses.ecsPublic
    const relay = await world.spawn('ecs', process.execPath, [cli, 'relay', '--listen', `${ecs}:443`, '--http-listen', `${ecs}:80`], {
      logName: 'relay',
      ready: /^relay: forwarding names matching \*\.aliyuncs\.com; Ctrl-C stops$/m,
    })
    try {
      const up = await startUp('sni', { mode: 'sni', host: ecs, port: 443, httpPort: 80 })
      await pushAndPull('sni', up)

      // a name that is not in the set: the tunnel refuses it (TLS alert), logs it and counts it; nothing reaches the ECS
      const evil = await world.request('laptop', { url: 'https://evil.example.com/', connectTo: { host: '127.0.0.1', port: 443 } })
      expect(evil.ok).toBe(false)
      await up.waitForOutput(/\[tunnel\] refused 127\.0\.0\.1:\d+: name-not-allowed \(evil\.example\.com\)/, 10_000)
      expect(relay.output()).not.toContain('evil.example.com')

      await pullOverHttpRedirect('sni', up)
      await downloadCutWhenTheLaptopMoves(up)
      await pullAndCheck('sni', up) // the address back: the tunnel dials from it again
      const stopped = await stopUp(up)
      expect(stopped.refusedBy['name-not-allowed']).toBe(1)
      expect(stopped.upMiB).toBeGreaterThanOrEqual(30) // the push went through the tunnel
      expect(stopped.downMiB).toBeGreaterThanOrEqual(90) // three pulls of the layer came back through it
    } finally {
      // The relay may still hold the cut download's connection to the laptop's old address (no FIN can reach it):
      // give it its whole drain (3 s) to say how it stopped before the kill.
      await relay.stop(8_000)
    }
    expect(relay.output()).toMatch(/^Stopped: [1-9]\d* forwarded, /m)
    // the block is gone again: the laptop is back to "cannot resolve"
    expect(await pullFails()).toMatch(/lookup registry-vpc/)
  })

  test('connect mode through real tinyproxy with Basic auth (password from the environment): push, pull, port-80 path; when the proxy dies, the first failed pull turns the state down within seconds', async () => {
    const ecs = world.addresses.ecsPublic
    const conf = join(world.tmpDir, 'tinyproxy.conf')
    writeFileSync(
      conf,
      [
        'User nobody',
        'Group nogroup',
        'Port 3128',
        `Listen ${ecs}`,
        'Timeout 600',
        'MaxClients 200',
        'LogLevel Info',
        `Allow ${world.addresses.laptop}`,
        'DisableViaHeader Yes',
        'ConnectPort 443',
        'ConnectPort 80',
        `BasicAuth ${proxyUser} ${proxyPassword}`,
        '',
      ].join('\n'),
    )
    const tinyproxy = await world.spawn('ecs', 'tinyproxy', ['-d', '-c', conf], { logName: 'tinyproxy', ready: /listening on fd \[\d+\]/ })
    try {
      const up = await startUp('connect', { mode: 'connect', host: ecs, port: 3128, connect: { username: proxyUser } }, {
        ACR_BRIDGE_PROXY_PASSWORD: proxyPassword,
      })
      expect(up.output()).not.toContain(proxyPassword)
      await pushAndPull('connect', up)
      await pullOverHttpRedirect('connect', up)
      await downWhenAPullFailsThroughADeadProxy(up, tinyproxy)
      const stopped = await stopUp(up)
      expect(stopped.upMiB).toBeGreaterThanOrEqual(30)
      expect(stopped.downMiB).toBeGreaterThanOrEqual(60)
      expect(stopped.output).not.toContain(proxyPassword)
    } finally {
      await tinyproxy.stop()
    }
    // tinyproxy really carried the CONNECTs (to the registry on 443 and the bucket host on 80)
    expect(tinyproxy.output()).toMatch(/CONNECT .*registry-vpc\.cn-beijing\.aliyuncs\.com:443/)
    expect(tinyproxy.output()).toMatch(new RegExp(`CONNECT .*${world.names.httpBucket.replace(/\./g, '\\.')}:80`))
  })

  test('ssh mode through real OpenSSH sshd on the ECS (host key checked against a known_hosts the test wrote): push and pull; after an outage it connects as soon as the laptop has its address back, not when the backoff says; when the laptop changes address, the SSH connection is made anew at once; a pull works after each', async () => {
    const ecs = world.addresses.ecsPublic
    const keyDir = mkdtempSync(join(world.tmpDir, 'ssh-'))
    const client = await generateKeyPair(keyDir, 'id_ed25519')
    const sshd = await startSshd({
      listenAddress: ecs,
      port: 22,
      authorizedKeys: [client.publicKeyLine],
      commandPrefix: ['ip', 'netns', 'exec', world.ns.ecs],
    })
    try {
      const hostKey = sshd.hostKeys[0]!
      const knownHostsPath = join(keyDir, 'known_hosts')
      writeFileSync(knownHostsPath, `${ecs} ${hostKey.keyType} ${hostKey.keyBase64}\n`)
      const up = await startUp('ssh', {
        mode: 'ssh',
        host: ecs,
        port: 22,
        ssh: { username: 'root', privateKeyPath: client.privateKeyPath, knownHostsPath },
      })
      expect(up.output()).toMatch(/via ssh root@203\.0\.113\.10:22/)
      await pushAndPull('ssh', up)
      await sshReconnectsWhenTheNetworkReturns(up, sshd)
      await sshFollowsTheLaptop(up, sshd)
      const stopped = await stopUp(up)
      expect(stopped.upMiB).toBeGreaterThanOrEqual(30)
      expect(stopped.downMiB).toBeGreaterThanOrEqual(30)
      expect(sshd.log()).toMatch(/Accepted publickey for root from 203\.0\.113\.2/)
    } finally {
      await sshd.dispose()
    }
  })
})
