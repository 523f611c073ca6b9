import { createContext, useContext, useEffect, useState, type ReactNode } from 'react'
import type { LogEntry } from '../../electron/common/ipc-contract.js'
import { settle, useBridge } from '../bridge.js'

/** The window keeps at most this many lines. */
export const logLimit = 1000

const LogContext = createContext<readonly LogEntry[] | undefined>(undefined)

function sameEntry(a: LogEntry, b: LogEntry): boolean {
  return a.time === b.time && a.level === b.level && a.message === b.message
}

/** The log: log:tail once at mount, then log:appended events; kept while the Log tab is closed. */
export function LogProvider({ children }: { readonly children: ReactNode }) {
  const api = useBridge()
  const [entries, setEntries] = useState<readonly LogEntry[]>([])

  useEffect(() => {
    let live = true
    const off = api.onLogAppended((entry) => setEntries((current) => [...current, entry].slice(-logLimit)))
    void settle(() => api.log.tail({ limit: 200 })).then((result) => {
      if (!live || !result.ok) return
      const tail = result.value
      // Lines appended while the tail was on its way may also be in the tail: keep each once.
      setEntries((appended) => [...tail, ...appended.filter((e) => !tail.some((t) => sameEntry(t, e)))].slice(-logLimit))
    })
    return () => {
      live = false
      off()
    }
  }, [api])

  return <LogContext.Provider value={entries}>{children}</LogContext.Provider>
}

export function useLog(): readonly LogEntry[] {
  const value = useContext(LogContext)
  if (value === undefined) throw new Error('useLog() needs a <LogProvider> above it')
  return value
}
