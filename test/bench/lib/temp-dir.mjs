// A temp folder for one bench run, removed on every path: by remove() in a finally block, or by onInterrupt when
// the bench is stopped with SIGINT or SIGTERM.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onInterrupt } from './proc.mjs'

/** Creates `<tmpdir>/<prefix>XXXXXX`; remove() deletes it with everything in it (idempotent). */
export async function createTempDir(prefix) {
  const path = await mkdtemp(join(tmpdir(), prefix))
  let forget = () => {}
  const remove = async () => {
    forget()
    await rm(path, { recursive: true, force: true })
  }
  forget = onInterrupt(remove)
  return { path, remove }
}
