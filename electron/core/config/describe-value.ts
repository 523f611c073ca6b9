// How a bad value appears in an error message: short, JSON-quoted, ASCII only, control characters escaped.

const maxShown = 60

/** A short, log-safe rendering of any value: `"a b"`, `70000`, `null`, `an array of 10000 items`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (typeof value === 'string') return quoteString(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`
  if (typeof value === 'object') {
    const keys = Object.keys(value)
    if (keys.length <= 4) {
      try {
        const text = asciiOnly(JSON.stringify(value))
        if (text.length <= maxShown) return text
      } catch {
        // circular or otherwise unprintable: fall through
      }
    }
    return `an object with ${keys.length} key${keys.length === 1 ? '' : 's'}`
  }
  return `a ${typeof value}`
}

/** JSON-quotes a string, escapes everything outside printable ASCII, and cuts it to about 60 characters. */
export function quoteString(text: string): string {
  if (text.length <= maxShown) return asciiOnly(JSON.stringify(text))
  let cut = text.slice(0, maxShown - 8)
  // do not split a surrogate pair
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  return `${asciiOnly(JSON.stringify(cut))}... (${text.length} characters)`
}

function asciiOnly(json: string): string {
  return json.replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** `regions[1].id`, `tunnel["a b"]`: a field path in the notation every config error uses. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else if (typeof segment === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`
    else out += `[${quoteString(String(segment))}]`
  }
  return out === '' ? '(config)' : out
}
