#!/usr/bin/env node
// Generates every icon the app ships, with no dependencies: shapes drawn in code, anti-aliased by supersampling,
// written as PNG (zlib), ICO (PNG entries) and ICNS (PNG entries). Run from anywhere: `node build/make-icons.mjs`.
// The output is committed; re-run after changing a shape or colour.
//
//   build/tray/tray-<state>.png, @2x          Linux tray, 16 px (+32)         colour, shape per state
//   build/tray/tray-<state>-32.png, @2x       Linux tray, 32 px (+64)
//   build/tray/tray-<state>Template.png, @2x  macOS menu bar, 16 pt (+32 px)  black + alpha (the OS tints it)
//   build/tray/tray-<state>.ico               Windows notification area, 16/20/24/32/40/48
//   build/tray/app-icon.png                   the window icon at run time (Linux), 256
//   build/icon.png, icon.ico, icon.icns       the app icon for electron-builder (512; 16…256; 16…1024)
//   build/icons/<n>x<n>.png                   Linux desktop icon set
//
// States and shapes (template images cannot carry colour, so the shape alone must tell the state apart):
//   off ring · starting ring + dot · healthy filled disc · degraded ring + half fill · down ring + cross

import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

const here = dirname(fileURLToPath(import.meta.url))

// ------------------------------------------------------------------------------------------------ PNG / ICO / ICNS

const crcTable = new Uint32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(bytes) {
  let c = 0xffffffff
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, 'ascii')
  data.copy(out, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
  return out
}

/** RGBA (Uint8Array, size*size*4) → PNG bytes. */
export function encodePng(size, rgba) {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // colour type RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1))
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0 // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** ICO container with PNG entries (Windows Vista and later read these). */
export function encodeIco(images) {
  const header = Buffer.alloc(6)
  header.writeUInt16LE(0, 0)
  header.writeUInt16LE(1, 2) // type: icon
  header.writeUInt16LE(images.length, 4)
  const entries = []
  let offset = 6 + 16 * images.length
  for (const { size, png } of images) {
    const entry = Buffer.alloc(16)
    entry[0] = size >= 256 ? 0 : size
    entry[1] = size >= 256 ? 0 : size
    entry.writeUInt16LE(1, 4) // planes
    entry.writeUInt16LE(32, 6) // bits per pixel
    entry.writeUInt32LE(png.length, 8)
    entry.writeUInt32LE(offset, 12)
    offset += png.length
    entries.push(entry)
  }
  return Buffer.concat([header, ...entries, ...images.map((i) => i.png)])
}

/** ICNS container with PNG entries. */
export function encodeIcns(entries) {
  const parts = entries.map(({ type, png }) => {
    const head = Buffer.alloc(8)
    head.write(type, 0, 'ascii')
    head.writeUInt32BE(8 + png.length, 4)
    return Buffer.concat([head, png])
  })
  const body = Buffer.concat(parts)
  const head = Buffer.alloc(8)
  head.write('icns', 0, 'ascii')
  head.writeUInt32BE(8 + body.length, 4)
  return Buffer.concat([head, body])
}

// ------------------------------------------------------------------------------------------------ rasteriser

/**
 * Renders layers over a transparent canvas. Each layer: { color: [r,g,b] or (x,y)=>[r,g,b], inside(x,y) }, with x,y
 * in [-1,1], y pointing UP. Coverage per pixel comes from samples×samples points.
 */
function render(size, layers, samples = 4) {
  const rgba = new Uint8Array(size * size * 4)
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0
      let g = 0
      let b = 0
      let a = 0 // premultiplied accumulation, "over" per layer
      for (const layer of layers) {
        let hits = 0
        for (let sy = 0; sy < samples; sy++) {
          for (let sx = 0; sx < samples; sx++) {
            const x = ((px + (sx + 0.5) / samples) / size) * 2 - 1
            const y = 1 - ((py + (sy + 0.5) / samples) / size) * 2
            if (layer.inside(x, y)) hits++
          }
        }
        const coverage = hits / (samples * samples)
        if (coverage === 0) continue
        const cx = ((px + 0.5) / size) * 2 - 1
        const cy = 1 - ((py + 0.5) / size) * 2
        const [lr, lg, lb] = typeof layer.color === 'function' ? layer.color(cx, cy) : layer.color
        r = lr * coverage + r * (1 - coverage)
        g = lg * coverage + g * (1 - coverage)
        b = lb * coverage + b * (1 - coverage)
        a = coverage + a * (1 - coverage)
      }
      const i = (py * size + px) * 4
      if (a > 0) {
        rgba[i] = Math.round(r / a)
        rgba[i + 1] = Math.round(g / a)
        rgba[i + 2] = Math.round(b / a)
      }
      rgba[i + 3] = Math.round(a * 255)
    }
  }
  return rgba
}

// ------------------------------------------------------------------------------------------------ tray shapes

