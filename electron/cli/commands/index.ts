import type { Command } from '../run.js'
import { applyCommand } from './apply.js'
import { catalogCommand } from './catalog.js'
import { discoverCommand } from './discover.js'
import { doctorCommand } from './doctor.js'
import { hostsCommand } from './hosts.js'
import { relayCommand } from './relay.js'
import { revertCommand } from './revert.js'
import { upCommand } from './up.js'

/** Every command of the CLI contract (DESIGN.md), in the order `help` lists them. */
export const commands: readonly Command[] = [catalogCommand, hostsCommand, applyCommand, revertCommand, upCommand, doctorCommand, discoverCommand, relayCommand]
