/**
 * A validated /run body -> what the run needs. The body already passed the schema derived from the params,
 * so this only reshapes: one-or-many indicators, the MultiChoice "a|b" form, the platform's "true"/"false".
 */
import type { AppConfig } from '../contract/types.js'
import { INDICATOR_TYPES, type IndicatorType, type RequestedType } from '../indicators/types.js'

/** One indicator as sent: a string, or a TCEntity ({id, type, value}) whose type then sets the indicator type. */
export interface IndicatorItem {
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

const toItem = (v: unknown): IndicatorItem => {
  if (typeof v === 'object' && v !== null) {
    const entity = v as { type?: unknown; value?: unknown }
    return { value: String(entity.value), type: isIndicatorType(entity.type) ? entity.type : undefined }
  }
  return { value: String(v), type: undefined }
}

const asBoolean = (v: unknown): boolean => v === true || v === 'true'

const asList = (v: unknown, delimiter: string): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(delimiter) : []

const defaultOf = (config: AppConfig, name: string): unknown => config.params.find((p) => p.name === name)?.default

export const readRunRequest = (body: Readonly<Record<string, unknown>>, config: AppConfig): RunRequest => {
  // "" is how a playbook sends an input left empty: not set, so the param's default applies.
  const pick = (name: string): unknown => (body[name] === '' || body[name] === undefined ? defaultOf(config, name) : body[name])
  const indicator = body['indicator']
  return {
    indicators: (Array.isArray(indicator) ? indicator : [indicator]).map(toItem),
    batch: Array.isArray(indicator),
    requestedType: String(pick('indicator_type') ?? 'Auto') as RequestedType,
    sources: [...new Set(asList(pick('sources'), config.listDelimiter))],
    writeNote: asBoolean(pick('write_note')),
    forceRefresh: asBoolean(pick('force_refresh')),
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
