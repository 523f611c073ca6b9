// Nothing that authenticates anyone reaches a log line: passwords, passphrases, tokens, Authorization headers,
// URL credentials, private keys, docker config `auth` values, and any secret value the app knows it holds.

const mask = '***'

const rules: readonly { readonly pattern: RegExp; readonly replace: string | ((match: string, ...groups: string[]) => string) }[] = [
  // PEM private keys (whole block).
  {
    pattern: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g,
    replace: '[private key redacted]',
  },
  // Authorization / Proxy-Authorization headers: keep the scheme, drop the credentials.
  {
    pattern: /\b((?:proxy-)?authorization)(\s*[:=]\s*"?)(basic|bearer|digest|negotiate|token)\s+[^\s",;]+/gi,
    replace: `$1$2$3 ${mask}`,
  },
  { pattern: /\b((?:proxy-)?authorization)(\s*[:=]\s*"?)(?!basic|bearer|digest|negotiate|token)[^\s",;]+/gi, replace: `$1$2${mask}` },
  // A bare "Bearer <token>" / "Basic <b64>" anywhere else.
  { pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, replace: `$1 ${mask}` },
  // user:password@ in URLs.
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/gi, replace: `$1$2:${mask}@` },
  // key=value, key: value, "key": "value" for secret-looking keys (`auth` only as a whole key: docker config).
  {
    pattern:
      /(["']?)\b([\w-]*(?:password|passphrase|passwd|secret|token|api[_-]?key|access[_-]?key)[\w-]*|auth|x-registry-auth)\1(\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&}]+)/gi,
    // A quoted value keeps its quotes, so redacted JSON stays JSON.
    replace: (_match, quote, key, separator, value) => {
      const q = value?.startsWith('"') ? '"' : value?.startsWith("'") ? "'" : ''
      return `${quote}${key}${quote}${separator}${q}${mask}${q}`
    },
  },
  // JWTs (registry tokens are JWTs).
  { pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\b/g, replace: mask },
]

/** Redacts credentials by shape; `knownSecrets` (the stored proxy password, passphrase…) are removed by value. */
export function redact(text: string, knownSecrets: readonly string[] = []): string {
  let out = text
  for (const secret of knownSecrets) {
    // Very short values would blank out ordinary words; those are still caught by shape where they appear as key=value.
    if (secret.length >= 4) out = out.split(secret).join(mask)
  }
  for (const rule of rules) out = out.replace(rule.pattern, rule.replace as (match: string, ...groups: string[]) => string)
  return out
}
