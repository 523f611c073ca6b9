// Entry of the window: the only module with side effects. Everything else is composed in app.tsx.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app.js'
import { installErrorReporting } from './error-reporting.js'
import './styles.css'

// The window's own errors reach the main log (log:write); the app itself reaches window.acr only through App.
if (window.acr !== undefined) installErrorReporting(window.acr)

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root element')
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
