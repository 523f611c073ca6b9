import type { Command } from '../run.js'
import { catalogCommand } from './catalog.js'

/** Every command of the CLI contract (DESIGN.md), in the order `help` lists them. */
export const commands: readonly Command[] = [catalogCommand]
