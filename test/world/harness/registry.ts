// Configuration of the real distribution registry (Debian `docker-registry`, 2.8) in the VPC world.
//
// Blob redirects: distribution 2.8's `redirect` storage middleware takes one option, `baseurl`, and keeps only its
// scheme and host: URLFor(path) returns scheme://host + the storage driver path, i.e.
// `/docker/registry/v2/blobs/sha256/<aa>/<hex>/data` for the filesystem driver (a path under `rootdirectory`), with no
// query string. The OSS stand-in serves exactly that path from the same root. GET on a blob then answers
// `307 Temporary Redirect` with that Location (the world test checks it).

export interface RegistrySettings {
  /** Token realm in the 401 challenge. */
  realm: string
  /** `service` in the challenge and the token `aud`. */
  service: string
  issuer: string
  /** Base URL (scheme + host[:port]) blob GETs redirect to; null: no redirect middleware, the registry serves blobs. */
  blobRedirect: string | null
}

export interface RegistryFiles {
  address: string
  port: number
  certFile: string
  keyFile: string
  rootCertBundle: string
  storageRoot: string
}

const q = (s: string) => JSON.stringify(s) // a JSON string is a valid YAML double-quoted scalar

export function renderRegistryConfig(files: RegistryFiles, s: RegistrySettings): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(files.storageRoot)}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    '  redirect:',
    '    disable: false',
    'http:',
    `  addr: ${q(`${files.address}:${files.port}`)}`,
    '  secret: acr-bridge-vpc-world-not-a-secret',
    '  tls:',
    `    certificate: ${q(files.certFile)}`,
    `    key: ${q(files.keyFile)}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    'auth:',
    '  token:',
    `    realm: ${q(s.realm)}`,
    `    service: ${q(s.service)}`,
    `    issuer: ${q(s.issuer)}`,
    `    rootcertbundle: ${q(files.rootCertBundle)}`,
  ]
  if (s.blobRedirect !== null) {
    lines.push('middleware:', '  storage:', '    - name: redirect', '      options:', `        baseurl: ${q(s.blobRedirect)}`)
  }
  return `${lines.join('\n')}\n`
}

/** Checks a blob-redirect base URL the way distribution 2.8 would accept it (scheme and host, nothing else used). */
export function checkRedirectBase(baseUrl: string): void {
  let u: URL
  try {
    u = new URL(baseUrl)
  } catch {
    throw new Error(`blob redirect base ${JSON.stringify(baseUrl)} is not a URL`)
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw new Error(`blob redirect base ${JSON.stringify(baseUrl)} needs an http or https scheme and a host`)
  }
  if (u.pathname !== '/' || u.search || u.hash) {
    throw new Error(`blob redirect base ${JSON.stringify(baseUrl)}: distribution 2.8 ignores path and query; give scheme://host[:port] only`)
  }
}
