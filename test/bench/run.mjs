#!/usr/bin/env node
// `npm run bench` (after `npm run build`): runs every part in test/bench/parts/*.mjs in name order, one after the
// other, prints each figure as it comes, writes test/bench/results/latest.json and prints a markdown table for the
// README. `node test/bench/run.mjs hosts` runs only the parts named.
//
// A part is a module exporting `async function run(report)`. `report.figure({ name, value, unit, runs?, note? })`
// records one figure (a median, usually); `report.log(text)` prints context. A part that throws is reported as
// failed, the others still run, and the runner exits 1.

import { readdir, mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, release } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const partsDir = join(benchDir, 'parts')
const resultsFile = join(benchDir, 'results', 'latest.json')

function formatValue(value) {
  if (!Number.isFinite(value)) return String(value)
  if (Math.abs(value) >= 100) return value.toFixed(0)
  if (Math.abs(value) >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

function createReport(part, figures) {
  return {
    figure({ name, value, unit, runs, note }) {
      if (typeof name !== 'string' || typeof value !== 'number' || typeof unit !== 'string') {
        throw new Error(`bench part ${part}: report.figure needs { name: string, value: number, unit: string }`)
      }
      const figure = { part, name, value, unit, ...(runs === undefined ? {} : { runs }), ...(note === undefined ? {} : { note }) }
      figures.push(figure)
      console.log(`  ${name}: ${formatValue(value)} ${unit}${runs === undefined ? '' : ` (median of ${runs})`}${note === undefined ? '' : `  ${note}`}`)
    },
    log(text) {
      console.log(`  ${text}`)
    },
  }
}

function markdownTable(figures) {
  const rows = ['| part | figure | value | runs |', '|---|---|---:|---:|']
  for (const f of figures) rows.push(`| ${f.part} | ${f.name} | ${formatValue(f.value)} ${f.unit} | ${f.runs ?? ''} |`)
  return rows.join('\n')
}

async function main() {
  const wanted = process.argv.slice(2)
  const files = (await readdir(partsDir)).filter((name) => name.endsWith('.mjs')).sort()
  const parts = files.map((file) => ({ name: basename(file, '.mjs'), file: join(partsDir, file) }))
  const unknown = wanted.filter((name) => !parts.some((part) => part.name === name))
  if (unknown.length > 0) {
    console.error(`bench: no part named ${unknown.join(', ')} (parts: ${parts.map((p) => p.name).join(', ')})`)
    process.exit(2)
  }
  const selected = wanted.length === 0 ? parts : parts.filter((part) => wanted.includes(part.name))

  const figures = []
  const results = []
  let failed = false
  for (const part of selected) {
    console.log(`bench ${part.name}`)
    const mine = []
    const started = Date.now()
    try {
      const module = await import(pathToFileURL(part.file).href)
      if (typeof module.run !== 'function') throw new Error(`${part.file} exports no run(report) function`)
      await module.run(createReport(part.name, mine))
      results.push({ part: part.name, seconds: (Date.now() - started) / 1000, figures: mine })
    } catch (error) {
      failed = true
      const message = error instanceof Error ? error.message : String(error)
      console.error(`bench ${part.name} FAILED: ${message}`)
      results.push({ part: part.name, seconds: (Date.now() - started) / 1000, figures: mine, error: message })
    }
    figures.push(...mine)
  }

  const machine = {
    node: process.version,
    platform: `${process.platform} ${release()}`,
    arch: process.arch,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadavg: loadavg().map((value) => Number(value.toFixed(2))),
  }
  await mkdir(join(benchDir, 'results'), { recursive: true })
  await writeFile(resultsFile, `${JSON.stringify({ date: new Date().toISOString(), machine, parts: results }, null, 2)}\n`)

  console.log('')
  console.log(`Node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), load ${machine.loadavg.join(' ')}`)
  console.log('')
  console.log(markdownTable(figures))
  console.log('')
  console.log(`bench: wrote ${join('test', 'bench', 'results', 'latest.json')}${failed ? '; some parts FAILED' : ''}`)
  if (failed) process.exit(1)
}

await main()
