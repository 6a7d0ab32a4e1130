/**
 * Per-request ThreatConnect settings: request params (what the playbook passes) over the service's env defaults.
 * "Configured" means an API path plus credentials (an HMAC pair or a token); HMAC wins when both are present.
 */
import type { PlatformCredentials } from './hmac.js'

export interface PlatformEnvSetting {
  readonly env: string
  /** The request param that overrides it. */
  readonly param: string
  readonly description: string
  readonly default: string | undefined
  readonly secret: boolean
}

/** The env settings this module reads, shaped like config/env.ts SettingRow so the lead can merge them into the docs table. */
export const PLATFORM_ENV_SETTINGS: readonly PlatformEnvSetting[] = [
  {
    env: 'TC_API_PATH',
    param: 'tc_api_path',
    description: 'ThreatConnect API base URL for note write-back, e.g. `https://companyabc.threatconnect.com` (a trailing `/api` is dropped).',
    default: undefined,
    secret: false,
  },
  {
    env: 'TC_API_ACCESS_ID',
    param: 'tc_api_access_id',
    description: 'ThreatConnect API user Access ID (HMAC authentication, used with TC_API_SECRET_KEY).',
    default: undefined,
    secret: false,
  },
  {
    env: 'TC_API_SECRET_KEY',
    param: 'tc_api_secret_key',
    description: 'ThreatConnect API user Secret Key (HMAC authentication).',
    default: undefined,
    secret: true,
  },
  {
    env: 'TC_TOKEN',
    param: 'tc_token',
    description: 'ThreatConnect API token (`TC-Token` authentication); used only when no Access ID/Secret Key pair is set.',
    default: undefined,
    secret: true,
  },
  {
    env: 'TC_OWNER',
    param: 'owner',
    description: "ThreatConnect owner (organization, community or source) to write to; empty means the API user's organization.",
    default: undefined,
    secret: false,
  },
]

/** Service-level defaults, read once from the environment. */
export interface PlatformDefaults {
  readonly apiPath?: string | undefined
  readonly accessId?: string | undefined
  readonly secretKey?: string | undefined
  readonly token?: string | undefined
  readonly owner?: string | undefined
}

type Values = Readonly<Record<string, string | undefined>>

const present = (v: string | undefined): string | undefined => {
  const t = v?.trim()
  return t === undefined || t === '' ? undefined : t
}

export const platformDefaultsFromEnv = (env: Values): PlatformDefaults => ({
  apiPath: present(env['TC_API_PATH']),
  accessId: present(env['TC_API_ACCESS_ID']),
  secretKey: present(env['TC_API_SECRET_KEY']),
  token: present(env['TC_TOKEN']),
  owner: present(env['TC_OWNER']),
})

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

/** Each value: the request param when given and non-empty, else the env default. */
export const resolvePlatformSettings = (params: Values, defaults: PlatformDefaults): PlatformSettings => {
  const pick = (param: string, fallback: string | undefined): string | undefined => present(params[param]) ?? fallback
  const rawPath = pick('tc_api_path', defaults.apiPath)
  const accessId = pick('tc_api_access_id', defaults.accessId)
  const secretKey = pick('tc_api_secret_key', defaults.secretKey)
  const token = pick('tc_token', defaults.token)
  const owner = pick('owner', defaults.owner)

  if (rawPath === undefined) {
    return { configured: false, owner, reason: 'ThreatConnect API not configured: set TC_API_PATH or the tc_api_path param' }
  }
  const apiPath = normaliseApiPath(rawPath)
  if (apiPath === undefined) {
    return { configured: false, owner, reason: `tc_api_path '${rawPath}' is not an http(s) URL without query` }
  }
  if (accessId !== undefined && secretKey !== undefined) {
    return { configured: true, apiPath, owner, credentials: { kind: 'hmac', accessId, secretKey } }
  }
  if (token !== undefined) return { configured: true, apiPath, owner, credentials: { kind: 'token', token } }
  if (accessId !== undefined || secretKey !== undefined) {
    const missing = accessId === undefined ? 'TC_API_ACCESS_ID / tc_api_access_id' : 'TC_API_SECRET_KEY / tc_api_secret_key'
    return { configured: false, owner, reason: `ThreatConnect credentials incomplete: ${missing} is not set` }
  }
  return {
    configured: false,
    owner,
    reason: 'ThreatConnect credentials not configured: set TC_API_ACCESS_ID + TC_API_SECRET_KEY (or tc_api_access_id + tc_api_secret_key), or TC_TOKEN / tc_token',
  }
}
