import t from 'tap'
import { normaliseIndicator } from '../../src/indicators/normalise.js'
import type { IndicatorType, RequestedType } from '../../src/indicators/types.js'

type Row =
  | { readonly input: string; readonly as: RequestedType; readonly type: IndicatorType; readonly value: string }
  | { readonly input: string; readonly as: RequestedType; readonly reason: string }

const ok = (input: string, as: RequestedType, type: IndicatorType, value: string): Row => ({ input, as, type, value })
const bad = (input: string, as: RequestedType, reason: string): Row => ({ input, as, reason })

const UNRECOGNISED =
  'is not a recognised indicator (expected an Address, Host, URL, File hash, EmailAddress, ASN or CIDR)'
const NOT_AN_IP = 'expected an IPv4 dotted quad or an IPv6 address'
const HASH_EXPECTED =
  'expected a hex MD5 (32), SHA-1 (40), SHA-256 (64) or SHA-512 (128) hash, or a summary "md5 : sha1 : sha256"'
const longLabel = 'a'.repeat(300)
/** Five 60-character labels + ".com": every label fine, the whole too long. */
const tooLongHost = Array.from({ length: 5 }, () => 'b'.repeat(60)).join('.') + '.com'

const rows: readonly Row[] = [
  // --- Address
  ok('8.8.8.8', 'Auto', 'Address', '8.8.8.8'),
  ok(' 8.8.8.8 \n', 'Auto', 'Address', '8.8.8.8'),
  ok('\u200B\u00A08.8.8.8\uFEFF\t', 'Auto', 'Address', '8.8.8.8'),
  ok('1.2.3[.]4', 'Auto', 'Address', '1.2.3.4'),
  ok('1[.]2[.]3[.]4', 'Address', 'Address', '1.2.3.4'),
  ok('0.0.0.0', 'Address', 'Address', '0.0.0.0'),
  ok('255.255.255.255', 'Auto', 'Address', '255.255.255.255'),
  ok('2001:0DB8:0000:0000:0000:0000:0000:0001', 'Auto', 'Address', '2001:db8::1'),
  ok('2001:db8:0:0:1:0:0:1', 'Address', 'Address', '2001:db8::1:0:0:1'),
  ok('[::1]', 'Auto', 'Address', '::1'),
  ok('[2001:db8::1]', 'Address', 'Address', '2001:db8::1'),
  ok('::', 'Auto', 'Address', '::'),
  ok('::ffff:1.2.3.4', 'Auto', 'Address', '::ffff:102:304'),
  // ipaddr.js alone would read this as ::ffff:1.2.3.4.
  ok('::1.2.3.4', 'Auto', 'Address', '::102:304'),
  bad('1.2.3', 'Address', `'1.2.3' is not a valid Address: ${NOT_AN_IP}`),
  bad('1.2.3', 'Auto', `'1.2.3' ${UNRECOGNISED}`),
  bad('256.1.1.1', 'Address', "'256.1.1.1' is not a valid Address: octet 256 is above 255"),
  bad('256.1.1.1', 'Auto', `'256.1.1.1' ${UNRECOGNISED}`),
  bad(
    '010.1.1.1',
    'Address',
    "'010.1.1.1' is not a valid Address: octet '010' has a leading zero (ambiguous: octal or decimal)",
  ),
  bad('1.2.3.4.5', 'Address', `'1.2.3.4.5' is not a valid Address: ${NOT_AN_IP}`),
  bad('0x7f.0.0.1', 'Address', `'0x7f.0.0.1' is not a valid Address: ${NOT_AN_IP}`),
  bad(
    '::ffff:0x1.2.3.4',
    'Address',
    "'::ffff:0x1.2.3.4' is not a valid Address: embedded IPv4 part '0x1.2.3.4': " + NOT_AN_IP,
  ),
  bad('1::2::3', 'Address', `'1::2::3' is not a valid Address: ${NOT_AN_IP}`),
  bad(
    'fe80::1%eth0',
    'Address',
    "'fe80::1%eth0' is not a valid Address: it has a zone id ('%eth0'), which only has meaning on one machine; give the address without it",
  ),
  bad('fe80::1%eth0', 'Auto', `'fe80::1%eth0' ${UNRECOGNISED}`),
  bad(
    '[1.2.3.4]',
    'Address',
    "'[1.2.3.4]' is not a valid Address: square brackets are only used around IPv6 addresses",
  ),
  bad('evil.com', 'Address', `'evil.com' is not a valid Address: ${NOT_AN_IP} (it looks like a Host)`),

  // --- CIDR
  ok('10.1.2.3/8', 'Auto', 'CIDR', '10.0.0.0/8'),
  ok('192.168.1.77/24', 'CIDR', 'CIDR', '192.168.1.0/24'),
  ok('10.1.2.3/32', 'CIDR', 'CIDR', '10.1.2.3/32'),
  ok('10.1.2.3/0', 'CIDR', 'CIDR', '0.0.0.0/0'),
  ok('172.16.200.1/12', 'Auto', 'CIDR', '172.16.0.0/12'),
  ok('2001:DB8:ABCD:12::1/48', 'Auto', 'CIDR', '2001:db8:abcd::/48'),
  ok('2001:db8::1/127', 'CIDR', 'CIDR', '2001:db8::/127'),
  ok('10[.]0[.]0[.]0/8', 'Auto', 'CIDR', '10.0.0.0/8'),
  bad('10.0.0.0/33', 'CIDR', "'10.0.0.0/33' is not a valid CIDR: prefix 33 is above 32"),
  bad('2001:db8::/129', 'CIDR', "'2001:db8::/129' is not a valid CIDR: prefix 129 is above 128"),
  bad('10.0.0.0/x', 'CIDR', "'10.0.0.0/x' is not a valid CIDR: prefix 'x' is not a number"),
  bad('10.0.0/8', 'CIDR', `'10.0.0/8' is not a valid CIDR: network '10.0.0': ${NOT_AN_IP}`),
  bad(
    '10.0.0.0',
    'CIDR',
    "'10.0.0.0' is not a valid CIDR: expected <ip>/<prefix>, e.g. 10.0.0.0/8 (it looks like an Address)",
  ),

  // --- Host
  ok('Example.COM', 'Auto', 'Host', 'example.com'),
  ok('example.com.', 'Host', 'Host', 'example.com'),
  ok('evil[.]com', 'Auto', 'Host', 'evil.com'),
  ok('evil[dot]example(dot)org', 'Auto', 'Host', 'evil.example.org'),
  ok('MÜNCHEN.de', 'Auto', 'Host', 'xn--mnchen-3ya.de'),
  ok('bücher.example', 'Host', 'Host', 'xn--bcher-kva.example'),
  ok('xn--mnchen-3ya.de', 'Auto', 'Host', 'xn--mnchen-3ya.de'),
  ok('例え.テスト', 'Auto', 'Host', 'xn--r8jz45g.xn--zckzah'),
  ok('exa_mple.com', 'Auto', 'Host', 'exa_mple.com'),
  ok('_dmarc.example.com', 'Host', 'Host', '_dmarc.example.com'),
  ok('AS15169.com', 'Auto', 'Host', 'as15169.com'),
  ok(`${'a'.repeat(63)}.com`, 'Host', 'Host', `${'a'.repeat(63)}.com`),
  bad('-bad.com', 'Host', "'-bad.com' is not a valid Host: label '-bad' starts with a hyphen"),
  bad('-bad.com', 'Auto', `'-bad.com' ${UNRECOGNISED}`),
  bad('x-.com', 'Host', "'x-.com' is not a valid Host: label 'x-' ends with a hyphen"),
  bad('a..com', 'Host', "'a..com' is not a valid Host: it has an empty label"),
  bad(
    'ex ample.com',
    'Host',
    "'ex ample.com' is not a valid Host: label 'ex ample' contains ' ' (allowed: a-z, 0-9, '-', '_')",
  ),
  bad('localhost', 'Host', "'localhost' is not a valid Host: it needs at least two labels, e.g. example.com"),
  bad('1.2.3', 'Host', "'1.2.3' is not a valid Host: top-level label '3' is not alphabetic"),
  bad(
    '8.8.8.8',
    'Host',
    "'8.8.8.8' is not a valid Host: top-level label '8' is not alphabetic (it looks like an Address)",
  ),
  bad(
    `${longLabel}.com`,
    'Host',
    `'${'a'.repeat(120)}…' is not a valid Host: label '${'a'.repeat(120)}…' is longer than 63 characters`,
  ),
  bad(`${longLabel}.com`, 'Auto', `'${'a'.repeat(120)}…' ${UNRECOGNISED}`),
  bad(tooLongHost, 'Host', `'${tooLongHost.slice(0, 120)}…' is not a valid Host: it is 308 characters long, above 253`),
  bad('xn--zz.com', 'Host', "'xn--zz.com' is not a valid Host: label 'xn--zz' is not valid punycode"),
  bad(
    'a\u00ADb\uD800.com',
    'Host',
    "'a\u00ADb\uD800.com' is not a valid Host: it is not a valid internationalised domain name",
  ),
  bad(
    'evil.com/path',
    'Host',
    "'evil.com/path' is not a valid Host: label 'com/path' contains '/' (allowed: a-z, 0-9, '-', '_') (it looks like a URL)",
  ),

  // --- URL
  ok('hxxps://evil[.]com/Path?Q=1', 'Auto', 'URL', 'https://evil.com/Path?Q=1'),
  ok('hXXp://EVIL[.]com/', 'URL', 'URL', 'http://evil.com/'),
  ok('http://EXAMPLE.com:8080/A/b?C=D#E', 'Auto', 'URL', 'http://example.com:8080/A/b?C=D#E'),
  ok('HTTPS://Example.com', 'URL', 'URL', 'https://example.com'),
  ok('https://User:Pa55@Example.com/x', 'Auto', 'URL', 'https://User:Pa55@example.com/x'),
  ok('http://bücher.example/Ä%20b?q=ü', 'Auto', 'URL', 'http://xn--bcher-kva.example/Ä%20b?q=ü'),
  ok('http://[2001:DB8:0::1]:8443/a', 'Auto', 'URL', 'http://[2001:db8::1]:8443/a'),
  ok('http://1.2.3.4/x.exe', 'Auto', 'URL', 'http://1.2.3.4/x.exe'),
  ok('fxp://files.evil.com/a', 'Auto', 'URL', 'ftp://files.evil.com/a'),
  ok('hxxp[:]//evil[.]com/a%2Fb/../c', 'Auto', 'URL', 'http://evil.com/a%2Fb/../c'),
  ok('svn+ssh://Repo.Example.com/trunk', 'URL', 'URL', 'svn+ssh://repo.example.com/trunk'),
  ok('http://evil.com?x=1', 'Auto', 'URL', 'http://evil.com?x=1'),
  ok('evil.com/path', 'Auto', 'URL', 'evil.com/path'),
  ok('EVIL.com/Path/Index.PHP', 'Auto', 'URL', 'evil.com/Path/Index.PHP'),
  ok('evil.com/path', 'URL', 'URL', 'evil.com/path'),
  bad('evil.com', 'URL', "'evil.com' is not a valid URL: it has no scheme, e.g. http:// (it looks like a Host)"),
  bad('1.2.3.4/x', 'URL', "'1.2.3.4/x' is not a valid URL: it has no scheme and '1.2.3.4' is not a hostname"),
  bad('http://1.2.3/', 'URL', `'http://1.2.3/' is not a valid URL: host '1.2.3': ${NOT_AN_IP}`),
  bad('http://-x.com/', 'URL', "'http://-x.com/' is not a valid URL: host '-x.com': label '-x' starts with a hyphen"),
  bad('http:///etc/passwd', 'URL', "'http:///etc/passwd' is not a valid URL: it has no host"),
  bad('http://evil.com:99999/', 'URL', "'http://evil.com:99999/' is not a valid URL: port 99999 is above 65535"),
  bad('http://evil.com:8o/', 'URL', "'http://evil.com:8o/' is not a valid URL: port '8o' is not a number"),
  bad(
    'http://2001:db8::1/',
    'URL',
    "'http://2001:db8::1/' is not a valid URL: an IPv6 host must be in square brackets",
  ),
  bad(
    'http://evil.com/a b',
    'URL',
    "'http://evil.com/a b' is not a valid URL: it contains whitespace or a control character",
  ),
  bad('1.2.3.4/x', 'Auto', `'1.2.3.4/x' ${UNRECOGNISED}`),

  // --- EmailAddress
  ok('user[at]Example[.]com', 'Auto', 'EmailAddress', 'user@example.com'),
  ok('John.Doe+tag@EXAMPLE.org', 'EmailAddress', 'EmailAddress', 'john.doe+tag@example.org'),
  ok('phish (at) bücher.example', 'Auto', 'EmailAddress', 'phish@xn--bcher-kva.example'),
  ok('admin{at}evil{dot}com', 'Auto', 'EmailAddress', 'admin@evil.com'),
  bad('user@', 'EmailAddress', "'user@' is not a valid EmailAddress: it has nothing after the '@'"),
  bad('@example.com', 'EmailAddress', "'@example.com' is not a valid EmailAddress: it has nothing before the '@'"),
  bad(
    'a@b@example.com',
    'EmailAddress',
    "'a@b@example.com' is not a valid EmailAddress: it contains more than one '@'",
  ),
  bad(
    'user@localhost',
    'EmailAddress',
    "'user@localhost' is not a valid EmailAddress: domain 'localhost': it needs at least two labels, e.g. example.com",
  ),
  bad(
    'us er@example.com',
    'EmailAddress',
    "'us er@example.com' is not a valid EmailAddress: local part 'us er' contains ' '",
  ),
  bad(
    '.user@example.com',
    'EmailAddress',
    "'.user@example.com' is not a valid EmailAddress: local part '.user' has a misplaced '.'",
  ),
  bad(
    'example.com',
    'EmailAddress',
    "'example.com' is not a valid EmailAddress: expected local@domain (it looks like a Host)",
  ),

  // --- File
  ok('44D88612FEA8A8F36DE82E1278ABB02F', 'Auto', 'File', '44d88612fea8a8f36de82e1278abb02f'),
  ok('3395856CE81F2B7382DEE72602F798B642F14140', 'Auto', 'File', '3395856ce81f2b7382dee72602f798b642f14140'),
  ok(
    '275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F',
    'File',
    'File',
    '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
  ),
  ok('A'.repeat(128), 'Auto', 'File', 'a'.repeat(128)),
  bad(
    '44d88612fea8a8f36de82e1278abb02',
    'File',
    `'44d88612fea8a8f36de82e1278abb02' is not a valid File: ${HASH_EXPECTED}; got 31 hex digits`,
  ),
  bad(
    '44d88612fea8a8f36de82e1278abb02g',
    'File',
    `'44d88612fea8a8f36de82e1278abb02g' is not a valid File: ${HASH_EXPECTED}; 'g' is not a hex digit`,
  ),
  bad('44d88612fea8a8f36de82e1278abb02', 'Auto', `'44d88612fea8a8f36de82e1278abb02' ${UNRECOGNISED}`),

  // --- ASN
  ok('AS15169', 'Auto', 'ASN', 'ASN15169'),
  ok('as15169', 'Auto', 'ASN', 'ASN15169'),
  ok('ASN15169', 'ASN', 'ASN', 'ASN15169'),
  ok('AS 15169', 'Auto', 'ASN', 'ASN15169'),
  ok('15169', 'ASN', 'ASN', 'ASN15169'),
  ok('AS0', 'ASN', 'ASN', 'ASN0'),
  ok('AS4294967295', 'Auto', 'ASN', 'ASN4294967295'),
  bad('15169', 'Auto', `'15169' ${UNRECOGNISED}`),
  bad('AS4294967296', 'ASN', "'AS4294967296' is not a valid ASN: AS number '4294967296' is above 4294967295"),
  bad('AS15169x', 'ASN', "'AS15169x' is not a valid ASN: expected AS<number>, e.g. AS15169"),
  bad('8.8.8.8', 'ASN', "'8.8.8.8' is not a valid ASN: expected AS<number>, e.g. AS15169 (it looks like an Address)"),

  // --- empty and junk
  bad('', 'Auto', 'indicator is empty'),
  bad('   ', 'Auto', 'indicator is empty'),
  bad('\u200B\u2003\n', 'Host', 'indicator is empty'),
  bad('hello world', 'Auto', `'hello world' ${UNRECOGNISED}`),
  bad('a\u0000b', 'Auto', `'a\\u0000b' ${UNRECOGNISED}`),
]

