import { execFile, execFileSync } from 'node:child_process'
import { promises as fs, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Platform } from '../../../electron/core/paths.js'
import { assertSafeAppPath, buildElevatedCommand, buildPrivilegedScript, isSafeAppPath } from '../../../electron/core/privileged/script.js'
import { goldenFiles, goldenPlan } from './golden-plans.js'

const goldenDir = fileURLToPath(new URL('./__golden__/', import.meta.url))
const platforms: Platform[] = ['linux', 'darwin', 'win32']

function shellcheck(script: string): { status: number; output: string } {
  try {
    const output = execFileSync('shellcheck', ['--shell=sh', '--severity=style', '--format=gcc', '-'], { input: script, encoding: 'utf8' })
    return { status: 0, output }
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { status?: number; stdout?: string }
    if (failure.code === 'ENOENT') throw new Error('shellcheck is not installed: it is required to check the generated POSIX scripts')
    return { status: failure.status ?? -1, output: failure.stdout ?? String(error) }
  }
}

describe('buildPrivilegedScript', () => {
  for (const platform of platforms) {
    it(`matches the golden ${platform} script`, () => {
      const golden = readFileSync(join(goldenDir, goldenFiles[platform]), 'utf8')
      expect(buildPrivilegedScript(platform, goldenPlan(platform))).toBe(golden)
    })
  }

  it('PowerShell uses CRLF, POSIX sh uses LF and set -eu', () => {
    const ps = buildPrivilegedScript('win32', goldenPlan('win32'))
    expect(ps.split('\r\n').length).toBe(ps.split('\n').length)
    const sh = buildPrivilegedScript('linux', goldenPlan('linux'))
    expect(sh).not.toContain('\r')
    expect(sh.split('\n').slice(0, 4)).toEqual(['#!/bin/sh', expect.any(String), 'set -eu', 'umask 077'])
  })

  for (const platform of ['linux', 'darwin'] as const) {
    for (const flush of [true, false]) {
      it(`passes shellcheck (${platform}, flush ${flush})`, () => {
        const result = shellcheck(buildPrivilegedScript(platform, goldenPlan(platform, flush)))
        expect(result.output).toBe('')
        expect(result.status).toBe(0)
      })
    }
  }

  it('shellcheck really checks: a broken script fails', () => {
    expect(shellcheck('#!/bin/sh\nrm $1\n').status).not.toBe(0)
  })

  it('refuses (a bug) any step path outside the safe set', () => {
    const unsafe = ["/tmp/a'b", '/tmp/$(id)', '/tmp/`id`', '/tmp/a"b', '/tmp/a\nb', 'relative/path', '/tmp/../etc/x', '/tmp/é', '/tmp/a\\b', '/tmp/a!b', '/tmp/%PATH%']
    for (const path of unsafe) {
      const plan = { steps: [{ kind: 'install-file' as const, source: path, expected: '/tmp/e', targetPathFile: '/tmp/t' }] }
      expect(() => buildPrivilegedScript('linux', plan)).toThrow(/unsafe path/)
    }
  })
})

describe('isSafeAppPath', () => {
  it('accepts the data folders the app really uses', () => {
    expect(isSafeAppPath('linux', '/home/dev/.config/ACR Bridge/elevate-x1Y2z3/run.sh')).toBe(true)
    expect(isSafeAppPath('darwin', '/Users/dev/Library/Application Support/ACR Bridge')).toBe(true)
    expect(isSafeAppPath('win32', 'C:\\Users\\RUNNER~1\\AppData\\Roaming\\ACR Bridge\\elevate-x\\run.ps1')).toBe(true)
    expect(isSafeAppPath('win32', 'C:\\Program Files (x86)\\x')).toBe(true)
  })

  it('rejects anything a shell, cmd or PowerShell could read as code', () => {
    for (const path of ['', 'x', '/a/./b', '/a//b', '/a/', "/a'", '/a;b', '/a|b', '/a&b', '/a*', '/a?', '/a\tb', '/a\u2019b']) {
      expect(isSafeAppPath('linux', path)).toBe(false)
    }
    for (const path of ['C:relative', '\\\\server\\share\\x', 'C:\\a\\..\\b', "C:\\O'Brien", 'C:\\a%b%', 'C:\\a!b', 'C:\\a^b', 'C:\\a&b', 'C:\\a"b', 'C:\\用户', '/posix/path']) {
      expect(isSafeAppPath('win32', path)).toBe(false)
    }
    expect(() => assertSafeAppPath('linux', '/a;b')).toThrow()
  })
})

