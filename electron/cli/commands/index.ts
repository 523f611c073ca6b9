import type { Command } from '../run.js'
import { catalogCommand } from './catalog.js'
import { relayCommand } from './relay.js'
import { upCommand } from './up.js'

/** Every command of the CLI contract (DESIGN.md), in the order `help` lists them. */
export const commands: readonly Command[] = [catalogCommand, upCommand, relayCommand]