t.test('normalisation table', async (t) => {
  t.ok(rows.length >= 60, `table has ${rows.length} rows`)
  for (const row of rows) {
    const name = `${JSON.stringify(row.input).slice(0, 80)} as ${row.as}`
    const result = normaliseIndicator(row.input, row.as)
    if ('reason' in row) {
      t.same(result, { ok: false, reason: row.reason }, name)
    } else {
      t.same(result, { ok: true, indicator: { input: row.input, type: row.type, value: row.value } }, name)
    }
  }
})

t.test('a canonical value normalises to itself (idempotent)', async (t) => {
  for (const row of rows) {
    if ('reason' in row) continue
    const again = normaliseIndicator(row.value, row.type)
    t.same(again, { ok: true, indicator: { input: row.value, type: row.type, value: row.value } }, row.value)
  }
})

t.test('input keeps the raw string exactly, whitespace and defanging included', async (t) => {
  const raw = ' \thxxps://Evil[.]com/X \n'
  const result = normaliseIndicator(raw, 'Auto')
  t.ok(result.ok)
  if (result.ok) {
    t.equal(result.indicator.input, raw)
    t.equal(result.indicator.value, 'https://evil.com/X')
  }
})

/** Small deterministic generator so any failure reproduces. */
const randomStrings = (count: number, seed: number): string[] => {
  let state = seed
  const next = (): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff
    return state
  }
  const alphabet = 'aZ09.:/@[]()%-_ \t\nxX#?\\{}ü\u200B\u0000\uD800é.'
  return Array.from({ length: count }, () => {
    const length = next() % 40
    let s = ''
    for (let i = 0; i < length; i++)
      s += next() % 7 === 0 ? String.fromCharCode(next() % 0xffff) : alphabet[next() % alphabet.length]
    return s
  })
}

