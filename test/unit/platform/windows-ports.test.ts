import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  describePortHolders,
  findWindowsPortHolder,
  parseExcludedPortRanges,
  parseHttpServiceState,
  parseNetstatListeners,
  parseTasklistCsv,
  urlPrefixPort,
  type RunProgram,
} from '../../../electron/core/platform/windows-ports.js'

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8')

describe('parseNetstatListeners', () => {
  it('reads listening TCP sockets (IPv4 and IPv6) and ignores connections and UDP', () => {
    const listeners = parseNetstatListeners(fixture('netstat-ano.txt'))
    expect(listeners).toContainEqual({ address: '0.0.0.0', port: 443, pid: 4 })
    expect(listeners).toContainEqual({ address: '::', port: 443, pid: 4 })
    expect(listeners).toContainEqual({ address: '127.0.0.1', port: 8443, pid: 7312 })
    expect(listeners).toContainEqual({ address: '::1', port: 8443, pid: 7312 })
    expect(listeners).toContainEqual({ address: 'fe80::1c2b:3d4e:5f60:7182', port: 2869, pid: 4 })
    expect(listeners.some((l) => l.port === 50712 || l.port === 123 || l.port === 500)).toBe(false)
    expect(listeners).toHaveLength(11)
  })

  it('does not depend on the (localized) state column', () => {
    expect(parseNetstatListeners(fixture('netstat-ano-de.txt'))).toEqual([
      { address: '0.0.0.0', port: 135, pid: 1052 },
      { address: '127.0.0.1', port: 443, pid: 5124 },
    ])
  })

  it('survives garbage', () => {
    expect(parseNetstatListeners('')).toEqual([])
    expect(parseNetstatListeners('TCP x y z\nTCP 1.2.3.4:99999 0.0.0.0:0 LISTENING 1\n')).toEqual([])
  })
})

describe('parseHttpServiceState', () => {
  it('reads each request queue with its process ids and registered URLs (URL-group repeats are not new queues)', () => {
    const queues = parseHttpServiceState(fixture('netsh-http-servicestate-requestq.txt'))
    expect(queues).toEqual([
      { name: 'Request queue is unnamed.', pids: [4840], urls: ['HTTP://+:5985/WSMAN/', 'HTTP://+:47001/WSMAN/'] },
      { name: 'DefaultAppPool', pids: [6764], urls: ['HTTP://*:80/', 'HTTPS://*:443/'] },
      { name: 'Request queue is unnamed.', pids: [], urls: ['HTTP://+:80/TEMPORARY_LISTEN_ADDRESSES/'] },
    ])
  })

  it('reads URL prefix ports', () => {
    expect(urlPrefixPort('HTTP://+:80/WSMAN/')).toBe(80)
    expect(urlPrefixPort('HTTPS://*:443/')).toBe(443)
    expect(urlPrefixPort('https://www.example.com/')).toBe(443)
    expect(urlPrefixPort('http://[::1]:8080/x/')).toBe(8080)
    expect(urlPrefixPort('not a url')).toBeUndefined()
  })
})

describe('parseTasklistCsv and parseExcludedPortRanges', () => {
  it('reads image, pid and services', () => {
    expect(parseTasklistCsv(fixture('tasklist-svc-1052.txt'))).toEqual([{ image: 'svchost.exe', pid: 1052, services: ['RpcEptMapper', 'RpcSs'] }])
    expect(parseTasklistCsv(fixture('tasklist-svc-6764.txt'))).toEqual([{ image: 'w3wp.exe', pid: 6764, services: [] }])
    expect(parseTasklistCsv(fixture('tasklist-none.txt'))).toEqual([])
    expect(parseTasklistCsv('"odd ""quoted"".exe","12","A"')).toEqual([{ image: 'odd "quoted".exe', pid: 12, services: ['A'] }])
  })

  it('reads the excluded port ranges', () => {
    expect(parseExcludedPortRanges(fixture('netsh-excludedportrange-tcp.txt'))).toEqual([
      { start: 5357, end: 5357 },
      { start: 50000, end: 50059 },
      { start: 54235, end: 54334 },
      { start: 54335, end: 54434 },
    ])
  })
})

