/**
 * Service settings from environment variables: ONE table (SERVICE_SETTINGS plus each source's declared
 * settings) drives parsing, start-up validation and the docs' settings table.
 */
import { PLATFORM_ENV_SETTINGS, platformProfilesFromEnv, type PlatformProfiles } from './platform.js'
import { Type, type StaticDecode, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import ipaddr from 'ipaddr.js'
import { formatRateLimit, parseRateLimit, type RateLimit } from './rate-limit.js'

/** A setting a source needs; read from env `env`, overridable per request by the param `param` when given. */
export interface SourceSetting {
  readonly key: string
  readonly env: string
  readonly param?: string
  readonly description: string
  readonly secret?: boolean
  readonly default?: string
}

/** What settings need to know of a source (its definition lives in src/sources/, a floor above). */
export interface SourceSettingsOwner {
  readonly id: string
  readonly title: string
  readonly settings: readonly SourceSetting[]
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export type Setting<T extends TSchema = TSchema, D extends string | undefined = string | undefined> = {
  readonly schema: T
  readonly env: string
  readonly description: string
  /** The value when the variable is unset or empty, written as the variable would be; undefined: no value. */
  readonly default: D
  readonly secret: boolean
}

export const setting = <T extends TSchema, const D extends string | undefined>(
  schema: T,
  meta: { env: string; description: string; default: D; secret?: boolean },
): Setting<T, D> => ({ schema, ...meta, secret: meta.secret ?? false })

export const oneOf = <const V extends readonly string[]>(values: V) =>
  Type.Unsafe<V[number]>(Type.Union(values.map((v) => Type.Literal(v))))
export const wholeNumber = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum })
/** A rate limit like `120/1m`, decoded into calls per window; `off` decodes to undefined. */
const rateLimitOrOff = Type.Codec(Type.String())
  .Decode((raw): RateLimit | undefined => (raw.toLowerCase() === 'off' ? undefined : parseRateLimit(raw)))
  .Encode((limit) => (limit === undefined ? 'off' : formatRateLimit(limit)))

/** "10.0.0.0/8, 192.0.2.7" -> the list; each must be an IP address or a CIDR (Fastify's trustProxy takes both). */
const isAddressOrCidr = (text: string): boolean => {
  if (ipaddr.isValid(text)) return true
  try {
    ipaddr.parseCIDR(text)
    return true
  } catch {
    return false
  }
}
const trustProxyList = Type.Codec(Type.String({ minLength: 1 }))
  .Decode((raw): string[] => {
    const list = raw.split(',').map((a) => a.trim())
    const bad = list.find((a) => !isAddressOrCidr(a))
    if (bad !== undefined) throw new Error(`'${bad.slice(0, 60)}' is not an IP address or CIDR`)
    return list
  })
  .Encode((list) => list.join(','))

/**
 * The service's own settings: each a TypeBox schema (what a value must be), the variable it is read from, its
 * description and its default. ServiceConfig's fields are derived from this table, so a field without a row
 * cannot exist, and a setting without a default is typed as possibly undefined.
 */
