import { contextBridge } from 'electron'

contextBridge.exposeInMainWorld('acr', {})
