// The `renderer` project's DOM: Vitest's own jsdom environment, preceded by three small shims that let the pinned
// jsdom (31, whose engines field asks for Node >= 22) load on Node 20:
//   - zlib.createZstdDecompress (undici builds its decoder table at load time; zstd bodies are never used here),
//   - worker_threads.markAsUncloneable (undici marks its objects; a no-op only affects structured cloning of them),
//   - the global Iterator with the iterator helpers (jsdom's tree iterators extend it).
// On Node >= 22 every shim is skipped. Test files select this with `// @vitest-environment ./test/renderer/jsdom-env.ts`.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Environment } from 'vitest/runtime'
import { builtinEnvironments } from 'vitest/runtime'

const require = createRequire(import.meta.url)

function shimZstd(): void {
  const zlib = require('node:zlib') as Record<string, unknown> & { constants: Record<string, number | undefined> }
  if (typeof zlib['createZstdDecompress'] === 'function') return
  zlib['createZstdDecompress'] = () => {
    throw new Error('zstd decompression needs Node >= 22')
  }
  if (zlib.constants['ZSTD_d_windowLogMax'] === undefined) zlib.constants['ZSTD_d_windowLogMax'] = 100
}

function shimMarkAsUncloneable(): void {
  const workerThreads = require('node:worker_threads') as Record<string, unknown>
  if (typeof workerThreads['markAsUncloneable'] !== 'function') workerThreads['markAsUncloneable'] = () => {}
}

function shimIterator(): void {
  const global = globalThis as Record<string, unknown>
  if (typeof global['Iterator'] === 'function') return
  const prototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object
  function Iterator(): void {}
  Iterator.prototype = prototype
  Object.defineProperty(prototype, 'constructor', { value: Iterator, writable: true, configurable: true })
  const helpers: Record<string, (this: Iterable<unknown>, ...args: never[]) => unknown> = {
    *map(fn: (v: unknown, i: number) => unknown) {
      let i = 0
      for (const v of this) yield fn(v, i++)
    },
    *filter(fn: (v: unknown, i: number) => boolean) {
      let i = 0
      for (const v of this) if (fn(v, i++)) yield v
    },
    *take(n: number) {
      if (n <= 0) return
      let i = 0
      for (const v of this) {
        yield v
        if (++i >= n) return
      }
    },
    *drop(n: number) {
      let i = 0
      for (const v of this) if (i++ >= n) yield v
    },
    *flatMap(fn: (v: unknown, i: number) => Iterable<unknown>) {
      let i = 0
      for (const v of this) yield* fn(v, i++)
    },
    toArray() {
      return [...this]
    },
    forEach(fn: (v: unknown, i: number) => void) {
      let i = 0
      for (const v of this) fn(v, i++)
    },
    some(fn: (v: unknown, i: number) => boolean) {
      let i = 0
      for (const v of this) if (fn(v, i++)) return true
      return false
    },
    every(fn: (v: unknown, i: number) => boolean) {
      let i = 0
      for (const v of this) if (!fn(v, i++)) return false
      return true
    },
    find(fn: (v: unknown, i: number) => boolean) {
      let i = 0
      for (const v of this) if (fn(v, i++)) return v
      return undefined
    },
    reduce(fn: (acc: unknown, v: unknown, i: number) => unknown, ...initial: unknown[]) {
      let i = 0
      let started = initial.length > 0
      let acc = initial[0]
      for (const v of this) {
        if (started) acc = fn(acc, v, i)
        else {
          acc = v
          started = true
        }
        i++
      }
      if (!started) throw new TypeError('Reduce of empty iterator with no initial value')
      return acc
    },
  }
  for (const [name, fn] of Object.entries(helpers)) {
    if (!(name in prototype)) Object.defineProperty(prototype, name, { value: fn, writable: true, configurable: true })
  }
  // Only jsdom's dom-tree.js names `Iterator` (`class … extends Iterator`, at load). The global must be gone again
  // before jsdom's Window.js lists the JS globals to copy into each window's VM context: that context has no
  // Iterator on Node 20, and copying a missing global throws. So: load dom-tree.js with the global, drop it, load jsdom.
  global['Iterator'] = Iterator
  const jsdomMain = require.resolve('jsdom')
  require(join(dirname(jsdomMain), 'jsdom', 'living', 'helpers', 'dom-tree.js'))
  delete global['Iterator']
  require('jsdom')
}

shimZstd()
shimMarkAsUncloneable()
shimIterator()

const jsdom: Environment = builtinEnvironments.jsdom
export default { ...jsdom, name: 'jsdom-node20' } satisfies Environment
