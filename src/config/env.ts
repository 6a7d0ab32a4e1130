/**
 * Service settings from environment variables: ONE table (SERVICE_SETTINGS plus each source's declared
 * settings) drives parsing, start-up validation and the docs' settings table.
 */
import { PLATFORM_ENV_SETTINGS, platformProfilesFromEnv, type PlatformProfiles } from './platform.js'
import { parseRateLimit, type RateLimit } from './rate-limit.js'

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

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export interface ServiceConfig {
  readonly host: string
  readonly port: number
  readonly logLevel: LogLevel
  /** When set, POST /run needs `Authorization: Bearer <token>`. */
  readonly runToken: string | undefined
  /** `off` only when the operator turned auth off explicitly (RUN_AUTH=off); then /run is open even off loopback. */
  readonly runAuth: 'on' | 'off'
  readonly bodyLimit: number
  /** A request must arrive whole within this (ms), else 408. */
  readonly requestTimeoutMs: number
  readonly maxConnections: number
  readonly maxConnectionsPerClient: number
  /** Most vendor lookups (indicators x vendor sources) one /run may ask for. */
  readonly maxVendorLookups: number
  readonly maxIndicators: number
  readonly maxIndicatorLength: number
  /** How many indicators of one array are enriched at once. */
  readonly indicatorConcurrency: number
  /** Deadline of one /run: source calls still outstanding then are cancelled and reported as timed out. */
  readonly runTimeoutMs: number
  /** ThreatConnect-style proxy settings: used for vendors only when tcProxyExternal, for the platform only when tcProxyTc. */
  readonly tcProxyHost: string | undefined
  readonly tcProxyPort: number | undefined
  readonly tcProxyUsername: string | undefined
  readonly tcProxyPassword: string | undefined
  readonly tcProxyExternal: boolean
  readonly tcProxyTc: boolean
  /** Verify TLS certificates of outside calls. */
  readonly tcVerify: boolean
  /** Most /run calls one client (IP address) may make per window; undefined when off. */
  readonly runRateLimit: RateLimit | undefined
  /** Event-loop delay (ms) over which requests get 503 + Retry-After; 0 turns the check off. */
  readonly maxEventLoopDelayMs: number
  /** The ThreatConnect API profiles for write-back, from the settings only (a request may pick a profile by name). */
  readonly platform: PlatformProfiles
  /** Per source id, its declared settings keyed by setting key (env value or default). */
  readonly sources: Readonly<Record<string, Readonly<Record<string, string | undefined>>>>
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string }

interface SettingSpec<K extends keyof ServiceConfig = keyof ServiceConfig> {
  readonly env: string
  readonly key: K
  readonly description: string
  readonly default: string | undefined
  readonly secret?: boolean
  parse(raw: string): Parsed<ServiceConfig[K]>
}

const int =
  (min: number, max: number) =>
  (raw: string): Parsed<number> => {
    if (!/^\d+$/.test(raw)) return { ok: false, problem: `'${raw}' is not a whole number` }
    const n = Number(raw)
    return n < min || n > max ? { ok: false, problem: `${n} is outside ${min}..${max}` } : { ok: true, value: n }
  }

const text = (raw: string): Parsed<string> => ({ ok: true, value: raw })

const bool = (raw: string): Parsed<boolean> => {
  const v = raw.toLowerCase()
  if (v === 'true' || v === '1') return { ok: true, value: true }
  if (v === 'false' || v === '0') return { ok: true, value: false }
  return { ok: false, problem: `'${raw}' is not true or false` }
}

const rateLimitOrOff = (raw: string): Parsed<RateLimit | undefined> => {
  if (raw.toLowerCase() === 'off') return { ok: true, value: undefined }
  try {
    return { ok: true, value: parseRateLimit(raw) }
  } catch (err) {
    return { ok: false, problem: `${(err as Error).message}, or off` }
  }
}

const setting = <K extends keyof ServiceConfig>(s: SettingSpec<K>): SettingSpec<K> => s

