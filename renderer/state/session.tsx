import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import type { CheckResult, NameTraffic, Result, SessionState } from '../../electron/common/ipc-contract.js'
import { settle, useBridge } from '../bridge.js'

export interface Rate {
  readonly up: number
  readonly down: number
}

export interface Throughput {
  /** Bytes per second since the previous state, all names. */
  readonly total: Rate
  readonly byName: ReadonlyMap<string, Rate>
}

export interface Diagnostics {
  readonly results: readonly CheckResult[]
  /** ISO time the results arrived. */
  readonly at: string
}

export interface SessionStore {
  /** undefined until the first state arrives. */
  readonly state: SessionState | undefined
  readonly throughput: Throughput
  readonly diagnostics: Diagnostics | undefined
  readonly connect: () => Promise<Result<SessionState>>
  readonly disconnect: () => Promise<Result<SessionState>>
  readonly runDiagnostics: () => Promise<Result<readonly CheckResult[]>>
}

const noRate: Rate = { up: 0, down: 0 }
const noThroughput: Throughput = { total: noRate, byName: new Map() }

interface Sample {
  readonly at: number
  readonly traffic: readonly NameTraffic[]
}

/** Rates from two traffic samples (counters only grow; a reset counts as zero). */
export function throughputBetween(before: Sample, after: Sample): Throughput {
  const seconds = (after.at - before.at) / 1000
  if (seconds <= 0) return noThroughput
  const previous = new Map(before.traffic.map((t) => [t.name, t]))
  const byName = new Map<string, Rate>()
  let up = 0
  let down = 0
  for (const t of after.traffic) {
    const p = previous.get(t.name)
    const rate = {
      up: Math.max(0, t.bytesUp - (p?.bytesUp ?? 0)) / seconds,
      down: Math.max(0, t.bytesDown - (p?.bytesDown ?? 0)) / seconds,
    }
    byName.set(t.name, rate)
    up += rate.up
    down += rate.down
  }
  return { total: { up, down }, byName }
}

const SessionContext = createContext<SessionStore | undefined>(undefined)

/**
 * The session state, pushed by session:state-changed (no polling): one session:state call at mount for the
 * current value, then events only. Diagnostics results come from diagnostics:completed or from a run.
 */
export function SessionProvider({ children, now = Date.now }: { readonly children: ReactNode; readonly now?: () => number }) {
  const api = useBridge()
  const [state, setState] = useState<SessionState | undefined>(undefined)
  const [throughput, setThroughput] = useState<Throughput>(noThroughput)
  const [diagnostics, setDiagnostics] = useState<Diagnostics | undefined>(undefined)
  const sample = useRef<Sample | undefined>(undefined)
  const clock = useRef(now)
  clock.current = now

  const accept = useCallback((next: SessionState) => {
    const current: Sample = { at: clock.current(), traffic: next.traffic }
    const before = sample.current
    if (before !== undefined) setThroughput(throughputBetween(before, current))
    sample.current = current
    setState(next)
  }, [])

  useEffect(() => {
    let live = true
    let pushed = false
    const offState = api.onSessionStateChanged((next) => {
      pushed = true
      accept(next)
    })
    const offDiagnostics = api.onDiagnosticsCompleted((results) =>
      setDiagnostics({ results, at: new Date(clock.current()).toISOString() }),
    )
    void settle(() => api.session.state()).then((result) => {
      if (live && !pushed && result.ok) accept(result.value)
    })
    return () => {
      live = false
      offState()
      offDiagnostics()
    }
  }, [api, accept])

  const connect = useCallback(async () => {
    const result = await settle(() => api.session.connect())
    if (result.ok) accept(result.value)
    return result
  }, [api, accept])
  const disconnect = useCallback(async () => {
    const result = await settle(() => api.session.disconnect())
    if (result.ok) accept(result.value)
    return result
  }, [api, accept])
  const runDiagnostics = useCallback(async () => {
    const result = await settle(() => api.diagnostics.run())
    if (result.ok) setDiagnostics({ results: result.value, at: new Date(clock.current()).toISOString() })
    return result
  }, [api])

  const value = useMemo<SessionStore>(
    () => ({ state, throughput, diagnostics, connect, disconnect, runDiagnostics }),
    [state, throughput, diagnostics, connect, disconnect, runDiagnostics],
  )
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

export function useSession(): SessionStore {
  const value = useContext(SessionContext)
  if (value === undefined) throw new Error('useSession() needs a <SessionProvider> above it')
  return value
}
