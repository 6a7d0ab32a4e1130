/**
 * A validated /run body -> what the run needs. The body already passed the schema derived from the params,
 * so this only reshapes: one-or-many indicators, the MultiChoice "a|b" form, the platform's "true"/"false".
 */
import type { AppConfig } from '../contract/types.js'
import type { RunBody, TCEntity } from '../contract/run-body.generated.js'
import { INDICATOR_TYPES, type IndicatorType, type RequestedType } from '../indicators/types.js'

/** One indicator as sent: a string, or a TCEntity ({id, type, value}) whose type then sets the indicator type. */
interface IndicatorItem {
  readonly value: string
  readonly type: IndicatorType | undefined
}

export interface RunRequest {
  readonly indicators: readonly IndicatorItem[]
  /** True when `indicator` came as an array: per-indicator outputs then come back as aligned arrays. */
  readonly batch: boolean
  readonly requestedType: RequestedType
  readonly sources: readonly string[]
  readonly writeNote: boolean
  readonly forceRefresh: boolean
  /** fail_on_error: a run where no source answered, or write-back failed, fails (exitCode 1, HTTP 502). */
  readonly failOnError: boolean
  /** fail_on_no_results: a run where no source had anything on the indicator (verdict unknown) fails (HTTP 404). */
  readonly failOnNoResults: boolean
  /** The ThreatConnect profile to write with (tc_profile); undefined: the default one. */
  readonly profile: string | undefined
  /** The owner to write to (owner); undefined: the profile's TC_OWNER, else the API user's organization. */
  readonly owner: string | undefined
  /** What write-back should do beyond posting the note (only when writeNote). */
  readonly writeback: {
    readonly createIndicator: boolean
    readonly applyRating: boolean
    readonly applyConfidence: boolean
    readonly applyTags: boolean
    readonly applyDescription: boolean
  }
  /** The whole body, for source settings a request may override (e.g. virustotal_api_key). */
  readonly params: Readonly<Record<string, unknown>>
}

const isIndicatorType = (v: unknown): v is IndicatorType => (INDICATOR_TYPES as readonly unknown[]).includes(v)

const toItem = (v: string | TCEntity): IndicatorItem =>
  typeof v === 'string'
    ? { value: v, type: undefined }
    : { value: v.value, type: isIndicatorType(v.type) ? v.type : undefined }

const asBoolean = (v: unknown): boolean => v === true || v === 'true'

const asText = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined)

const asList = (v: unknown, delimiter: string): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(delimiter) : []

const defaultOf = (config: AppConfig, name: string): unknown => config.params.find((p) => p.name === name)?.default

export const readRunRequest = (body: RunBody, config: AppConfig): RunRequest => {
  // Unset inputs ("" and "<null>") were dropped before validation: the param's default applies.
  const pick = (name: keyof RunBody): unknown => (body[name] === undefined ? defaultOf(config, name) : body[name])
  const { indicator } = body
  const many = (v: RunBody['indicator']): v is readonly (string | TCEntity)[] => Array.isArray(v)
  return {
    indicators: (many(indicator) ? indicator : [indicator]).map(toItem),
    batch: many(indicator),
    requestedType: String(pick('indicator_type') ?? 'Auto') as RequestedType,
    sources: [...new Set(asList(pick('sources'), config.listDelimiter))],
    writeNote: asBoolean(pick('write_note')),
    forceRefresh: asBoolean(pick('force_refresh')),
    failOnError: asBoolean(pick('fail_on_error')),
    failOnNoResults: asBoolean(pick('fail_on_no_results')),
    profile: asText(pick('tc_profile')),
    owner: asText(pick('owner')),
    writeback: {
      createIndicator: asBoolean(pick('create_indicator')),
      applyRating: asBoolean(pick('apply_rating')),
      applyConfidence: asBoolean(pick('apply_confidence')),
      applyTags: asBoolean(pick('apply_tags')),
      applyDescription: asBoolean(pick('apply_description')),
    },
    params: body,
  }
}