export const SERVICE_SETTINGS = {
  host: setting(Type.String({ minLength: 1 }), {
    env: 'HOST',
    description: 'Address the service listens on.',
    default: '127.0.0.1',
  }),
  port: setting(wholeNumber(0, 65535), {
    env: 'PORT',
    description: 'TCP port the service listens on (0 picks a free one).',
    default: '8080',
  }),
  logLevel: setting(oneOf(LOG_LEVELS), {
    env: 'LOG_LEVEL',
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
    default: 'info',
  }),
  publicUrl: setting(Type.String({ pattern: '^https?://[^\\s/]+(/\\S*)?$' }), {
    env: 'PUBLIC_URL',
    description:
      'The URL people reach this service by (e.g. `https://enrich.example.com`). Its host is the one, beside loopback names, that the /alerts routes answer to: a page that points its own name at this address (DNS rebinding) is refused.',
    default: undefined,
  }),
  runToken: setting(Type.String({ minLength: 8 }), {
    env: 'RUN_TOKEN',
    description: 'When set, POST /run requires `Authorization: Bearer <RUN_TOKEN>`. Health stays open.',
    default: undefined,
    secret: true,
  }),
  statusToken: setting(Type.String({ minLength: 8 }), {
    env: 'STATUS_TOKEN',
    description:
      'The token GET /status.json asks of clients that are not on this machine (`Authorization: Bearer <STATUS_TOKEN>`; the page asks for it once per tab). Unset: the status is shown to loopback clients only. Behind a reverse proxy on the same machine, set TRUST_PROXY so the client is told apart.',
    default: undefined,
    secret: true,
  }),
  runAuth: setting(oneOf(['on', 'off']), {
    env: 'RUN_AUTH',
    description:
      'Bearer auth on /run: `on` (default) or `off`. When HOST is not a loopback address the service refuses to start without RUN_TOKEN, unless RUN_AUTH=off is set explicitly (then a warning at start-up and in /health).',
    default: 'on',
  }),
  bodyLimit: setting(wholeNumber(1024, 64 * 1024 * 1024), {
    env: 'BODY_LIMIT',
    description: 'Largest accepted request body in bytes (larger: 413).',
    default: '1048576',
  }),
  requestTimeoutMs: setting(wholeNumber(100, 600_000), {
    env: 'REQUEST_TIMEOUT_MS',
    description:
      'A request (headers and body) must arrive whole within this many ms; a slower one gets 408 and its connection is closed.',
    default: '10000',
  }),
  maxConnections: setting(wholeNumber(1, 1_000_000), {
    env: 'MAX_CONNECTIONS',
    description:
      'Most open connections served in all; a request on a connection past it is answered 503 with Retry-After (beyond twice it, a connection is closed at once).',
    default: '1024',
  }),
  maxConnectionsPerClient: setting(wholeNumber(0, 1_000_000), {
    env: 'MAX_CONNECTIONS_PER_CLIENT',
    description:
      "Most open connections served from one client address; a request past it is answered 503 with Retry-After. 0 (the default) is no cap: behind ThreatConnect's playbook server or a reverse proxy every caller is one address. Set it when the service is exposed to clients directly.",
    default: '0',
  }),
  maxVendorLookups: setting(wholeNumber(1, 1_000_000), {
    env: 'MAX_VENDOR_LOOKUPS',
    description:
      'Most vendor lookups (indicators x vendor sources) one /run may ask for; a larger batch is refused up front with 413 BATCH_TOO_LARGE. Bounds the reply and the memory a run can take.',
    default: '2000',
  }),
  maxIndicators: setting(wholeNumber(1, 100000), {
    env: 'MAX_INDICATORS',
    description: 'Most indicators accepted in one /run array.',
    default: '10000',
  }),
  maxIndicatorLength: setting(wholeNumber(16, 65536), {
    env: 'MAX_INDICATOR_LENGTH',
    description: 'Longest accepted indicator, in characters.',
    default: '8192',
  }),
  indicatorConcurrency: setting(wholeNumber(1, 256), {
    env: 'INDICATOR_CONCURRENCY',
    description: 'Indicators of one array enriched at the same time.',
    default: '8',
  }),
  runTimeoutMs: setting(wholeNumber(100, 3_600_000), {
    env: 'RUN_TIMEOUT_MS',
    description:
      'Deadline of one whole /run in ms, write-back included; what is still outstanding then is cancelled and reported as failed (timeout). On SIGTERM the service exits within this plus 5 s.',
    default: '30000',
  }),
  tcProxyHost: setting(Type.String(), {
    env: 'TC_PROXY_HOST',
    description: 'Forward proxy host (ThreatConnect tc_proxy_host).',
    default: undefined,
  }),
  tcProxyPort: setting(wholeNumber(1, 65535), {
    env: 'TC_PROXY_PORT',
    description: 'Forward proxy port (tc_proxy_port).',
    default: undefined,
  }),
  tcProxyUsername: setting(Type.String(), {
    env: 'TC_PROXY_USERNAME',
    description: 'Forward proxy user (tc_proxy_username).',
    default: undefined,
  }),
  tcProxyPassword: setting(Type.String(), {
    env: 'TC_PROXY_PASSWORD',
    description: 'Forward proxy password (tc_proxy_password).',
    default: undefined,
    secret: true,
  }),
  tcProxyExternal: setting(Type.Boolean(), {
    env: 'TC_PROXY_EXTERNAL',
    description: 'Send vendor calls through the proxy (tc_proxy_external).',
    default: 'false',
  }),
  tcProxyTc: setting(Type.Boolean(), {
    env: 'TC_PROXY_TC',
    description: 'Send ThreatConnect API calls through the proxy (tc_proxy_tc).',
    default: 'false',
  }),
  tcVerify: setting(Type.Boolean(), {
    env: 'TC_VERIFY',
    description: 'Verify TLS certificates of outside calls (tc_verify).',
    default: 'true',
  }),
  authFailureLimit: setting(rateLimitOrOff, {
    env: 'AUTH_FAILURE_LIMIT',
    description:
      'Most failed bearer authentications per client address per window (every replica together with REDIS_URL), e.g. `10/1m`; past it every call from that address gets 429 with Retry-After until the window frees up, whatever token it sends. `off` turns it off.',
    default: '10/1m',
  }),
  runRateLimit: setting(rateLimitOrOff, {
    env: 'RUN_RATE_LIMIT',
    description:
      'Most POST /run calls per client IP address per window, e.g. `120/1m`, `20/1s`; over it: 429 with Retry-After. `off` turns it off.',
    default: '120/1m',
  }),
  redisUrl: setting(Type.String({ pattern: '^rediss?://' }), {
    env: 'REDIS_URL',
    description:
      'Redis shared by every replica, e.g. `redis://127.0.0.1:6379/0` (`rediss://` for TLS): vendor quotas, the finding cache, write-back locks, the /run limit and open circuits are then shared. Unset: all of it in process.',
    default: undefined,
    secret: true,
  }),
  redisPrefix: setting(Type.String({ minLength: 1, maxLength: 64 }), {
    env: 'REDIS_PREFIX',
    description: 'Prefix of every key the service writes in Redis.',
    default: 'tce:',
  }),
  replicas: setting(wholeNumber(1, 1000), {
    env: 'REPLICAS',
    description:
      "How many replicas share the vendor quotas. While Redis is unreachable each replica keeps to 1/REPLICAS of every quota (after the window that was running passes), so the fleet stays under the vendor's limit.",
    default: '1',
  }),
  trustProxy: setting(trustProxyList, {
    env: 'TRUST_PROXY',
    description:
      'Addresses or CIDRs of the load balancers in front of the service, comma-separated: a request from one of them is counted by its X-Forwarded-For client address. Unset: forwarded headers are ignored.',
    default: undefined,
  }),
  maxEventLoopDelayMs: setting(wholeNumber(0, 60_000), {
    env: 'MAX_EVENT_LOOP_DELAY_MS',
    description:
      'When the event loop lags more than this (ms), requests (health included) get 503 with Retry-After until it recovers; 0 turns it off.',
    default: '1000',
  }),
} as const

