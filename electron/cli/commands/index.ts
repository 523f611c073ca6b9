import type { Command } from '../run.js'

/** A command's name, and how to load it: each module is imported only when its command runs (start-up time). */
export interface CommandEntry {
  readonly name: string
  load(): Promise<Command>
}

/** Every command of the CLI contract (DESIGN.md), in the order `help` lists them. */
export const commands: readonly CommandEntry[] = [
  { name: 'catalog', load: async () => (await import('./catalog.js')).catalogCommand },
  { name: 'hosts', load: async () => (await import('./hosts.js')).hostsCommand },
  { name: 'apply', load: async () => (await import('./apply.js')).applyCommand },
  { name: 'revert', load: async () => (await import('./revert.js')).revertCommand },
  { name: 'up', load: async () => (await import('./up.js')).upCommand },
  { name: 'doctor', load: async () => (await import('./doctor.js')).doctorCommand },
  { name: 'discover', load: async () => (await import('./discover.js')).discoverCommand },
  { name: 'relay', load: async () => (await import('./relay.js')).relayCommand },
]
