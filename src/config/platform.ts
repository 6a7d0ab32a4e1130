/**
 * The ThreatConnect API the service writes to: its path and its credentials come as ONE set from the service's
 * settings, never from a request (a request naming a host would otherwise receive the service's credentials).
 * Several instances are served through named profiles; a request may only pick one by name (`tc_profile`).
 */
/** The credentials of one ThreatConnect API user: HMAC (Access ID + Secret Key) or a token. */
export type PlatformCredentials =
  | { readonly kind: 'hmac'; readonly accessId: string; readonly secretKey: string }
  | { readonly kind: 'token'; readonly token: string }

export interface PlatformEnvSetting {
  readonly env: string
  readonly description: string
  readonly default: string | undefined
  readonly secret: boolean
}

/** The env settings of the default profile; a named profile N reads the same with the prefix `TC_PROFILE_<N>_`. */
export const PLATFORM_ENV_SETTINGS: readonly PlatformEnvSetting[] = [
  {
    env: 'TC_API_PATH',
    description:
      'ThreatConnect API base URL for note write-back, e.g. `https://companyabc.threatconnect.com` (a trailing `/api` is dropped). Only this setting chooses where credentials go.',
    default: undefined,
    secret: false,
  },
  {
    env: 'TC_API_ACCESS_ID',
    description: 'ThreatConnect API user Access ID (HMAC authentication, used with TC_API_SECRET_KEY).',
    default: undefined,
    secret: false,
  },
  {
    env: 'TC_API_SECRET_KEY',
    description: 'ThreatConnect API user Secret Key (HMAC authentication).',
    default: undefined,
    secret: true,
  },
  {
    env: 'TC_TOKEN',
    description:
      'ThreatConnect API token (`TC-Token` authentication); used only when no Access ID/Secret Key pair is set.',
    default: undefined,
    secret: true,
  },
  {
    env: 'TC_OWNER',
    description:
      "Default ThreatConnect owner to write to when a request names none (the `owner` param); empty means the API user's organization.",
    default: undefined,
    secret: false,
  },
  {
    env: 'TC_PROFILES',
    description:
      'Names of further ThreatConnect instances, comma-separated (e.g. `eu,us`). Profile N is configured by `TC_PROFILE_<N>_API_PATH`, `_API_ACCESS_ID`, `_API_SECRET_KEY`, `_TOKEN` and `_OWNER`; a request picks one with the `tc_profile` param.',
    default: undefined,
    secret: false,
  },
]

/** One profile's raw values, as read from the environment. */
export interface PlatformDefaults {
  readonly apiPath?: string | undefined
  readonly accessId?: string | undefined
  readonly secretKey?: string | undefined
  readonly token?: string | undefined
  readonly owner?: string | undefined
}

export type PlatformSettings =
  | {
      readonly configured: true
      /** Normalised base URL: no trailing slash, no trailing `/api` (every request path starts with /api). */
      readonly apiPath: string
      readonly credentials: PlatformCredentials
      readonly owner: string | undefined
    }
  | {
      readonly configured: false
      /** Why write-back cannot run, naming the settings to set. */
      readonly reason: string
      readonly owner: string | undefined
    }

/** Every profile the operator configured: the default one (no name) and the named ones. */
export interface PlatformProfiles {
  readonly default: PlatformSettings
  readonly named: ReadonlyMap<string, PlatformSettings>
}

type Values = Readonly<Record<string, string | undefined>>

const present = (v: string | undefined): string | undefined => {
  const t = v?.trim()
  return t === undefined || t === '' ? undefined : t
}

/** `https://x.threatconnect.com/api/` -> `https://x.threatconnect.com`; undefined when not an http(s) URL. */
export const normaliseApiPath = (raw: string): string | undefined => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return undefined
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/i, '')
  return `${url.origin}${path}`
}

