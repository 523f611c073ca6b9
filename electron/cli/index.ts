#!/usr/bin/env node
import { runCli } from './run.js'

// A closed pipe (`acr-bridge catalog | head`) is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}

let interrupted: Promise<NodeJS.Signals> | undefined
function waitForInterrupt(): Promise<NodeJS.Signals> {
  interrupted ??= new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
  return interrupted
}

process.exitCode = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
  { waitForInterrupt, isTty: process.stdout.isTTY === true },
)
