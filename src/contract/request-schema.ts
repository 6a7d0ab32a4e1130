/**
 * Derives the POST /run body schema from app.config.json params, so params are declared once: required ones,
 * Choice values as enums, Booleans (true/false or "true"/"false", as the platform sends strings), MultiChoice as an
 * array of its values or one listDelimiter-joined string, StringArray-capable strings as string | string[].
 */
import { Type, type TSchema, type TObject } from 'typebox'
import { INDICATOR_TYPES } from '../indicators/types.js'
import type { AppConfig, Param } from './types.js'

export interface RequestLimits {
  readonly maxIndicators: number
  readonly maxIndicatorLength: number
}

const isSpecial = (v: string): boolean => v.startsWith('${')

/** ${TEXT}, ${KEYCHAIN} and ${FILE} say how a value is entered; the others name a list the platform fills in. */
export const isExpandedList = (v: string): boolean => isSpecial(v) && !['${TEXT}', '${KEYCHAIN}', '${FILE}'].includes(v)

export const choiceValues = (param: Param): string[] => (param.validValues ?? []).filter((v) => !isSpecial(v))

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Unset inputs ("" or "<null>") never reach the schema: the route drops them first (./unset-params.ts). */
const paramSchema = (param: Param, config: AppConfig, limits: RequestLimits): TSchema => {
  const meta = {
    description: param.note ?? param.label,
    ...(param.default !== undefined ? { default: param.default } : {}),
  }
  switch (param.type) {
    case 'Boolean':
      return Type.Union([Type.Boolean(), Type.Enum(['true', 'false'])], meta)
    case 'Choice':
      // A Choice over a list the platform expands (${OWNERS}, ...) takes any of that list's names: text.
      if ((param.validValues ?? []).some(isExpandedList)) return Type.String({ ...meta, maxLength: 256 })
      return Type.Enum(choiceValues(param), meta)
    case 'MultiChoice': {
      const values = choiceValues(param)
      const one = `(${values.map(escapeRegex).join('|')})`
      const joined = `^${one}(${escapeRegex(config.listDelimiter)}${one})*$`
      return Type.Union(
        [Type.Array(Type.Enum(values), { minItems: 1, uniqueItems: true }), Type.String({ pattern: joined })],
        meta,
      )
    }
    default: {
      const text = Type.String({ minLength: 1, maxLength: limits.maxIndicatorLength })
      const types = param.playbookDataType ?? []
      // A TCEntity, as a UserAction trigger passes it: its type (a ThreatConnect indicator type) sets indicator_type.
      const entity = Type.Object(
        {
          id: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
          type: Type.Enum([...INDICATOR_TYPES]),
          value: text,
        },
        { additionalProperties: true, description: 'TCEntity {id, type, value}' },
      )
      const one = types.includes('TCEntity') ? [text, entity] : [text]
      const item = types.includes('TCEntityArray') ? Type.Union([text, entity]) : text
      if (types.includes('StringArray') || types.includes('TCEntityArray')) {
        return Type.Union([...one, Type.Array(item, { minItems: 1, maxItems: limits.maxIndicators })], meta)
      }
      if (one.length > 1) return Type.Union(one, meta)
      return Type.String({ ...meta, ...(param.encrypt ? { writeOnly: true } : {}) })
    }
  }
}

export const deriveRunBodySchema = (
  config: AppConfig,
  limits: RequestLimits,
  extra: Record<string, TSchema> = {},
): TObject => {
  const properties: Record<string, TSchema> = {}
  for (const param of config.params) {
    const schema = paramSchema(param, config, limits)
    properties[param.name] = param.required ? schema : Type.Optional(schema)
  }
  return Type.Object({ ...properties, ...extra }, { additionalProperties: false })
}