/** The env prefix of a profile's settings: `TC_` for the default one, `TC_PROFILE_<NAME>_` for a named one. */
const profilePrefix = (name: string | undefined): string =>
  name === undefined ? 'TC_' : `TC_PROFILE_${name.toUpperCase()}_`

const readProfile = (env: Values, name: string | undefined): PlatformDefaults => {
  const p = profilePrefix(name)
  return {
    apiPath: present(env[`${p}API_PATH`]),
    accessId: present(env[`${p}API_ACCESS_ID`]),
    secretKey: present(env[`${p}API_SECRET_KEY`]),
    token: present(env[`${p}TOKEN`]),
    owner: present(env[`${p}OWNER`]),
  }
}

/** One profile's values -> settings; `problem` is set when a value is present but wrong (start-up refuses it). */
export const resolvePlatformSettings = (
  values: PlatformDefaults,
  name?: string,
): { settings: PlatformSettings; problem?: string } => {
  const p = profilePrefix(name)
  const { owner } = values
  if (values.apiPath === undefined) {
    return { settings: { configured: false, owner, reason: `ThreatConnect API not configured: set ${p}API_PATH` } }
  }
  const apiPath = normaliseApiPath(values.apiPath)
  if (apiPath === undefined) {
    const reason = `${p}API_PATH is not an http(s) URL without query or user info`
    return { settings: { configured: false, owner, reason }, problem: reason }
  }
  const { accessId, secretKey, token } = values
  if (accessId !== undefined && secretKey !== undefined) {
    return { settings: { configured: true, apiPath, owner, credentials: { kind: 'hmac', accessId, secretKey } } }
  }
  if (token !== undefined)
    return { settings: { configured: true, apiPath, owner, credentials: { kind: 'token', token } } }
  if (accessId !== undefined || secretKey !== undefined) {
    const reason = `ThreatConnect credentials incomplete: ${p}${accessId === undefined ? 'API_ACCESS_ID' : 'API_SECRET_KEY'} is not set`
    return { settings: { configured: false, owner, reason }, problem: reason }
  }
  return {
    settings: {
      configured: false,
      owner,
      reason: `ThreatConnect credentials not configured: set ${p}API_ACCESS_ID + ${p}API_SECRET_KEY, or ${p}TOKEN`,
    },
  }
}

const PROFILE_NAME = /^[a-z][a-z0-9_]{0,31}$/

/** Reads the default and the named profiles; `problems` names each bad variable (start-up refuses them all at once). */
export const platformProfilesFromEnv = (env: Values): { profiles: PlatformProfiles; problems: string[] } => {
  const problems: string[] = []
  const main = resolvePlatformSettings(readProfile(env, undefined))
  if (main.problem) problems.push(main.problem)
  const named = new Map<string, PlatformSettings>()
  for (const raw of (present(env['TC_PROFILES']) ?? '').split(',')) {
    const name = raw.trim().toLowerCase()
    if (name === '') continue
    if (!PROFILE_NAME.test(name)) {
      problems.push(
        `TC_PROFILES: '${name.slice(0, 40)}' is not a profile name (a-z, 0-9, _; starts with a letter; at most 32)`,
      )
      continue
    }
    const resolved = resolvePlatformSettings(readProfile(env, name), name)
    if (resolved.problem) problems.push(resolved.problem)
    else if (!resolved.settings.configured) problems.push(`TC_PROFILES names '${name}': ${resolved.settings.reason}`)
    named.set(name, resolved.settings)
  }
  return { profiles: { default: main.settings, named }, problems }
}

/**
 * The settings a run writes with: the profile it names (only a configured one), and its owner param over the profile's.
 */
export const platformSettingsFor = (
  profiles: PlatformProfiles,
  profile: string | undefined,
  owner: string | undefined,
): PlatformSettings | undefined => {
  const base = profile === undefined ? profiles.default : profiles.named.get(profile)
  if (base === undefined) return undefined
  return { ...base, owner: owner ?? base.owner }
}
