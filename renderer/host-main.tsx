// Entry of host.html, the page the TEST HOST serves (test/e2e/host): the real App over an HTTP/SSE bridge to the
// real core. Not the desktop app's entry (main.tsx) and not packaged (build/electron-builder.yml excludes it).
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app.js'
import { installErrorReporting } from './error-reporting.js'
import { createHostBridge } from './host-bridge.js'
import './styles.css'

const api = createHostBridge()
installErrorReporting(api)

const root = document.getElementById('root')
if (root === null) throw new Error('host.html has no #root element')
createRoot(root).render(
  <StrictMode>
    <App api={api} />
  </StrictMode>,
)
