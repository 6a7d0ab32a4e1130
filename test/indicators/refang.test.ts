import t from 'tap'
import { refang } from '../../src/indicators/refang.js'

/** [defanged, expected after refang] */
const rows: ReadonlyArray<readonly [string, string]> = [
  ['hxxp://evil.com', 'http://evil.com'],
  ['hxxps://evil.com', 'https://evil.com'],
  ['hXXp://evil.com', 'http://evil.com'],
  ['HXXPS://evil.com', 'https://evil.com'],
  ['fxp://files.evil.com', 'ftp://files.evil.com'],
  ['evil[.]com', 'evil.com'],
  ['evil(.)com', 'evil.com'],
  ['evil{.}com', 'evil.com'],
  ['evil[dot]com', 'evil.com'],
  ['evil[DOT]com', 'evil.com'],
  ['evil(dot)com', 'evil.com'],
  ['evil{dot}com', 'evil.com'],
  ['evil [dot] com', 'evil.com'],
  ['evil[ . ]com', 'evil.com'],
  ['evil\\.com', 'evil.com'],
  ['1[.]2[.]3[.]4', '1.2.3.4'],
  ['hxxp[:]//evil[.]com', 'http://evil.com'],
  ['hxxps[://]evil[.]com/a', 'https://evil.com/a'],
  ['user[at]example[.]com', 'user@example.com'],
  ['user(at)example.com', 'user@example.com'],
  ['user[@]example.com', 'user@example.com'],
  ['user{at}example.com', 'user@example.com'],
  ['user [AT] example [DOT] com', 'user@example.com'],
  // Words that merely contain "dot" / "at" / "hxxp" are not defanging.
  ['dotat.com', 'dotat.com'],
  ['cat.at', 'cat.at'],
  ['http://example.com/dot/at', 'http://example.com/dot/at'],
  ['myhxxp://x', 'myhxxp://x'],
  ['hxxpfoo.com', 'hxxpfoo.com'],
  ['[::1]', '[::1]'],
  ['', ''],
]

t.test('refang table', async (t) => {
  for (const [input, expected] of rows) t.equal(refang(input), expected, JSON.stringify(input))
})

t.test('refang is linear on long runs of spaces and brackets', async (t) => {
  // A quadratic pattern would not finish on this within the test timeout.
  const spaces = ' '.repeat(200_000)
  t.equal(refang(`a${spaces}b`), `a${spaces}b`)
  const brackets = '['.repeat(100_000)
  t.equal(refang(`${brackets}.]`), `${'['.repeat(99_999)}.`)
})
