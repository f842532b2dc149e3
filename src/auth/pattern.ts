/**
 * Topic patterns: a name is split into tokens on `.`; in a pattern `*` stands
 * for exactly one token, `>` (last only) for one or more, `{sub}` for the
 * principal's subject as one whole token. Patterns are compiled once into
 * tokens and matched token by token: never a regular expression built from
 * configuration, never a prefix comparison.
 */

type Part = { kind: 'literal'; text: string } | { kind: 'one' } | { kind: 'tail' } | { kind: 'sub' }

export type Pattern = { readonly source: string; readonly parts: readonly Part[] }

/** A literal token: the characters a topic name may hold, dots aside. */
const LITERAL = /^[A-Za-z0-9_:-]+$/

/** The pattern, or a sentence saying why it is not one. */
export function compilePattern(source: string): Pattern | string {
  if (source === '') return 'is empty'
  const tokens = source.split('.')
  const parts: Part[] = []
  for (const [i, token] of tokens.entries()) {
    if (token === '*') parts.push({ kind: 'one' })
    else if (token === '{sub}') parts.push({ kind: 'sub' })
    else if (token === '>') {
      if (i !== tokens.length - 1) return `has '>' before its last token`
      parts.push({ kind: 'tail' })
    } else if (LITERAL.test(token)) parts.push({ kind: 'literal', text: token })
    else if (token === '') return 'has an empty token (two dots in a row, or a dot at an end)'
    else return `has the token '${token}': use letters, digits, _ : - or a whole-token *, > or {sub}`
  }
  return { source, parts }
}

/**
 * True when `topic` matches. `subject` fills `{sub}`; a subject that is not
 * one plain token (a dot, `*` or `>` in it, or none at all) matches nothing,
 * so nobody widens their own grant by choosing their name.
 */
export function matchesPattern(pattern: Pattern, topic: string, subject: string | undefined): boolean {
  const tokens = topic.split('.')
  const { parts } = pattern
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Part
    const token = tokens[i]
    if (token === undefined || token === '') return false
    switch (part.kind) {
      case 'one': break
      case 'tail': return tokens.slice(i).every((rest) => rest !== '')
      case 'literal': if (token !== part.text) return false; break
      case 'sub': if (subject === undefined || !LITERAL.test(subject) || token !== subject) return false; break
    }
  }
  return tokens.length === parts.length
}

export const matchesAny = (patterns: readonly Pattern[], topic: string, subject: string | undefined): boolean =>
  patterns.some((pattern) => matchesPattern(pattern, topic, subject))

/** Compiles a list from configuration or a token's claim: the patterns, or why not (naming the index). */
export function compilePatternList(value: unknown): Pattern[] | string {
  if (value === undefined) return []
  if (!Array.isArray(value)) return ' must be an array of topic patterns'
  const patterns: Pattern[] = []
  for (const [i, source] of value.entries()) {
    if (typeof source !== 'string') return `[${i}] must be a string`
    const pattern = compilePattern(source)
    if (typeof pattern === 'string') return `[${i}] "${source}" ${pattern}`
    patterns.push(pattern)
  }
  return patterns
}
