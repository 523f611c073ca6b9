// Where a redirect points (ACR-FACTS.md §2.6 step 4): the scheme, host and port of a `Location` header, resolved
// against the request URL. The query (a presigned OSS URL carries OSSAccessKeyId and Signature) is never kept.

export interface RedirectTarget {
  readonly scheme: 'https' | 'http'
  /** Lower-cased, without IPv6 brackets. */
  readonly host: string
  readonly port: number
  /** Path only; the query is dropped on purpose (it holds a signature). */
  readonly path: string
}

export type LocationResult =
  | { readonly ok: true; readonly target: RedirectTarget }
  | { readonly ok: false; readonly reason: string }

/**
 * Reads a Location header value. Relative references resolve against `requestUrl` (RFC 9110 §10.2.2); only http and
 * https targets are accepted; a missing or empty header, a header given twice with different values, another
 * scheme or credentials in the URL (`user:pass@`) are refused with a reason.
 */
export function parseLocation(requestUrl: URL, value: string | readonly string[] | undefined): LocationResult {
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : [...new Set(value)]
  if (values.length === 0 || values[0]!.trim() === '') return { ok: false, reason: 'the redirect has no Location header' }
  if (values.length > 1) return { ok: false, reason: 'the redirect has more than one Location header' }
  let url: URL
  try {
    url = new URL(values[0]!.trim(), requestUrl)
  } catch {
    return { ok: false, reason: 'the Location header is not a valid URL' }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, reason: `the redirect goes to a ${url.protocol.replace(/:$/, '')} URL, not http or https` }
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'the Location URL carries credentials' }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (host === '') return { ok: false, reason: 'the Location URL has no host' }
  const scheme = url.protocol === 'https:' ? 'https' : 'http'
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port)
  return { ok: true, target: { scheme, host, port, path: url.pathname } }
}

/** `https://host`, `http://host`, or with `:port` when it is not the scheme's default. Never a query. */
export function describeTarget(target: { readonly scheme: string; readonly host: string; readonly port: number }): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  const standard = (target.scheme === 'https' && target.port === 443) || (target.scheme === 'http' && target.port === 80)
  return `${target.scheme}://${host}${standard ? '' : `:${target.port}`}`
}