t.test('never throws, whatever the string', async (t) => {
  const types: RequestedType[] = ['Auto', 'Address', 'Host', 'URL', 'File', 'EmailAddress', 'ASN', 'CIDR']
  const inputs = [
    ...randomStrings(2000, 42),
    'a'.repeat(1_000_000),
    `${'a.'.repeat(200_000)}com`,
    `http://${'ü'.repeat(100_000)}.com/`,
    `${' '.repeat(100_000)}x${' '.repeat(100_000)}`,
    `x${' '.repeat(100_000)}y`,
    ':'.repeat(100_000),
    `AS${'9'.repeat(100_000)}`,
    '\uD800\uDC00\uDFFF',
    '[',
    'http://[',
    'http://[::1',
  ]
  let failures = 0
  for (const input of inputs) {
    for (const type of types) {
      try {
        const result = normaliseIndicator(input, type)
        if (!result.ok && result.reason.length > 600) failures++
      } catch {
        failures++
      }
    }
  }
  t.equal(failures, 0, 'no throws and no oversized reasons')
})

t.test('reasons quote long input cut short and escape control characters', async (t) => {
  const result = normaliseIndicator(`${'z'.repeat(500)}\n!`, 'Host')
  t.notOk(result.ok)
  if (!result.ok) {
    t.ok(result.reason.startsWith(`'${'z'.repeat(120)}…' is not a valid Host: `), result.reason)
    t.ok(result.reason.length < 400)
  }
  const withControl = normaliseIndicator('evil\u0007.com', 'Host')
  t.notOk(withControl.ok)
  if (!withControl.ok) t.match(withControl.reason, /^'evil\\u0007\.com' is not a valid Host: /)
})