export type SettingValue<S> =
  S extends Setting<infer T, infer D> ? StaticDecode<T> | (D extends string ? never : undefined) : never
/** The service's own settings, typed from their schemas. */
type ServiceSettings = {
  readonly [K in keyof typeof SERVICE_SETTINGS]: SettingValue<(typeof SERVICE_SETTINGS)[K]>
}

export interface ServiceConfig extends ServiceSettings {
  /** The ThreatConnect API profiles for write-back, from the settings only (a request may pick a profile by name). */
  readonly platform: PlatformProfiles
  /** Per source id, its declared settings keyed by setting key (env value or default). */
  readonly sources: Readonly<Record<string, Readonly<Record<string, string | undefined>>>>
}

/** Text to the schema's type; an integer's text is read as a number first, so `1.5` fails instead of becoming 1. */
const convert = (schema: TSchema, raw: string): unknown =>
  Value.Convert((schema as { type?: unknown }).type === 'integer' ? Type.Number() : schema, raw)

/** What is wrong with a value, in words; a secret's value is never repeated. */
const problemOf = (s: Setting, raw: string): string => {
  const shown = s.secret ? '' : `'${raw.slice(0, 60)}' `
  const literals = (s.schema as { anyOf?: { const?: unknown }[] }).anyOf?.map((x) => x.const)
  if (literals !== undefined && literals.every((c) => typeof c === 'string'))
    return `${shown}is not one of ${literals.join(', ')}`
  return `${shown}${Value.Errors(s.schema, convert(s.schema, raw))[0]?.message ?? 'does not fit'}`
}

