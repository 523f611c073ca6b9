import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { appOriginFor, isAppUrl, isTrustedSender } from '../../electron/main/sender.js'
import type { FrameLike } from '../../electron/main/electron-surface.js'

const index = join('/opt', 'ACR Bridge', 'resources', 'app.asar', 'dist', 'renderer', 'index.html')
const packaged = appOriginFor(index)
const dev = appOriginFor(index, 'http://localhost:5173/')
const ownFile = pathToFileURL(index).href

function top(url: string): FrameLike {
  return { url, parent: null }
}

describe('isTrustedSender', () => {
  test('accepts the packaged page in the top frame (hash routes and queries included)', () => {
    expect(isTrustedSender(top(ownFile), packaged)).toBe(true)
    expect(isTrustedSender(top(`${ownFile}#/settings`), packaged)).toBe(true)
    expect(isTrustedSender(top(`${ownFile}?tab=log`), packaged)).toBe(true)
  })

  test('accepts the dev server origin only when one is configured', () => {
    expect(isTrustedSender(top('http://localhost:5173/'), dev)).toBe(true)
    expect(isTrustedSender(top('http://localhost:5173/src/main.tsx'), dev)).toBe(true)
    expect(isTrustedSender(top('http://localhost:5173/'), packaged)).toBe(false)
  })

  test('rejects a missing or destroyed frame', () => {
    expect(isTrustedSender(null, packaged)).toBe(false)
    expect(isTrustedSender(undefined, packaged)).toBe(false)
  })

  test('rejects an iframe even when it shows the app page', () => {
    const frame: FrameLike = { url: ownFile, parent: top(ownFile) }
    expect(isTrustedSender(frame, packaged)).toBe(false)
  })

  test.each([
    ['another local file', pathToFileURL(join('/tmp', 'evil.html')).href],
    ['a sibling file of the renderer', pathToFileURL(join('/opt', 'ACR Bridge', 'resources', 'app.asar', 'dist', 'renderer', 'other.html')).href],
    ['a path that only starts like ours', `${ownFile}.evil.html`],
    ['a remote site', 'https://example.com/'],
    ['another port on localhost', 'http://localhost:5174/'],
    ['another host with the dev port', 'http://127.0.0.2:5173/'],
    ['the dev origin over https', 'https://localhost:5173/'],
    ['a data: URL', 'data:text/html,<script>1</script>'],
    ['about:blank', 'about:blank'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['garbage', 'not a url'],
    ['an empty string', ''],
    ['a UNC-style file URL', 'file://evil-host/dist/renderer/index.html'],
  ])('rejects %s', (_label, url) => {
    expect(isTrustedSender(top(url), dev)).toBe(false)
  })

  test('percent-encoding of our own path is the same page', () => {
    expect(ownFile).toContain('ACR%20Bridge')
    expect(isAppUrl(ownFile.replace('ACR%20Bridge', 'ACR Bridge'), packaged)).toBe(true)
  })
})