t.test("ThreatConnect's File summary 'md5 : sha1 : sha256': the strongest names it, every hash is kept", async (t) => {
  const md5 = 'D41D8CD98F00B204E9800998ECF8427E'
  const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709'
  const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
  for (const requested of ['Auto', 'File'] as const) {
    const r = normaliseIndicator(`${md5} : ${sha1} : ${sha256}`, requested)
    t.same(
      r,
      {
        ok: true,
        indicator: {
          input: `${md5} : ${sha1} : ${sha256}`,
          value: sha256,
          type: 'File',
          hashes: { md5: md5.toLowerCase(), sha1, sha256 },
        },
      },
      requested,
    )
  }
  const two = normaliseIndicator(`${md5} : ${sha1}`, 'Auto')
  t.match(
    two,
    { ok: true, indicator: { value: sha1, hashes: { md5: md5.toLowerCase(), sha1 } } },
    'two of three: the stronger names it',
  )
  const one = normaliseIndicator(sha256, 'File')
  t.same(
    one,
    { ok: true, indicator: { input: sha256, value: sha256, type: 'File' } },
    'one hash carries no hashes field',
  )
  t.match(normaliseIndicator(`${md5} : nothex`, 'File'), {
    ok: false,
    reason: /in the File summary .*'n' is not a hex digit/,
  })
  t.match(normaliseIndicator(`${md5} : ${'0'.repeat(32)}`, 'File'), { ok: false, reason: /two different md5 hashes/ })
})
