// The addresses an allowed name resolved to, reused for a few seconds.
//
// A docker pull opens a burst of connections to the same few names, and each lookup goes through the OS resolver
// (a hop to a worker thread and back, ~0.06 ms on an idle machine and more under load). The relay runs its address
// checks on every use of an answer, so a cached answer is judged exactly as a fresh one; only answers are kept,
// never failures; lookups of one name that overlap share one resolver call. The number of names kept is bounded,
// as a `*.aliyuncs.com` pattern lets a client ask for any number of names.

import type { RelayLookup, ResolvedAddress } from './types.js'

export interface LookupCacheOptions {
  /** How long an answer is reused after it arrived; > 0. */
  readonly ttlMs: number
  /** Names kept at most; the one stored longest ago goes first. Default 256. */
  readonly maxNames?: number
  /** The clock (milliseconds); Date.now by default. */
  readonly now?: () => number
}

interface Entry {
  readonly answer: Promise<readonly ResolvedAddress[]>
  /** When the answer stops being reused; Infinity while the lookup runs. */
  expiresAt: number
}

/** `lookup` with its answers reused for `ttlMs` (see above). */
export function cachingLookup(lookup: RelayLookup, options: LookupCacheOptions): RelayLookup {
  const maxNames = options.maxNames ?? 256
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry>()

  return (name) => {
    const cached = entries.get(name)
    if (cached !== undefined && cached.expiresAt > now()) return cached.answer
    if (cached !== undefined) entries.delete(name)

    const entry: Entry = { answer: lookup(name), expiresAt: Number.POSITIVE_INFINITY }
    entries.set(name, entry)
    while (entries.size > maxNames) {
      const oldest = entries.keys().next().value
      if (oldest === undefined) break
      entries.delete(oldest)
    }
    entry.answer.then(
      () => {
        entry.expiresAt = now() + options.ttlMs
      },
      () => {
        if (entries.get(name) === entry) entries.delete(name)
      },
    )
    return entry.answer
  }
}
