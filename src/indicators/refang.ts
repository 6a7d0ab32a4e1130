/**
 * Undo the common ways analysts "defang" indicators so they cannot be clicked.
 * Only bracketed tokens and defanged schemes are touched: plain text that merely contains "dot" or "at" stays.
 * Spaces around a bracketed dot/at are bounded ({0,2}) so the patterns stay linear on any input.
 */
const BRACKETED_DOT = / {0,2}(?:\[ ?(?:\.|dot) ?\]|\( ?(?:\.|dot) ?\)|\{ ?(?:\.|dot) ?\}) {0,2}/gi
const BRACKETED_AT = / {0,2}(?:\[ ?(?:at|@) ?\]|\( ?(?:at|@) ?\)|\{ ?(?:at|@) ?\}) {0,2}/gi
const BRACKETED_SCHEME_SEPARATOR = /\[:\/\/\]/g
const BRACKETED_COLON = /\[:\]/g
const ESCAPED_DOT = /\\\./g
/** "hxxp", "hXXps", "fxp" when used as a scheme (followed by ":"), not inside a longer word. */
const DEFANGED_SCHEME = /(^|[^a-z0-9+.-])(hxxps?|fxp)(?=:)/gi

const refangScheme = (scheme: string): string => {
  const lower = scheme.toLowerCase()
  return lower === 'fxp' ? 'ftp' : lower.replace('xx', 'tt')
}

export const refang = (text: string): string =>
  text
    .replace(BRACKETED_SCHEME_SEPARATOR, '://')
    .replace(BRACKETED_COLON, ':')
    .replace(BRACKETED_DOT, '.')
    .replace(BRACKETED_AT, '@')
    .replace(ESCAPED_DOT, '.')
    .replace(DEFANGED_SCHEME, (_match, before: string, scheme: string) => before + refangScheme(scheme))
