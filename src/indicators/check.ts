/** The outcome of checking a value against one indicator type: its canonical form, or why it is not that type. */
export type Check = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly why: string }

export const pass = (value: string): Check => ({ ok: true, value })
export const fail = (why: string): Check => ({ ok: false, why })

/**
 * Longest piece of caller text echoed back in a reason; longer text is cut so a huge input cannot make a huge message.
 */
const MAX_QUOTED = 120

/** Control characters would break log lines and notes, so they are shown escaped. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g

/** Caller text inside a reason: single-quoted, control characters escaped, cut after MAX_QUOTED characters. */
export const quote = (text: string): string => {
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text
  const shown = cut.replace(CONTROL_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return `'${shown}'`
}
