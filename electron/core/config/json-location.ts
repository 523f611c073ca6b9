// Where a JSON text first goes wrong, for "not valid JSON (line L, column C)". V8's JSON.parse messages carry a
// position only for some errors, so this scans the text itself (used only after JSON.parse has failed).

const maxDepth = 512

/** 1-based line and column of the first JSON syntax error in `text`, or undefined if none is found. */
export function jsonErrorLocation(text: string): { line: number; column: number } | undefined {
  const offset = jsonErrorOffset(text)
  if (offset === undefined) return undefined
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - (before.lastIndexOf('\n') + 1) + 1
  return { line, column }
}

class SyntaxAt {
  constructor(readonly offset: number) {}
}

class TooDeep {}

/** Offset of the first syntax error, or undefined when the text is valid JSON (or nested too deeply to scan). */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0
  const fail = (): never => {
    throw new SyntaxAt(i)
  }
  const skipWhitespace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const string = (): void => {
    i++ // opening quote
    for (;;) {
      if (i >= text.length) fail()
      const char = text.charCodeAt(i)
      if (char === 0x22) {
        i++
        return
      }
      if (char < 0x20) fail()
      if (char === 0x5c) {
        const next = text[i + 1]
        if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6
        else fail()
      } else i++
    }
  }
  const number = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
  const value = (depth: number): void => {
    if (depth > maxDepth) throw new TooDeep()
    skipWhitespace()
    const char = text[i]
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']'
      i++
      skipWhitespace()
      if (text[i] === close) {
        i++
        return
      }
      for (;;) {
        skipWhitespace()
        if (char === '{') {
          if (text[i] !== '"') fail()
          string()
          skipWhitespace()
          if (text[i] !== ':') fail()
          i++
        }
        value(depth + 1)
        skipWhitespace()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === close) {
          i++
          return
        }
        fail()
      }
    }
    if (char === '"') return string()
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length
        return
      }
    }
    number.lastIndex = i
    const match = number.exec(text)
    if (match === null) fail()
    else i += match[0].length
  }
  try {
    value(0)
    skipWhitespace()
    if (i < text.length) fail()
    return undefined
  } catch (error) {
    if (error instanceof SyntaxAt) return error.offset
    if (error instanceof TooDeep) return undefined
    throw error
  }
}
