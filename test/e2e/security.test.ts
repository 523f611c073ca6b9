// The window's security options and the policy the BUILT renderer ships with: what Electron would load.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { mainWindowOptions } from '../../electron/main/main-window.js'
import { productionCsp } from '../../electron/main/security.js'
import { ensureRendererBuilt } from './host/browser.js'
import { defaultRendererDir, startTestHost } from './host/test-host.js'

/** The directives of a policy: name → sources. */
function directives(policy: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name !== undefined && name !== '') out.set(name, sources)
  }
  return out
}

function metaPolicy(html: string): string {
  const match = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)
  if (match?.[1] === undefined) throw new Error('no Content-Security-Policy meta tag')
  return match[1]
}

beforeAll(async () => {
  await ensureRendererBuilt()
})

describe('the main window', () => {
  test('every security-relevant web preference is stated: sandboxed, isolated, no Node', () => {
    const options = mainWindowOptions({ preload: '/app/preload.cjs', rendererIndex: '/app/index.html' })
    expect(options['webPreferences']).toMatchObject({
      preload: '/app/preload.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    })
    expect(options['show']).toBe(false)
  })
})

describe('the built renderer’s Content-Security-Policy', () => {
  test('index.html: scripts from the app only, no eval, no inline script, no plugins, no framing', async () => {
    const html = await readFile(join(defaultRendererDir, 'index.html'), 'utf8')
    const policy = directives(metaPolicy(html))
    expect(policy.get('default-src')).toEqual(["'self'"])
    expect(policy.get('script-src')).toEqual(["'self'"])
    expect(policy.get('object-src')).toEqual(["'none'"])
    expect(policy.get('frame-ancestors')).toEqual(["'none'"])
    expect(policy.get('connect-src')).toEqual(["'self'"])
    expect(metaPolicy(html)).not.toContain('unsafe-eval')
    // Every script the build emitted is a file of the app, none inline.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attributes, body] of scripts) {
      expect(body?.trim()).toBe('')
      expect(attributes).toMatch(/\bsrc="\.\/assets\/[^"]+\.js"/)
    }
  })

  test('the header main sets on every response is as strict, and the test host page ships the same policy', async () => {
    expect(productionCsp).not.toContain('unsafe-eval')
    expect(directives(productionCsp).get('script-src')).toEqual(["'self'"])
    const index = metaPolicy(await readFile(join(defaultRendererDir, 'index.html'), 'utf8'))
    const hostPage = metaPolicy(await readFile(join(defaultRendererDir, 'host.html'), 'utf8'))
    expect(hostPage).toBe(index)
    const host = await startTestHost()
    try {
      const response = await fetch(host.url)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-security-policy')).toBe(productionCsp)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      // Nothing outside the built renderer is served.
      expect((await fetch(`${host.origin}/..%2f..%2fpackage.json`)).status).toBe(404)
      expect((await fetch(`${host.origin}/%2e%2e/%2e%2e/package.json`)).status).toBe(404)
    } finally {
      await host.cleanup()
    }
  })
})
