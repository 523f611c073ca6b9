// Builds an OCI image layout directory with Node only: one gzipped tar layer holding one file of random bytes,
// an image config and a manifest, referenced from index.json under a tag.
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { createGzip } from 'node:zlib'

export interface OciImage {
  /** The OCI layout directory. */
  dir: string
  tag: string
  /** `oci:<dir>:<tag>`, the skopeo source reference. */
  ociRef: string
  manifestDigest: string
  manifestSize: number
  configDigest: string
  layers: Array<{ digest: string; size: number; diffId: string }>
  /** Bytes of all blobs (config, layers) plus the manifest. */
  totalBytes: number
}

const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
}

function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512, 0)
  const put = (value: string, offset: number, length: number) => h.write(value, offset, length, 'ascii')
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0'
  put(name, 0, 100)
  put(octal(0o644, 8), 100, 8)
  put(octal(0, 8), 108, 8)
  put(octal(0, 8), 116, 8)
  put(octal(size, 12), 124, 12)
  put(octal(1_700_000_000, 12), 136, 12)
  put('        ', 148, 8) // checksum placeholder: spaces
  put('0', 156, 1)
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const b of h) sum += b
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8)
  return h
}

class Hasher extends Transform {
  readonly hash = createHash('sha256')
  bytes = 0
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk)
    this.bytes += chunk.length
    cb(null, chunk)
  }
}

/** A tar stream of one regular file `random.bin` of `size` random bytes. */
function randomTar(size: number): Readable {
  const chunk = 1024 * 1024
  async function* gen() {
    yield tarHeader('random.bin', size)
    let left = size
    while (left > 0) {
      const n = Math.min(chunk, left)
      yield randomBytes(n)
      left -= n
    }
    const pad = (512 - (size % 512)) % 512
    yield Buffer.alloc(pad + 1024, 0) // pad to a block, then two zero blocks
  }
  return Readable.from(gen())
}

async function writeBlob(blobsDir: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const hex = createHash('sha256').update(data).digest('hex')
  await writeFile(join(blobsDir, hex), data)
  return { digest: `sha256:${hex}`, size: data.length }
}

export async function buildOciImage(dir: string, opts: { sizeMb: number; tag?: string }): Promise<OciImage> {
  const tag = opts.tag ?? 'latest'
  const blobsDir = join(dir, 'blobs', 'sha256')
  await mkdir(blobsDir, { recursive: true })
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))

  const size = Math.round(opts.sizeMb * 1024 * 1024)
  const tarHash = new Hasher()
  const gzHash = new Hasher()
  const tmp = join(blobsDir, 'layer.tmp')
  await pipeline(randomTar(size), tarHash, createGzip({ level: 1 }), gzHash, createWriteStream(tmp))
  const layerHex = gzHash.hash.digest('hex')
  await rename(tmp, join(blobsDir, layerHex))
  const layer = { digest: `sha256:${layerHex}`, size: gzHash.bytes, diffId: `sha256:${tarHash.hash.digest('hex')}` }

  const config = {
    created: '2023-11-14T22:13:20Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { 'org.opencontainers.image.title': 'acr-bridge VPC world test image' } },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created: '2023-11-14T22:13:20Z', created_by: 'acr-bridge test harness' }],
  }
  const configBlob = await writeBlob(blobsDir, Buffer.from(JSON.stringify(config)))
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: configBlob.digest, size: configBlob.size },
    layers: [{ mediaType: MEDIA.layer, digest: layer.digest, size: layer.size }],
  }
  const manifestBlob = await writeBlob(blobsDir, Buffer.from(JSON.stringify(manifest)))
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: MEDIA.manifest,
        digest: manifestBlob.digest,
        size: manifestBlob.size,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify(index))
  return {
    dir,
    tag,
    ociRef: `oci:${dir}:${tag}`,
    manifestDigest: manifestBlob.digest,
    manifestSize: manifestBlob.size,
    configDigest: configBlob.digest,
    layers: [layer],
    totalBytes: configBlob.size + layer.size + manifestBlob.size,
  }
}