describe('buildElevatedCommand', () => {
  it('is a fixed command line with only the script path in it', () => {
    expect(buildElevatedCommand('linux', '/home/dev/.config/ACR Bridge/elevate-a/run.sh')).toBe("/bin/sh '/home/dev/.config/ACR Bridge/elevate-a/run.sh'")
    expect(buildElevatedCommand('darwin', '/Users/d/x/run.sh')).toBe("/bin/sh '/Users/d/x/run.sh'")
    expect(buildElevatedCommand('win32', 'C:\\Users\\d\\ACR Bridge\\elevate-a\\run.ps1')).toBe(
      'powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\Users\\d\\ACR Bridge\\elevate-a\\run.ps1"',
    )
    expect(() => buildElevatedCommand('linux', "/tmp/x'; reboot; '")).toThrow()
  })
})

describe('the POSIX script, run for real on temp files', () => {
  let dir: string

  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'acr-bridge-script-'))
  })

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true })
  })

  async function stage(target: string, expected: string, content: string): Promise<string> {
    await fs.writeFile(join(dir, 'content.new'), content)
    await fs.writeFile(join(dir, 'content.expected'), expected)
    await fs.writeFile(join(dir, 'target-path'), target)
    const script = buildPrivilegedScript('linux', {
      steps: [{ kind: 'install-file', source: join(dir, 'content.new'), expected: join(dir, 'content.expected'), targetPathFile: join(dir, 'target-path') }],
    })
    const scriptPath = join(dir, 'run.sh')
    await fs.writeFile(scriptPath, script, { mode: 0o600 })
    return scriptPath
  }

  function run(scriptPath: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile('/bin/sh', [scriptPath], (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? -1), stdout, stderr })
      })
    })
  }

  it('replaces the target atomically and keeps its mode and owner', async () => {
    const targetDir = join(dir, "odd 'dir' $(x)")
    await fs.mkdir(targetDir)
    const target = join(targetDir, 'hosts')
    await fs.writeFile(target, 'old\n')
    await fs.chmod(target, 0o644)
    const uid = process.getuid?.() === 0 ? 4242 : process.getuid?.() ?? 0
    if (process.getuid?.() === 0) await fs.chown(target, 4242, 4343)
    const inode = (await fs.stat(target)).ino
    const result = await run(await stage(target, 'old\n', 'new\n'))
    expect(result).toMatchObject({ code: 0, stdout: 'acr-bridge: method=rename\n' })
    expect(await fs.readFile(target, 'utf8')).toBe('new\n')
    const stat = await fs.stat(target)
    expect(stat.mode & 0o7777).toBe(0o644)
    expect(stat.uid).toBe(uid)
    expect(stat.ino).not.toBe(inode)
    expect((await fs.readdir(targetDir)).sort()).toEqual(['hosts'])
  })

  it('handles a target name that ends with a line break (command substitution would strip it)', async () => {
    const target = join(dir, 'hosts\n\n')
    await fs.writeFile(target, 'old\n')
    await fs.writeFile(join(dir, 'hosts'), 'not me\n')
    const result = await run(await stage(target, 'old\n', 'new\n'))
    expect(result.code).toBe(0)
    expect(await fs.readFile(target, 'utf8')).toBe('new\n')
    expect(await fs.readFile(join(dir, 'hosts'), 'utf8')).toBe('not me\n')
  })

  it('changes nothing and exits 75 when the target no longer holds the expected bytes', async () => {
    const target = join(dir, 'hosts')
    await fs.writeFile(target, 'someone else wrote this\n')
    const result = await run(await stage(target, 'old\n', 'new\n'))
    expect(result.code).toBe(75)
    expect(result.stderr).toContain('target-changed')
    expect(await fs.readFile(target, 'utf8')).toBe('someone else wrote this\n')
  })

  it('refuses a symlink target and a relative target path', async () => {
    const real = join(dir, 'real')
    await fs.writeFile(real, 'old\n')
    await fs.symlink(real, join(dir, 'link'))
    expect((await run(await stage(join(dir, 'link'), 'old\n', 'new\n'))).code).toBe(66)
    await fs.rm(join(dir, 'content.new'))
    await fs.rm(join(dir, 'content.expected'))
    await fs.rm(join(dir, 'target-path'))
    expect((await run(await stage('real', 'old\n', 'new\n'))).code).toBe(64)
    expect(await fs.readFile(real, 'utf8')).toBe('old\n')
  })
})
