// WWW-Authenticate (RFC 7235 §4.1): one or more challenges, each `scheme` then a token68 or comma-separated
// `name=value` parameters whose values may be quoted strings holding commas, `=` and backslash escapes. The registry
// token spec's challenge is `Bearer realm="https://auth/token",service="registry",scope="repository:a/b:pull,push"`.

export interface AuthChallenge {
  /** Lower-cased: `bearer`, `basic`, ... */
  readonly scheme: string
  /** Parameter names lower-cased; the first of a repeated name wins. */
  readonly params: Readonly<Record<string, string>>
  readonly token68?: string
}

const tchar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/
const token68char = /[A-Za-z0-9\-._~+/]/

/** Parses one or more header values (repeated headers, or one value Node joined with ", "). Never throws. */
export function parseWwwAuthenticate(values: string | readonly string[] | undefined): AuthChallenge[] {
  if (values === undefined) return []
  const list = typeof values === 'string' ? [values] : values
  return list.flatMap((value) => parseOne(value))
}

function parseOne(text: string): AuthChallenge[] {
  const out: AuthChallenge[] = []
  let i = 0
  const n = text.length
  const skipWs = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++
  }
  const readToken = (): string => {
    const start = i
    while (i < n && tchar.test(text[i] as string)) i++
    return text.slice(start, i)
  }
  const skipCommas = (): void => {
    for (;;) {
      skipWs()
      if (text[i] === ',') i++
      else break
    }
  }
  /** After a token at i..: is it `name =` (a parameter) rather than the next challenge's scheme? */
  const looksLikeParam = (): boolean => {
    let j = i
    while (j < n && tchar.test(text[j] as string)) j++
    if (j === i) return false
    while (j < n && (text[j] === ' ' || text[j] === '\t')) j++
    if (text[j] !== '=') return false
    // `abc==` or `abc=` followed by `,` or the end is a token68 ending in padding, not a parameter
    let k = j + 1
    if (text[k] === '=') return false
    while (k < n && (text[k] === ' ' || text[k] === '\t')) k++
    return k < n && text[k] !== ','
  }
  const readValue = (): string => {
    skipWs()
    if (text[i] !== '"') {
      const start = i
      while (i < n && tchar.test(text[i] as string)) i++
      return text.slice(start, i)
    }
    i++ // opening quote
    let value = ''
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < n) i++
      value += text[i]
      i++
    }
    if (text[i] === '"') i++
    return value
  }

  skipCommas()
  while (i < n) {
    const scheme = readToken()
    if (scheme === '') {
      // garbage: skip to the next comma and try again
      while (i < n && text[i] !== ',') i++
      skipCommas()
      continue
    }
    const params: Record<string, string> = {}
    let token68: string | undefined
    skipWs()
    // token68 form: `Basic dXNlcjpwYXNz`, `Negotiate abc==`
    if (i < n && text[i] !== ',' && !looksLikeParam()) {
      const start = i
      while (i < n && token68char.test(text[i] as string)) i++
      while (i < n && text[i] === '=') i++
      if (i > start) token68 = text.slice(start, i)
    } else {
      for (;;) {
        skipWs()
        if (!looksLikeParam()) break
        const name = readToken().toLowerCase()
        skipWs()
        i++ // '='
        const value = readValue()
        if (!(name in params)) params[name] = value
        skipWs()
        if (text[i] !== ',') break
        // a comma: more parameters of this challenge, or the next challenge
        const save = i
        skipCommas()
        if (!looksLikeParam()) {
          i = save
          break
        }
      }
    }
    out.push({ scheme: scheme.toLowerCase(), params, ...(token68 === undefined ? {} : { token68 }) })
    // anything unparsable up to the next comma is dropped
    while (i < n && text[i] !== ',') i++
    skipCommas()
  }
  return out
}

export interface BearerChallenge {
  readonly realm: string
  readonly service?: string
  readonly scope?: string
}

/** The first Bearer challenge with a realm, if any. */
export function bearerChallenge(values: string | readonly string[] | undefined): BearerChallenge | undefined {
  for (const challenge of parseWwwAuthenticate(values)) {
    if (challenge.scheme !== 'bearer') continue
    const realm = challenge.params['realm']
    if (realm === undefined || realm === '') continue
    const service = challenge.params['service']
    const scope = challenge.params['scope']
    return { realm, ...(service === undefined ? {} : { service }), ...(scope === undefined ? {} : { scope }) }
  }
  return undefined
}
