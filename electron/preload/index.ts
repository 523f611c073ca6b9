// The preload (sandboxed; bundled to dist/electron/preload/preload.cjs by `npm run build:preload`).
// Exposes window.acr and nothing else.

import { contextBridge, ipcRenderer } from 'electron'
import { buildAcrApi } from './api.js'

contextBridge.exposeInMainWorld('acr', buildAcrApi(ipcRenderer))
