import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))

// One config: the renderer build (default), the sandboxed preload bundle (`--mode preload`,
// a single CommonJS file, as Electron's sandbox requires) and the test projects.
export default defineConfig(({ mode }) => {
  if (mode === 'preload') {
    return {
      build: {
        outDir: 'dist/electron/preload',
        emptyOutDir: true,
        ssr: true,
        target: 'node20',
        minify: false,
        rollupOptions: {
          input: 'electron/preload/index.ts',
          external: ['electron'],
          output: { format: 'cjs', entryFileNames: 'preload.cjs', inlineDynamicImports: true },
        },
      },
    }
  }
  return {
    root: 'renderer',
    base: './',
    plugins: [react()],
    build: {
      outDir: '../dist/renderer',
      emptyOutDir: true,
      // index.html is the app's window; host.html is the test host's page (test/e2e/host, never packaged).
      rollupOptions: {
        input: {
          index: fileURLToPath(new URL('./renderer/index.html', import.meta.url)),
          host: fileURLToPath(new URL('./renderer/host.html', import.meta.url)),
        },
      },
    },
    test: {
      root,
      projects: [
        { extends: true, test: { name: 'unit', root, include: ['test/unit/**/*.test.{ts,tsx}'], environment: 'node' } },
        { extends: true, test: { name: 'renderer', root, include: ['test/renderer/**/*.test.{ts,tsx}'], environment: 'jsdom' } },
        {
          // The Electron glue with the `electron` module replaced (the binary is never needed): this project only.
          extends: true,
          resolve: { alias: { electron: fileURLToPath(new URL('./test/fakes/electron.ts', import.meta.url)) } },
          test: { name: 'electron', root, include: ['test/electron/**/*.test.ts'], environment: 'node' },
        },
        {
          extends: true,
          test: {
            name: 'integration', root, include: ['test/integration/**/*.test.ts'], environment: 'node',
            testTimeout: 60_000, hookTimeout: 120_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'world', root, include: ['test/world/**/*.test.ts'], environment: 'node',
            testTimeout: 180_000, hookTimeout: 300_000, fileParallelism: false,
          },
        },
        {
          extends: true,
          test: {
            name: 'e2e', root, include: ['test/e2e/**/*.test.ts'], environment: 'node',
            testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false,
          },
        },
      ],
    },
  }
})
