#!/usr/bin/env node
import { runCli } from './run.js'

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