export const SERVICE_SETTINGS = [
  setting({ env: 'HOST', key: 'host', description: 'Address the service listens on.', default: '127.0.0.1', parse: text }),
  setting({ env: 'PORT', key: 'port', description: 'TCP port the service listens on (0 picks a free one).', default: '8080', parse: int(0, 65535) }),
  setting({
    env: 'LOG_LEVEL',
    key: 'logLevel',
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
    default: 'info',
    parse: (raw) =>
      (LOG_LEVELS as readonly string[]).includes(raw)
        ? { ok: true, value: raw as LogLevel }
        : { ok: false, problem: `'${raw}' is not one of ${LOG_LEVELS.join(', ')}` },
  }),
  setting({
    env: 'RUN_TOKEN',
    key: 'runToken',
    description: 'When set, POST /run requires `Authorization: Bearer <RUN_TOKEN>`. Health stays open.',
    default: undefined,
    secret: true,
    parse: (raw) => (raw.length >= 8 ? { ok: true, value: raw } : { ok: false, problem: 'must be at least 8 characters' }),
  }),
  setting({
    env: 'RUN_AUTH',
    key: 'runAuth',
    description:
      'Bearer auth on /run: `on` (default) or `off`. When HOST is not a loopback address the service refuses to start without RUN_TOKEN, unless RUN_AUTH=off is set explicitly (then a warning at start-up and in /health).',
    default: 'on',
    parse: (raw) => (raw === 'on' || raw === 'off' ? { ok: true, value: raw } : { ok: false, problem: `'${raw.slice(0, 40)}' is not on or off` }),
  }),
  setting({ env: 'BODY_LIMIT', key: 'bodyLimit', description: 'Largest accepted request body in bytes (larger: 413).', default: '1048576', parse: int(1024, 64 * 1024 * 1024) }),
  setting({ env: 'REQUEST_TIMEOUT_MS', key: 'requestTimeoutMs', description: 'A request (headers and body) must arrive whole within this many ms; a slower one gets 408 and its connection is closed.', default: '10000', parse: int(100, 600_000) }),
  setting({ env: 'MAX_CONNECTIONS', key: 'maxConnections', description: 'Most open connections in all; a new one past it is closed at once.', default: '1024', parse: int(1, 1_000_000) }),
  setting({ env: 'MAX_CONNECTIONS_PER_CLIENT', key: 'maxConnectionsPerClient', description: 'Most open connections from one client address; a new one past it is closed at once.', default: '64', parse: int(1, 1_000_000) }),
  setting({ env: 'MAX_VENDOR_LOOKUPS', key: 'maxVendorLookups', description: 'Most vendor lookups (indicators x vendor sources) one /run may ask for; a larger batch is refused up front with 413 BATCH_TOO_LARGE. Bounds the reply and the memory a run can take.', default: '2000', parse: int(1, 1_000_000) }),
  setting({ env: 'MAX_INDICATORS', key: 'maxIndicators', description: 'Most indicators accepted in one /run array.', default: '10000', parse: int(1, 100000) }),
  setting({ env: 'MAX_INDICATOR_LENGTH', key: 'maxIndicatorLength', description: 'Longest accepted indicator, in characters.', default: '8192', parse: int(16, 65536) }),
  setting({ env: 'INDICATOR_CONCURRENCY', key: 'indicatorConcurrency', description: 'Indicators of one array enriched at the same time.', default: '8', parse: int(1, 256) }),
  setting({ env: 'RUN_TIMEOUT_MS', key: 'runTimeoutMs', description: 'Deadline of one whole /run in ms, write-back included; what is still outstanding then is cancelled and reported as failed (timeout). On SIGTERM the service exits within this plus 5 s.', default: '30000', parse: int(100, 3_600_000) }),
  setting({ env: 'TC_PROXY_HOST', key: 'tcProxyHost', description: 'Forward proxy host (ThreatConnect tc_proxy_host).', default: undefined, parse: text }),
  setting({ env: 'TC_PROXY_PORT', key: 'tcProxyPort', description: 'Forward proxy port (tc_proxy_port).', default: undefined, parse: int(1, 65535) }),
  setting({ env: 'TC_PROXY_USERNAME', key: 'tcProxyUsername', description: 'Forward proxy user (tc_proxy_username).', default: undefined, parse: text }),
  setting({ env: 'TC_PROXY_PASSWORD', key: 'tcProxyPassword', description: 'Forward proxy password (tc_proxy_password).', default: undefined, secret: true, parse: text }),
  setting({ env: 'TC_PROXY_EXTERNAL', key: 'tcProxyExternal', description: 'Send vendor calls through the proxy (tc_proxy_external).', default: 'false', parse: bool }),
  setting({ env: 'TC_PROXY_TC', key: 'tcProxyTc', description: 'Send ThreatConnect API calls through the proxy (tc_proxy_tc).', default: 'false', parse: bool }),
  setting({ env: 'TC_VERIFY', key: 'tcVerify', description: 'Verify TLS certificates of outside calls (tc_verify).', default: 'true', parse: bool }),
  setting({ env: 'RUN_RATE_LIMIT', key: 'runRateLimit', description: 'Most POST /run calls per client IP address per window, e.g. `120/1m`, `20/1s`; over it: 429 with Retry-After. `off` turns it off.', default: '120/1m', parse: rateLimitOrOff }),
  setting({ env: 'MAX_EVENT_LOOP_DELAY_MS', key: 'maxEventLoopDelayMs', description: 'When the event loop lags more than this (ms), requests (health included) get 503 with Retry-After until it recovers; 0 turns it off.', default: '1000', parse: int(0, 60_000) }),
] as const