describe('describePortHolders', () => {
  it('attributes an HTTP.sys port to the queue that registered it', () => {
    const holders = describePortHolders(443, '127.0.0.1', {
      listeners: parseNetstatListeners(fixture('netstat-ano.txt')),
      queues: parseHttpServiceState(fixture('netsh-http-servicestate-requestq.txt')),
      tasks: parseTasklistCsv(fixture('tasklist-svc-6764.txt')),
    })
    expect(holders).toEqual([
      { port: 443, address: '0.0.0.0', pid: 4, httpSys: true, processes: [{ image: 'w3wp.exe', pid: 6764, services: [] }], urls: ['HTTPS://*:443/'] },
      { port: 443, address: '::', pid: 4, httpSys: true, processes: [{ image: 'w3wp.exe', pid: 6764, services: [] }], urls: ['HTTPS://*:443/'] },
    ])
  })

  it('a listener on another specific address does not collide', () => {
    expect(describePortHolders(8443, '192.168.1.23', { listeners: parseNetstatListeners(fixture('netstat-ano.txt')) })).toEqual([])
    expect(describePortHolders(8443, '127.0.0.1', { listeners: parseNetstatListeners(fixture('netstat-ano.txt')) })).toHaveLength(1)
  })
})

/** A runner that answers from the fixtures and records every call (argument arrays only). */
function fixtureRunner(files: Record<string, string | undefined>): { run: RunProgram; calls: string[][] } {
  const calls: string[][] = []
  const run: RunProgram = async (file, args) => {
    calls.push([file, ...args])
    const key = [file, ...args].join(' ')
    const name = files[key]
    return name === undefined ? undefined : fixture(name)
  }
  return { run, calls }
}

describe('findWindowsPortHolder', () => {
  it('names HTTP.sys, the IIS worker behind it and its URL, and says what to do', async () => {
    const { run, calls } = fixtureRunner({
      'netstat -ano': 'netstat-ano.txt',
      'netsh http show servicestate view=requestq': 'netsh-http-servicestate-requestq.txt',
      'tasklist /svc /fi PID eq 6764 /fo csv /nh': 'tasklist-svc-6764.txt',
    })
    const { holders, error } = await findWindowsPortHolder(443, '127.0.0.1', 'listen.port', run)
    expect(holders).toHaveLength(2)
    expect(error?.code).toBe('PORT_IN_USE')
    expect(error?.message).toBe('Port 443 is held by the Windows HTTP service (HTTP.sys, PID 4 "System") for w3wp.exe (PID 6764) (HTTPS://*:443/).')
    expect(error?.hint).toContain('netsh http show servicestate')
    expect(error?.field).toBe('listen.port')
    expect(calls).toEqual([
      ['netstat', '-ano'],
      ['netsh', 'http', 'show', 'servicestate', 'view=requestq'],
      ['tasklist', '/svc', '/fi', 'PID eq 6764', '/fo', 'csv', '/nh'],
    ])
  })

  it('names the service behind an HTTP.sys registration when there is one', async () => {
    const { run } = fixtureRunner({
      'netstat -ano': 'netstat-ano.txt',
      'netsh http show servicestate view=requestq': 'netsh-http-servicestate-requestq.txt',
      'tasklist /svc /fi PID eq 4840 /fo csv /nh': 'tasklist-svc-4840.txt',
    })
    const { error } = await findWindowsPortHolder(5985, '127.0.0.1', 'listen.port', run)
    expect(error?.message).toContain('svchost.exe (PID 4840, service WinRM)')
    expect(error?.hint).toContain('net stop WinRM')
  })

  it('names an ordinary program by PID and image', async () => {
    const { run } = fixtureRunner({ 'netstat -ano': 'netstat-ano-de.txt', 'tasklist /svc /fi PID eq 5124 /fo csv /nh': 'tasklist-svc-5124.txt' })
    const { error } = await findWindowsPortHolder(443, '127.0.0.1', 'listen.port', run)
    expect(error?.message).toBe('Port 443 is already used by nginx.exe (PID 5124) on 127.0.0.1:443.')
    expect(error?.hint).toContain('PID 5124')
  })

  it('reports an excluded range when nothing listens, and nothing when the port is free', async () => {
    const { run, calls } = fixtureRunner({ 'netstat -ano': 'netstat-ano-de.txt', 'netsh interface ipv4 show excludedportrange protocol=tcp': 'netsh-excludedportrange-tcp.txt' })
    const excluded = await findWindowsPortHolder(50010, '127.0.0.1', 'listen.httpPort', run)
    expect(excluded.error?.message).toContain('50000-50059')
    expect(calls.at(-1)).toEqual(['netsh', 'interface', 'ipv4', 'show', 'excludedportrange', 'protocol=tcp'])
    const free = await findWindowsPortHolder(8443, '127.0.0.1', 'listen.port', run)
    expect(free).toEqual({ holders: [], error: undefined })
  })

  it('says nothing (no guess) when netstat cannot run', async () => {
    const { run } = fixtureRunner({})
    expect(await findWindowsPortHolder(443, '127.0.0.1', 'listen.port', run)).toEqual({ holders: [], error: undefined })
  })
})
