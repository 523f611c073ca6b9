// Renders the whole window against a fake bridge. Every renderer test goes through this.
import { cleanup, render, screen } from '@testing-library/react'
import { afterEach } from 'vitest'
import { App, type TabId } from '../../renderer/app.js'
import { createFakeBridge, type FakeBridge, type FakeBridgeOptions } from '../fakes/fake-bridge.js'

afterEach(() => {
  cleanup()
  delete document.documentElement.dataset['theme']
})

export function renderApp(options: FakeBridgeOptions & { readonly tab?: TabId; readonly bridge?: FakeBridge } = {}) {
  const bridge = options.bridge ?? createFakeBridge(options)
  const view = render(<App api={bridge.api} initialTab={options.tab ?? 'status'} />)
  return { ...view, bridge }
}

/** Waits until the config-dependent panels have loaded (their first heading shows). */
export async function loaded(heading: string | RegExp): Promise<void> {
  await screen.findByRole('heading', { name: heading })
}