/**
 * Every setting of ServiceConfig has its row above: a field added without one fails to compile here, instead of
 * compiling into a value that is always undefined.
 */
type SettingKey = (typeof SERVICE_SETTINGS)[number]['key']
type MissingSetting = Exclude<keyof Omit<ServiceConfig, 'sources' | 'platform'>, SettingKey>
const everySettingHasARow: [MissingSetting] extends [never] ? true : MissingSetting = true
void everySettingHasARow

export interface SettingRow {
  readonly env: string
  readonly description: string
  readonly default: string | undefined
  readonly secret: boolean
  readonly param: string | undefined
}

/** Every environment variable the service reads, for the docs table and `--help`. */
export const settingRows = (sources: readonly SourceSettingsOwner[]): SettingRow[] => [
  ...SERVICE_SETTINGS.map((s) => ({ env: s.env, description: s.description, default: s.default, secret: s.secret ?? false, param: undefined })),
  ...PLATFORM_ENV_SETTINGS.map((s) => ({ env: s.env, description: s.description, default: s.default, secret: s.secret, param: undefined })),
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
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
}

/** /run without a token on an address others can reach: refused at start-up unless RUN_AUTH=off. */
const openOffLoopback = (host: string, runToken: unknown): boolean => runToken === undefined && !isLoopbackHost(host)

/** Open /run on a non-loopback address: only with RUN_AUTH=off, and then said at start-up and in /health. */
export const runAuthWarning = (config: Pick<ServiceConfig, 'host' | 'runToken'>): string | undefined =>
  openOffLoopback(config.host, config.runToken)
    ? `RUN_AUTH=off: POST /run accepts calls without a token on ${config.host}; anyone who reaches this address can use it`
    : undefined

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
  const problems: string[] = []
  const values: Record<string, unknown> = {}
  for (const s of SERVICE_SETTINGS) {
    const raw = env[s.env]
    const effective = raw === undefined || raw === '' ? s.default : raw
    if (effective === undefined) {
      values[s.key] = undefined
      continue
    }
    const parsed = (s.parse as (raw: string) => Parsed<unknown>)(effective)
    if (parsed.ok) values[s.key] = parsed.value
    else problems.push(`${s.env}: ${parsed.problem}`)
  }
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
    problems.push(`RUN_TOKEN: required when HOST (${host}) is not a loopback address; set RUN_TOKEN, or RUN_AUTH=off to run /run without auth`)
  }
  if (values['runAuth'] === 'off' && values['runToken'] !== undefined) {
    problems.push('RUN_AUTH: off contradicts RUN_TOKEN; unset one of them')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return { ...(values as Omit<ServiceConfig, 'sources' | 'platform'>), platform: platform.profiles, sources: sourceValues }
}
