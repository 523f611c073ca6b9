// A temp folder per test file, made before its tests and removed after them (also when one fails), and a new
// numbered folder inside it per case: the scaffolding of the tests that write hosts files, data folders and configs.

import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'

export interface CaseFolders {
  /** The test file's folder (from its beforeAll on). */
  readonly root: string
  /** Makes a new empty folder under root (case-1, case-2 …) and returns its path. */
  next(): Promise<string>
}

/** Call at the top level of a test file: registers the beforeAll that makes the folder and the afterAll that removes it. */
export function useCaseFolders(prefix: string): CaseFolders {
  let root: string | undefined
  let count = 0
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), prefix))
  })
  afterAll(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true, maxRetries: 3 })
  })
  const folders: CaseFolders = {
    get root(): string {
      if (root === undefined) throw new Error('useCaseFolders: the folder is made in beforeAll; use it inside a test or hook')
      return root
    },
    async next() {
      const dir = join(folders.root, `case-${++count}`)
      await mkdir(dir)
      return dir
    },
  }
  return folders
}