/** One setting's value from the environment: converted, checked against its schema, decoded; or a problem. */
const readSetting = (
  s: Setting,
  env: Readonly<Record<string, string | undefined>>,
): { value: unknown } | { problem: string } => {
  const given = env[s.env]
  const raw = given === undefined || given === '' ? s.default : given
  if (raw === undefined) return { value: undefined }
  const converted = convert(s.schema, raw)
  if (!Value.Check(s.schema, converted)) return { problem: `${s.env}: ${problemOf(s, raw)}` }
  try {
    return { value: Value.Decode(s.schema, converted) }
  } catch (err) {
    return { problem: `${s.env}: ${(err as Error).message}` }
  }
}

export interface SettingRow {
  readonly env: string
  readonly description: string
  readonly default: string | undefined
  readonly secret: boolean
  readonly param: string | undefined
}

/** Every environment variable the service reads, for the docs table and `--help`. */
export const settingRows = (sources: readonly SourceSettingsOwner[]): SettingRow[] => [
  ...Object.values<Setting>(SERVICE_SETTINGS).map((s) => ({
    env: s.env,
    description: s.description,
    default: s.default,
    secret: s.secret,
    param: undefined,
  })),
  ...PLATFORM_ENV_SETTINGS.map((s) => ({
    env: s.env,
    description: s.description,
    default: s.default,
    secret: s.secret,
    param: undefined,
  })),
  ...sources.flatMap((src) =>
    src.settings.map((s) => ({
      env: s.env,
      description: `${src.title}: ${s.description}`,
      default: s.default,
      secret: s.secret ?? false,
      param: s.param,
    })),
  ),
]

/** 127.0.0.0/8, ::1 and localhost: only this machine can reach the service there. */
export const isLoopbackHost = (host: string): boolean => {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
}

/** /run without a token on an address others can reach: refused at start-up unless RUN_AUTH=off. */
const openOffLoopback = (host: string, runToken: unknown): boolean => runToken === undefined && !isLoopbackHost(host)

/** Open /run on a non-loopback address: only with RUN_AUTH=off, and then said at start-up and in /health. */
export const runAuthWarning = (config: Pick<ServiceConfig, 'host' | 'runToken'>): string | undefined =>
  openOffLoopback(config.host, config.runToken)
    ? `RUN_AUTH=off: POST /run accepts calls without a token on ${config.host}; anyone who reaches this address can use it`
    : undefined

/** Every setting of a table read from the environment: the values by key, and each problem naming its variable. */
export const readSettings = (
  table: Readonly<Record<string, Setting>>,
  env: Readonly<Record<string, string | undefined>>,
): { values: Record<string, unknown>; problems: string[] } => {
  const values: Record<string, unknown> = {}
  const problems: string[] = []
  for (const [key, s] of Object.entries(table)) {
    const read = readSetting(s, env)
    if ('problem' in read) problems.push(read.problem)
    else values[key] = read.value
  }
  return { values, problems }
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid service settings:\n${problems.map((p) => `  ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Reads and validates every setting; throws ConfigError naming each bad variable. */
export const loadServiceConfig = (
  env: Readonly<Record<string, string | undefined>>,
  sources: readonly SourceSettingsOwner[],
): ServiceConfig => {
  const { values, problems } = readSettings(SERVICE_SETTINGS, env)
  const sourceValues: Record<string, Record<string, string | undefined>> = {}
  for (const src of sources) {
    const own: Record<string, string | undefined> = {}
    for (const s of src.settings) {
      const raw = env[s.env]
      own[s.key] = raw === undefined || raw === '' ? s.default : raw
    }
    sourceValues[src.id] = own
  }
  const platform = platformProfilesFromEnv(env)
  problems.push(...platform.problems)
  const host = values['host']
  if (typeof host === 'string' && openOffLoopback(host, values['runToken']) && values['runAuth'] !== 'off') {
    problems.push(
      `RUN_TOKEN: required when HOST (${host}) is not a loopback address; set RUN_TOKEN, or RUN_AUTH=off to run /run without auth`,
    )
  }
  if (values['runAuth'] === 'off' && values['runToken'] !== undefined) {
    problems.push('RUN_AUTH: off contradicts RUN_TOKEN; unset one of them')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  // Every value was checked against its setting's schema above, so the record has ServiceSettings' shape.
  return { ...(values as ServiceSettings), platform: platform.profiles, sources: sourceValues }
}
