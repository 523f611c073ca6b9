// Test PKI for a VPC world, made with the `openssl` CLI (argument arrays, never a shell string):
// a CA, one leaf per served name (SAN = that name), a deliberately wrong-name leaf from the same CA, and the token
// signer's key and self-signed certificate (the registry's rootcertbundle).
//
// Layout under `dir`: ca.crt ca.key, issued/<name>.{crt,key}, wrong.{crt,key}, token-signer.{crt,key},
// active/<name>.{crt,key} (what the servers present; switched by useWrongCertificate / useRightCertificate).
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const WRONG_CERT_NAME = 'wrong-name.acr-world.invalid'

function openssl(args: readonly string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
  if (r.error) throw new Error(`openssl could not run (is the openssl package installed?): ${r.error.message}`)
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed (exit ${r.status}): ${r.stderr.trim()}`)
}

export interface Pki {
  dir: string
  caFile: string
  caKey: string
  tokenSignerCert: string
  tokenSignerKey: string
  /** The certificate and key a server presents for `name` right now. */
  active(name: string): { cert: string; key: string }
  useWrong(name: string): void
  useRight(name: string): void
}

export function createPki(dir: string, names: readonly string[]): Pki {
  mkdirSync(join(dir, 'issued'), { recursive: true })
  mkdirSync(join(dir, 'active'), { recursive: true })
  // A minimal config so the system openssl.cnf adds no extensions of its own.
  const cnf = join(dir, 'openssl.cnf')
  writeFileSync(cnf, '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n')
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  const caFile = join(dir, 'ca.crt')
  const caKey = join(dir, 'ca.key')
  openssl(['req', '-config', cnf, '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '7',
    '-subj', '/O=acr-bridge tests/CN=acr-bridge VPC world test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', 'subjectKeyIdentifier=hash'])
  const leaf = (name: string, cert: string, key: string) =>
    openssl(['req', '-config', cnf, '-x509', '-CA', caFile, '-CAkey', caKey, ...ec, '-keyout', key, '-out', cert,
      '-days', '7', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
      '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature',
      '-addext', 'extendedKeyUsage=serverAuth'])
  for (const name of names) {
    leaf(name, join(dir, 'issued', `${name}.crt`), join(dir, 'issued', `${name}.key`))
    copyFileSync(join(dir, 'issued', `${name}.crt`), join(dir, 'active', `${name}.crt`))
    copyFileSync(join(dir, 'issued', `${name}.key`), join(dir, 'active', `${name}.key`))
  }
  leaf(WRONG_CERT_NAME, join(dir, 'wrong.crt'), join(dir, 'wrong.key'))
  const tokenSignerCert = join(dir, 'token-signer.crt')
  const tokenSignerKey = join(dir, 'token-signer.key')
  openssl(['req', '-config', cnf, '-x509', ...ec, '-keyout', tokenSignerKey, '-out', tokenSignerCert, '-days', '7',
    '-subj', '/CN=acr-bridge VPC world token signer'])

  const known = new Set(names)
  const check = (name: string) => {
    if (!known.has(name)) throw new Error(`no certificate for ${name}; served names: ${[...known].join(', ')}`)
  }
  // Replace atomically (copy next to it, then rename) so a handshake never reads half a file.
  const install = (fromCert: string, fromKey: string, name: string) => {
    for (const [from, ext] of [[fromKey, 'key'], [fromCert, 'crt']] as const) {
      const to = join(dir, 'active', `${name}.${ext}`)
      copyFileSync(from, `${to}.tmp`)
      renameSync(`${to}.tmp`, to)
    }
  }
  return {
    dir,
    caFile,
    caKey,
    tokenSignerCert,
    tokenSignerKey,
    active: (name) => {
      check(name)
      return { cert: join(dir, 'active', `${name}.crt`), key: join(dir, 'active', `${name}.key`) }
    },
    useWrong: (name) => {
      check(name)
      install(join(dir, 'wrong.crt'), join(dir, 'wrong.key'), name)
    },
    useRight: (name) => {
      check(name)
      install(join(dir, 'issued', `${name}.crt`), join(dir, 'issued', `${name}.key`), name)
    },
  }
}