const R = 0.86 // outer radius
const stroke = 0.26 // ring width (2 px at 16 px)
const radius = (x, y) => Math.hypot(x, y)
const disc = (x, y) => radius(x, y) <= R
const ring = (x, y) => radius(x, y) <= R && radius(x, y) >= R - stroke
const dot = (x, y) => radius(x, y) <= 0.32
const leftHalf = (x, y) => disc(x, y) && x <= 0
const cross = (x, y) => radius(x, y) <= R - stroke - 0.06 && (Math.abs(x - y) / Math.SQRT2 <= 0.13 || Math.abs(x + y) / Math.SQRT2 <= 0.13)

const colors = {
  off: [138, 143, 152],
  starting: [219, 154, 4],
  healthy: [46, 160, 67],
  degraded: [227, 98, 9],
  down: [209, 36, 47],
}

/** The shape of each state: one `inside` test (the same for colour and template images). */
const shapes = {
  off: ring,
  starting: (x, y) => ring(x, y) || dot(x, y),
  healthy: disc,
  degraded: (x, y) => ring(x, y) || leftHalf(x, y),
  down: (x, y) => ring(x, y) || cross(x, y),
}

const states = ['off', 'starting', 'healthy', 'degraded', 'down']

function trayPng(state, size, template) {
  const color = template ? [0, 0, 0] : colors[state]
  return encodePng(size, render(size, [{ color, inside: shapes[state] }]))
}

// ------------------------------------------------------------------------------------------------ app icon

function appIconLayers() {
  const corner = 0.36
  const half = 0.88
  const roundedSquare = (x, y) => {
    const qx = Math.abs(x) - (half - corner)
    const qy = Math.abs(y) - (half - corner)
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) <= corner
  }
  const top = [255, 122, 26] // warm orange
  const bottom = [214, 64, 0]
  const gradient = (_x, y) => {
    const t = (1 - y) / 2
    return top.map((c, i) => c + (bottom[i] - c) * t)
  }
  const deck = (x, y) => Math.abs(x) <= 0.64 && y >= -0.34 && y <= -0.2
  const archOuter = 0.68
  const archInner = 0.54
  const archCenter = -0.52
  const arch = (x, y) => {
    const r = Math.hypot(x, y - archCenter)
    return r <= archOuter && r >= archInner && y >= -0.34
  }
  const hanger = (x, y) => {
    const top = archCenter + Math.sqrt(Math.max(0, archInner * archInner - x * x))
    return [-0.3, 0, 0.3].some((hx) => Math.abs(x - hx) <= 0.035) && y >= -0.2 && y <= top
  }
  const pillar = (x, y) => [-0.56, 0.56].some((cx) => Math.abs(x - cx) <= 0.07) && y <= -0.2 && y >= -0.64
  const white = [255, 255, 255]
  return [
    { color: gradient, inside: roundedSquare },
    // The bridge drawn around y = -0.3, lifted to sit in the optical centre.
    { color: white, inside: (x, y) => deck(x, y - 0.24) || arch(x, y - 0.24) || hanger(x, y - 0.24) || pillar(x, y - 0.24) },
  ]
}

function appPng(size) {
  return encodePng(size, render(size, appIconLayers(), size >= 512 ? 2 : 4))
}

// ------------------------------------------------------------------------------------------------ write

function write(relative, bytes) {
  const path = join(here, relative)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, bytes)
  return relative
}

const written = []
for (const state of states) {
  written.push(write(`tray/tray-${state}.png`, trayPng(state, 16, false)))
  written.push(write(`tray/tray-${state}@2x.png`, trayPng(state, 32, false)))
  written.push(write(`tray/tray-${state}-32.png`, trayPng(state, 32, false)))
  written.push(write(`tray/tray-${state}-32@2x.png`, trayPng(state, 64, false)))
  written.push(write(`tray/tray-${state}Template.png`, trayPng(state, 16, true)))
  written.push(write(`tray/tray-${state}Template@2x.png`, trayPng(state, 32, true)))
  written.push(write(`tray/tray-${state}.ico`, encodeIco([16, 20, 24, 32, 40, 48].map((size) => ({ size, png: trayPng(state, size, false) })))))
}

const appSizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024]
const app = Object.fromEntries(appSizes.map((size) => [size, appPng(size)]))
written.push(write('tray/app-icon.png', app[256]))
written.push(write('icon.png', app[512]))
written.push(write('icon.ico', encodeIco([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, png: app[size] })))))
written.push(
  write(
    'icon.icns',
    encodeIcns([
      { type: 'icp4', png: app[16] },
      { type: 'icp5', png: app[32] },
      { type: 'icp6', png: app[64] },
      { type: 'ic07', png: app[128] },
      { type: 'ic08', png: app[256] },
      { type: 'ic09', png: app[512] },
      { type: 'ic10', png: app[1024] },
      { type: 'ic11', png: app[32] },
      { type: 'ic12', png: app[64] },
      { type: 'ic13', png: app[256] },
      { type: 'ic14', png: app[512] },
    ]),
  ),
)
for (const size of [16, 32, 48, 64, 128, 256, 512]) written.push(write(`icons/${size}x${size}.png`, app[size]))

console.log(`wrote ${written.length} files under build/`)
